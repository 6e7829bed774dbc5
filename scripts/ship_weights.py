"""Copy a trained run's weights into the package as a preset's shipped weights, with clean metadata.

    python scripts/ship_weights.py runs/default_stage2/best.safetensors --config configs/default_stage2.yaml \
        [--name default] [--curve docs/default_model_curve_stage2.json]
    python scripts/ship_weights.py runs/hirn_tiny_stage2/final.safetensors --name hirn-tiny \
        --config configs/hirn_tiny_stage2.yaml

The metadata keeps the architecture, hyper-parameters and training recipe of the source file, names
the preset, and records the Vid4 numbers of the shipped snapshot when a curve file
(``scripts/eval_checkpoints.py``) has them. The file goes to ``weights/shipped/<name>.safetensors``
(``-`` becomes ``_``), where the preset's registration picks it up.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vsrkit.weights.io import load_model, read_metadata, save_weights

SHIPPED_DIR = Path(__file__).resolve().parents[1] / "src/vsrkit/weights/shipped"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights", type=Path)
    parser.add_argument("--name", default="default", help="the preset the weights ship with")
    parser.add_argument("--config", required=True, help="the config that reproduces the weights")
    parser.add_argument("--curve", type=Path)
    parser.add_argument("--eval", type=Path, nargs="*", default=[],
                        help="`vsrkit evaluate --json` reports of these weights to record (Vid4 numbers)")
    parser.add_argument("--hparam", action="append", default=[], metavar="KEY=JSON",
                        help="replace a constructor argument that changes no weight (e.g. dis_finest_scale=0); "
                             "recorded in the file's composition")
    args = parser.parse_args()
    overrides = {}
    for item in args.hparam:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--hparam {item!r}: expected KEY=JSON")
        overrides[key] = json.loads(value)
    meta = read_metadata(args.weights)
    recipe = json.loads(meta["recipe"])
    metrics = json.loads(meta.get("metrics", "{}"))
    extra = {
        "source": f"trained by vsrkit ({args.config})",
        "licence": "Apache-2.0 (the project's licence); trained on the corpus of src/vsrkit/data/corpus.py",
        "recipe": recipe,
        # "vid4" is only in a source that was shipped before (re-shipped in another form, e.g. tied by
        # init_bidirectional.py): the same function, so the same numbers; --curve and --eval override it.
        "metrics": {k: metrics[k] for k in ("wall_time_s", "skipped_nonfinite", "best_val", "val", "vid4")
                    if k in metrics},
    }
    if extra["metrics"].get("best_val", {}).get("iteration", -1) < 0:
        # Runs exported before the trainer left it out recorded a best without validation (PSNR -inf, not JSON).
        extra["metrics"].pop("best_val", None)
    if "composition" in meta:  # scripts/init_bidirectional.py: how the shipped model is built from the trained one
        extra["composition"] = meta["composition"]
    if overrides:
        changed = ", ".join(f"{k}={json.dumps(v)}" for k, v in overrides.items())
        before = extra.get("composition", "").rstrip(". ")
        extra["composition"] = f"{before + '. ' if before else ''}Shipped with {changed} (same weights)."
    if args.curve is not None and args.curve.is_file():
        snap = json.loads(args.curve.read_text())["snapshots"].get(f"iter_{recipe['iterations']:07d}", {})
        extra["metrics"]["vid4"] = {k: {"psnr": v["psnr"], "ssim": v["ssim"]} for k, v in snap.items()
                                    if isinstance(v, dict) and "psnr" in v}
    for report_path in args.eval:
        report = json.loads(report_path.read_text())
        key = f"{report['degradation']}+{report['protocol']}"
        extra["metrics"].setdefault("vid4", {})[key] = {k: report["mean"][k] for k in ("psnr", "ssim")}
    model = load_model(args.weights, **overrides)
    model.preset_name = args.name  # type: ignore[attr-defined]
    shipped = SHIPPED_DIR / f"{args.name.replace('-', '_')}.safetensors"
    save_weights(model, shipped, extra=extra)
    print(f"wrote {shipped} ({shipped.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
