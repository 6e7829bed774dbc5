"""How each direction of a bidirectional model fares against the number of frames it has seen.

    python scripts/direction_profile.py --model default --dataset data_cache/foliage_val [--bins 4]

Runs the forward and the backward cell of a ``BidirectionalRLSP`` apart on every sequence
(``run_directions``) and scores each alone and their mean (``bi`` + ``basicsr-y`` unless told). Then, per
sequence, the forward-minus-backward PSNR averaged over consecutive bins of frames. At frame ``t`` of ``T``
the forward cell has seen ``t + 1`` frames and the backward cell ``T - t``, and the content is the same for
both, so a difference falling from the first bin to the last means each direction gets worse the more frames
it has seen (drift of the recurrent state); a rising one, that each gets better (what recurrence is for).
For validation sets; on Vid4, reporting only (never for tuning).
"""

from __future__ import annotations

import argparse
from itertools import pairwise

import torch

from vsrkit import create_model
from vsrkit.degradations import get_degradation
from vsrkit.io.frames import list_sequences, read_sequence
from vsrkit.metrics.protocols import get_protocol
from vsrkit.models.rlsp import BidirectionalRLSP


def bin_means(values: list[float], bins: int) -> list[float]:
    """Means of ``values`` over ``bins`` consecutive, nearly equal parts."""
    n = len(values)
    edges = [round(i * n / bins) for i in range(bins + 1)]
    return [sum(values[a:b]) / (b - a) for a, b in pairwise(edges) if b > a]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--weights")
    parser.add_argument("--dataset", required=True, help="folder of sequence folders, or one sequence")
    parser.add_argument("--degradation", default="bi")
    parser.add_argument("--protocol", default="basicsr-y")
    parser.add_argument("--bins", type=int, default=4)
    args = parser.parse_args()
    model = create_model(args.model, weights=args.weights).eval()
    if not isinstance(model, BidirectionalRLSP):
        raise SystemExit(f"{args.model}: not a bidirectional RLSP (it has one direction)")
    degradation, protocol = get_degradation(args.degradation), get_protocol(args.protocol)
    print(f"{args.model} on {args.dataset} ({args.degradation}, {args.protocol}); "
          f"forward - backward PSNR by {args.bins} bins of frames, first to last")
    print(f"{'sequence':<16} {'frames':>6} {'forward':>8} {'backward':>8} {'mean':>8}   f-b by bin")
    for sequence in list_sequences(args.dataset):
        lr, target = degradation.pair(read_sequence(sequence), model.scale)
        with torch.inference_mode():
            forward, backward = (y[0] for y in model.run_directions(lr.unsqueeze(0)))
        scores = {name: protocol.score(out, target)
                  for name, out in (("forward", forward), ("backward", backward), ("mean", (forward + backward) / 2))}
        difference = [f["psnr"] - b["psnr"] for f, b in zip(scores["forward"]["frames"], scores["backward"]["frames"])]
        print(f"{sequence.name:<16} {lr.shape[0]:>6} " + " ".join(f"{s['psnr']:>8.3f}" for s in scores.values())
              + "   " + " ".join(f"{d:+.2f}" for d in bin_means(difference, args.bins)))


if __name__ == "__main__":
    main()
