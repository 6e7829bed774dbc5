"""How much better alignment could give a trained bidirectional RLSP: its score with its own DIS flows (on the LR
frames, as it runs) against the same weights given flows estimated on the HR frames and average-pooled to LR.

    python scripts/flow_headroom.py --model default --dataset data_cache/real_val [--dataset ...]

The HR-derived flows are not available at test time; they bound what a better flow estimator at LR could bring the
shipped weights without retraining (session 18: +0.01 to +0.09 dB per validation set). Validation sets only.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from vsrkit import create_model
from vsrkit.degradations import get_degradation
from vsrkit.io.frames import list_sequences, read_sequence
from vsrkit.metrics.protocols import get_protocol
from vsrkit.models.rlsp import BidirectionalRLSP


def hr_neighbour_flows(model: BidirectionalRLSP, hr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's own neighbour flows (its DIS settings, boundary frames replicated) estimated on the HR frames and
    pooled to LR: ``(1, T, 2, H, W)`` to the previous and to the next frame."""
    to_prev, to_next = model._neighbour_flows(hr[None])
    s = model.scale
    # Pooling by the scale and dividing by it gives LR displacements on the LR pixel grid (centred sampling: `bi`).
    return tuple(F.avg_pool2d(f[0], s)[None] / s for f in (to_prev, to_next))  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--weights")
    parser.add_argument("--dataset", action="append", required=True, help="folder of sequences (repeatable)")
    parser.add_argument("--protocol", default="basicsr-y")
    args = parser.parse_args()
    model = create_model(args.model, weights=args.weights).eval()
    if not isinstance(model, BidirectionalRLSP) or model.flow is None:
        raise SystemExit(f"{args.model}: needs a bidirectional RLSP with DIS alignment")
    degradation, protocol = get_degradation("bi"), get_protocol(args.protocol)
    print(f"{'sequence':<32} {'own flow':>9} {'HR flow':>9} {'gain':>7}")
    for dataset in args.dataset:
        own_scores, hr_scores = [], []
        for sequence in list_sequences(dataset):
            hr = read_sequence(sequence)
            lr, target = degradation.pair(hr, model.scale)
            flows = hr_neighbour_flows(model, hr)
            with torch.inference_mode():
                own = protocol.score(model(lr[None])[0], target)["psnr"]
                # An instance attribute shadows the method: this model only, for this call.
                model._neighbour_flows = lambda _lr, first=0, given=flows: tuple(f[:, first:] for f in given)  # type: ignore[method-assign]
                try:
                    given = protocol.score(model(lr[None])[0], target)["psnr"]
                finally:
                    del model._neighbour_flows
            own_scores.append(own)
            hr_scores.append(given)
            print(f"{sequence.parent.name + '/' + sequence.name:<32} {own:>9.3f} {given:>9.3f} {given - own:>+7.3f}")
        own_mean, hr_mean = sum(own_scores) / len(own_scores), sum(hr_scores) / len(hr_scores)
        print(f"{dataset + ' (mean)':<32} {own_mean:>9.3f} {hr_mean:>9.3f} {hr_mean - own_mean:>+7.3f}", flush=True)


if __name__ == "__main__":
    main()
