"""Vid4 curve of a training run: PSNR of archived snapshots against training wall time.

Vid4 is a test set: this is for reporting only, never for choosing or tuning anything.

    python scripts/eval_checkpoints.py runs/default --out docs/default_model_curve.json \
        [--reference rlsp-7-64=/path/to/rlsp64.safetensors]

    python scripts/eval_checkpoints.py runs/davsr_tiny_r5_lr1e-3 --out docs/davsr_tiny_curve.json \
        --setting stvsr+davsr --baseline cascade-bicubic-linear --every 400
    # snapshots of a cell that ships as the forward cell of a bidirectional model, scored inside it:
    python scripts/eval_checkpoints.py runs/default_mixed_lengths4 --forward-of default \
        --out docs/default_lcm4_curve.json --setting bi+basicsr-y

Evaluates every ``RUN/archive/*.safetensors`` and ``RUN/final.safetensors`` (weights carry their
architecture and hyper-parameters) plus a baseline (bicubic), by default under ``bi`` + ``basicsr-y``
and ``gauss1.5`` + ``rlsp``; results already in ``--out`` are reused, so the script can be re-run as
snapshots appear.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from vsrkit import create_model
from vsrkit.engine.evaluate import evaluate
from vsrkit.models.rlsp import RLSP, BidirectionalRLSP, alignment_kwargs
from vsrkit.shared import shared_path
from vsrkit.weights.io import load_model, read_metadata

SETTINGS = (("bi", "basicsr-y"), ("gauss1.5", "rlsp"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--reference", action="append", default=[], help="NAME=weights.safetensors (preset NAME)")
    parser.add_argument("--dataset", type=Path, default=shared_path("data", "vid4", "GT"))
    parser.add_argument("--every", type=int, default=1, help="only snapshots at multiples of this iteration")
    parser.add_argument("--setting", action="append", default=[],
                        help="DEGRADATION+PROTOCOL to score (repeatable; default: bi+basicsr-y, gauss1.5+rlsp)")
    parser.add_argument("--baseline", default="bicubic", help="registry model scored as the baseline row")
    parser.add_argument("--forward-of", metavar="PRESET",
                        help="score each snapshot as the forward cell of this bidirectional model (its shipped "
                             "weights for the rest), not alone")
    args = parser.parse_args()
    settings = [tuple(s.split("+", 1)) for s in args.setting] or list(SETTINGS)
    torch.set_num_threads(1)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"snapshots": {}, "baselines": {}}

    def score(model, key: str, bucket: dict) -> None:
        for degradation, protocol in settings:
            name = f"{degradation}+{protocol}"
            if name in bucket.setdefault(key, {}):
                continue
            report = evaluate(model, args.dataset, degradation=degradation, protocol=protocol)
            bucket[key][name] = {"psnr": report["mean"]["psnr"], "ssim": report["mean"]["ssim"],
                                 "sequences": {k: v["psnr"] for k, v in report["sequences"].items()}}
            print(key, name, f"{report['mean']['psnr']:.3f}", flush=True)
            args.out.write_text(json.dumps(results, indent=1))

    score(create_model(args.baseline), args.baseline, results["baselines"])
    for item in args.reference:
        preset, weights = item.split("=", 1)
        score(create_model(preset, weights=weights), preset, results["baselines"])
    snapshots = sorted((args.run / "archive").glob("*.safetensors"))
    if (args.run / "final.safetensors").is_file():
        snapshots.append(args.run / "final.safetensors")
    for path in snapshots:
        meta = read_metadata(path)
        iteration = json.loads(meta["recipe"])["iterations"]
        if iteration % args.every and path.name != "final.safetensors":
            continue
        metrics = json.loads(meta.get("metrics", "{}"))
        key = f"iter_{iteration:07d}"
        results["snapshots"].setdefault(key, {})["wall_time_s"] = metrics.get("wall_time_s")
        results["snapshots"][key]["iteration"] = iteration
        score(load_model(path) if args.forward_of is None else with_forward_cell(args.forward_of, path),
              key, results["snapshots"])


def with_forward_cell(preset: str, snapshot: Path) -> BidirectionalRLSP:
    """``preset`` (a bidirectional RLSP with its shipped weights) with ``snapshot``'s causal cell as its forward cell."""
    model = create_model(preset)
    cell = load_model(snapshot)
    if not isinstance(model, BidirectionalRLSP) or model.tied or not isinstance(cell, RLSP):
        raise SystemExit(f"--forward-of {preset}: needs an untied bidirectional RLSP and RLSP snapshots")
    if alignment_kwargs(cell.flow) != alignment_kwargs(model.flow):
        raise SystemExit(f"{snapshot}: its flow settings differ from {preset}'s")
    model.forward_cell.load_state_dict(cell.state_dict())
    return model


if __name__ == "__main__":
    main()
