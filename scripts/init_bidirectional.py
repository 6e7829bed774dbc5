"""Build a bidirectional RLSP from a trained (causal) RLSP: both cells copy it, and the fusion's last
conv is zeroed (or, with ``--fusion-layers 0``, there is no fusion net), so the new model's output is
exactly the mean of the RLSP run forward and backward in time.

    # the start of configs/default_bi.yaml (a trained fusion):
    python scripts/init_bidirectional.py --from default-causal --out runs/default_bi_init.safetensors
    # the shipped `default` (no fusion; the file keeps the causal model's recipe and metrics):
    python scripts/init_bidirectional.py --from default-causal --fusion-layers 0 --out runs/default_avg.safetensors
    python scripts/ship_weights.py runs/default_avg.safetensors --name default \
        --config configs/default_dis_stage2.yaml --eval bi.json gauss.json
    # two different cells, no fusion: forward a fine-tuned cell, backward the shipped `default`'s backward cell
    python scripts/init_bidirectional.py --from rlsp-dis-10-64 --weights runs/<run>/archive/iter_N.safetensors \
        --backward-from default --preset rlsp-bi-dis-10-64 --fusion-layers 0 --backward-view rot90-ccw \
        --horizon-tau 5 --out FILE
    # a bidirectional model (e.g. the shipped `default`) whose forward cell also reads the backward run, its new
    # weights at zero (the same outputs): the start of configs/default_guided.yaml
    python scripts/init_bidirectional.py --from default --backward-guide --out runs/guided_init.safetensors
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from vsrkit import create_model
from vsrkit.layers.views import VIEWS
from vsrkit.models._registry import get_preset
from vsrkit.models.rlsp import RLSP, BidirectionalRLSP, alignment_kwargs
from vsrkit.weights.io import read_metadata, save_weights


def _weights_name(preset: str, weights: str | None) -> str:
    """A file given on the command line is named as given (its run folder tells which run); a preset's by its name."""
    if weights:
        return str(weights)
    shipped = get_preset(preset).weights
    return Path(shipped).name if shipped else "random"


def _one_cell(name: str, model: BidirectionalRLSP) -> RLSP:
    """A bidirectional model whose cells are one RLSP (a tied file such as `default-bd`) is that RLSP; else exit."""
    try:
        return model.single_cell()
    except ValueError as err:
        raise SystemExit(f"{name}: {err}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="source", default="default", help="a trained RLSP preset")
    parser.add_argument("--weights", help="its weights, when not the preset's own")
    parser.add_argument("--preset", default="rlsp-bi-dis-7-48", help="the bidirectional preset to build")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0, help="seed of the fusion's random initial weights")
    parser.add_argument("--fusion-layers", type=int, default=3, help="0: no fusion net, the plain average")
    parser.add_argument("--tied", action="store_true", help="one cell run both ways (BidirectionalRLSP tied=True)")
    parser.add_argument("--backward-view", choices=sorted(VIEWS),
                        help="view of the backward run (default: the source's, if it is bidirectional; else identity)")
    parser.add_argument("--horizon-tau", type=float,
                        help="weigh the directions by frames seen (BidirectionalRLSP horizon_tau; default: the "
                             "source's, if it is bidirectional; else 0, the plain mean)")
    parser.add_argument("--backward-from", metavar="PRESET",
                        help="a second trained RLSP for the backward cell (of a bidirectional model: its backward cell): untied")
    parser.add_argument("--backward-weights", help="its weights, when not the preset's own")
    parser.add_argument("--backward-guide", action="store_true",
                        help="the forward cell also reads the backward run (BidirectionalRLSP backward_guide), its "
                             "new weights at zero; a two-cell bidirectional source is kept as it is")
    args = parser.parse_args()
    if args.backward_from and args.tied:
        raise SystemExit("--backward-from gives the backward run its own cell: not with --tied")
    torch.manual_seed(args.seed)
    source = create_model(args.source, weights=args.weights)
    source_file = args.weights or get_preset(args.source).weights
    meta = read_metadata(source_file) if source_file is not None else {}
    # The cells are the source model: its training recipe and metrics describe them.
    extra = {k: meta[k] for k in ("recipe", "metrics", "licence") if k in meta}
    if args.backward_guide and isinstance(source, BidirectionalRLSP) and not source.tied:
        extra["composition"] = (f"{args.source} ({_weights_name(args.source, args.weights)}), its forward cell given "
                                f"the backward run as input at zero weight. {args.source} was: "
                                f"{meta.get('composition', 'not described')}")
        save_weights(source.with_backward_guide(), args.out, extra=extra)
        print(f"wrote {args.out}")
        return
    backward_view, horizon_tau = args.backward_view, args.horizon_tau
    if isinstance(source, BidirectionalRLSP):
        if backward_view is None:
            backward_view = next(name for name, view in VIEWS.items() if view == source.backward_view)
        if horizon_tau is None:
            horizon_tau = source.horizon_tau
        source = _one_cell(args.source, source)
    if not isinstance(source, RLSP):
        raise SystemExit(f"{args.source} is not an RLSP model")
    # The same alignment as the source (DIS or none, and DIS's finest scale).
    model = create_model(args.preset, value_range=source.value_range, fusion_layers=args.fusion_layers,
                         num_layers=len(source.trunk) + 1, filters=source.filters, scale=source.scale,
                         tied=args.tied, backward_view=backward_view or "identity", horizon_tau=horizon_tau or 0.0,
                         **alignment_kwargs(source.flow))
    assert isinstance(model, BidirectionalRLSP)
    model.start_from_unidirectional(source)
    if args.backward_from:
        backward = create_model(args.backward_from, weights=args.backward_weights)
        if isinstance(backward, BidirectionalRLSP):
            if backward.fusion_out is not None:
                raise SystemExit(f"{args.backward_from}: has a fusion net; its backward cell was trained for it")
            backward = backward.direction_cell("backward")
        if backward.guide_channels:
            raise SystemExit(f"{args.backward_from}: its backward cell reads a guide input; a backward cell cannot")
        model.backward_cell.load_state_dict(backward.state_dict())
    if args.backward_guide:
        if model.tied:
            raise SystemExit("--backward-guide needs two cells: not with --tied")
        model = model.with_backward_guide()
    where = _weights_name(args.source, args.weights)
    if args.backward_from:
        weighting = (f"weighted by frames seen (horizon_tau {model.horizon_tau})" if model.horizon_tau else "averaged")
        extra["composition"] = (f"forward cell {args.source} ({where}); backward cell {args.backward_from} "
                                f"({_weights_name(args.backward_from, args.backward_weights)}); "
                                f"no fusion net, the runs {weighting}")
    else:
        cells = "one cell run both ways is" if args.tied else "both cells are"
        extra["composition"] = (f"{cells} {args.source} ({where}); "
                                + ("forward and backward runs averaged" if args.fusion_layers == 0
                                   else "fusion net to be trained, its last conv zero"))
        if "composition" in meta:  # the source is itself a shipped bidirectional model: say what it was
            extra["composition"] += f". {args.source} was: {meta['composition']}"
    save_weights(model, args.out, extra=extra)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
