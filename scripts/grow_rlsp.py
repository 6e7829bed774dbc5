"""Warm-start a wider and/or deeper RLSP from a trained one (Net2Net, :meth:`vsrkit.models.rlsp.RLSP.grown`):
the new model computes the same function, up to the small noise that lets copied channels diverge.

    # the start of configs/default_grow.yaml:
    python scripts/grow_rlsp.py --from default-causal --preset rlsp-dis-10-64 --out runs/grow_init.safetensors
    # the cell of `default` (one RLSP run both ways), unchanged (same size, no noise):
    python scripts/grow_rlsp.py --from default --preset rlsp-dis-10-64 --noise 0 --out runs/default_cell.safetensors
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from vsrkit import create_model
from vsrkit.models._registry import get_preset
from vsrkit.models.rlsp import RLSP, BidirectionalRLSP, alignment_kwargs
from vsrkit.weights.io import read_metadata, save_weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="source", default="default-causal", help="a trained RLSP preset (or one RLSP run both ways)")
    parser.add_argument("--weights", help="its weights, when not the preset's own")
    parser.add_argument("--preset", default="rlsp-dis-10-64", help="the bigger RLSP preset to build")
    parser.add_argument("--noise", type=float, default=0.01, help="relative noise on copied channels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    source = create_model(args.source, weights=args.weights).float()
    if isinstance(source, BidirectionalRLSP):
        try:
            source = source.single_cell()
        except ValueError as err:
            raise SystemExit(f"{args.source}: {err}") from None
    # The source's DIS settings go with its weights: a cell trained on full-resolution flow (finest scale 0)
    # must not come out with the preset's default, which would silently change what it computes.
    alignment = {k: v for k, v in alignment_kwargs(source.flow).items() if k != "align"}
    target = create_model(args.preset, value_range=source.value_range, **alignment)
    if not isinstance(source, RLSP) or not isinstance(target, RLSP):
        raise SystemExit(f"{args.source} and {args.preset} must both be RLSP models")
    if (source.flow is None) != (target.flow is None):
        raise SystemExit(f"{args.source} and {args.preset} differ in alignment")
    grown = source.grown(num_layers=len(target.trunk) + 1, filters=target.filters, noise=args.noise,
                         generator=torch.Generator().manual_seed(args.seed))
    target.load_state_dict(grown.state_dict())  # target carries the registry's hyper-parameters
    source_file = args.weights or get_preset(args.source).weights
    meta = read_metadata(source_file) if source_file is not None else {}
    extra = {"composition": f"grown from {args.source} ({Path(source_file).name if source_file else 'random'}) "
                            f"by RLSP.grown, noise {args.noise}, seed {args.seed}"}
    if "recipe" in meta:
        extra["grown_from_recipe"] = meta["recipe"]
    save_weights(target, args.out, extra=extra)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
