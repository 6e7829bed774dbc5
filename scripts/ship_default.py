"""Copy a trained run's weights into the package as the ``default`` model, with clean metadata.

    python scripts/ship_default.py runs/default/final.safetensors [--curve docs/default_model_curve.json]

The metadata keeps the architecture, hyper-parameters and training recipe of the source file, names
the preset ``default``, and records the Vid4 numbers of the shipped snapshot when a curve file
(``scripts/eval_checkpoints.py``) has them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vsrkit.weights.io import load_model, read_metadata, save_weights

SHIPPED = Path(__file__).resolve().parents[1] / "src/vsrkit/weights/shipped/default.safetensors"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights", type=Path)
    parser.add_argument("--curve", type=Path)
    args = parser.parse_args()
    meta = read_metadata(args.weights)
    recipe = json.loads(meta["recipe"])
    metrics = json.loads(meta.get("metrics", "{}"))
    extra = {
        "source": "trained by vsrkit (configs/default.yaml)",
        "licence": "Apache-2.0 (the project's licence); trained on the corpus of src/vsrkit/data/corpus.py",
        "recipe": recipe,
        "metrics": {k: metrics[k] for k in ("wall_time_s", "skipped_nonfinite", "best_val") if k in metrics},
    }
    if args.curve is not None and args.curve.is_file():
        snap = json.loads(args.curve.read_text())["snapshots"].get(f"iter_{recipe['iterations']:07d}", {})
        extra["metrics"]["vid4"] = {k: {"psnr": v["psnr"], "ssim": v["ssim"]} for k, v in snap.items()
                                    if isinstance(v, dict) and "psnr" in v}
    model = load_model(args.weights)
    model.preset_name = "default"  # type: ignore[attr-defined]
    save_weights(model, SHIPPED, extra=extra)
    print(f"wrote {SHIPPED} ({SHIPPED.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
