"""Score a model on the held-out validation sets that decide whether a `default` candidate ships, and, against a
baseline's scores, apply the standing rule (MODEL_CARD.md, sessions 17-19).

    python scripts/score_heldout.py --model default --out runs/heldout_default.json
    python scripts/score_heldout.py --model rlsp-bi-dis-10-64 --weights runs/<run>/archive/iter_N.safetensors \
        --against runs/heldout_default.json --out runs/heldout_<run>_N.json

Sets (`bi` + `basicsr-y`; never Vid4): `reds_000` (shared), `photo_val`, `real_val`, `long_val` (the natural sets,
whose mean is N) and `foliage_val` (its clip `tree` is bounded on its own). Build the cached ones with
scripts/make_{photo,real,long,foliage}_val.py. The rule, relative to the baseline: every natural set at least
baseline - 0.02 dB, every `real_val` clip at least baseline - 0.03, N at least the baseline's, `tree` at least
baseline - 0.02, and N + `foliage_val` at least the baseline's + 0.05. The candidate's cost is judged apart
(benchmarks/model_settings.py).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from vsrkit import create_model
from vsrkit.engine.evaluate import evaluate
from vsrkit.errors import VsrkitError
from vsrkit.models._registry import parse_settings
from vsrkit.shared import shared_path

NATURAL = ("reds_000", "photo_val", "real_val", "long_val")
SET_MARGIN, CLIP_MARGIN, TREE_MARGIN, COMBINED_GAIN = 0.02, 0.03, 0.02, 0.05


def _datasets(cache: Path) -> dict[str, Path]:
    sets = {"reds_000": shared_path("data", "lr_only", "reds_000")}
    sets.update({name: cache / name for name in ("photo_val", "real_val", "long_val", "foliage_val")})
    missing = [str(p) for p in sets.values() if not p.is_dir()]
    if missing:
        raise SystemExit(f"missing validation set(s): {', '.join(missing)} (scripts/make_*_val.py build them)")
    return sets


def score(model: torch.nn.Module, cache: Path) -> dict:
    """Per set: mean PSNR and per-clip PSNR; then N and N + foliage."""
    result: dict = {"sets": {}}
    for name, path in _datasets(cache).items():
        report = evaluate(model, path, degradation="bi", protocol="basicsr-y")
        result["sets"][name] = {"psnr": report["mean"]["psnr"],
                                "clips": {clip: r["psnr"] for clip, r in report["sequences"].items()}}
        print(f"{name:<12} {report['mean']['psnr']:.3f}", flush=True)
    sets = result["sets"]
    result["N"] = sum(sets[name]["psnr"] for name in NATURAL) / len(NATURAL)
    result["N+foliage"] = result["N"] + sets["foliage_val"]["psnr"]
    return result


def rule(candidate: dict, baseline: dict) -> list[tuple[str, float, float, bool]]:
    """(what, candidate's score, threshold, passed) for every part of the standing rule."""
    checks = []
    for name in NATURAL:
        threshold = baseline["sets"][name]["psnr"] - SET_MARGIN
        checks.append((name, candidate["sets"][name]["psnr"], threshold))
    for clip, base in baseline["sets"]["real_val"]["clips"].items():
        checks.append((f"real_val/{clip}", candidate["sets"]["real_val"]["clips"][clip], base - CLIP_MARGIN))
    checks.append(("N", candidate["N"], baseline["N"]))
    tree = baseline["sets"]["foliage_val"]["clips"]["tree"] - TREE_MARGIN
    checks.append(("foliage_val/tree", candidate["sets"]["foliage_val"]["clips"]["tree"], tree))
    checks.append(("N + foliage_val", candidate["N+foliage"], baseline["N+foliage"] + COMBINED_GAIN))
    # Scores are compared as printed (3 decimals), as the rules were written.
    return [(what, value, threshold, round(value, 3) >= round(threshold, 3)) for what, value, threshold in checks]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--weights")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=JSON",
                        help="constructor settings on top of the file's (KEY=JSON, several joined by ','; repeatable), "
                             "e.g. forward_only=false")
    parser.add_argument("--cache", type=Path, default=Path("data_cache"), help="where the cached sets are")
    parser.add_argument("--against", type=Path, help="a baseline's JSON written by this script: apply the rule")
    parser.add_argument("--out", type=Path, help="write the scores as JSON")
    args = parser.parse_args()
    try:
        overrides = {k: v for text in args.overrides for k, v in parse_settings(text).items()}
    except VsrkitError as err:
        raise SystemExit(f"--set: {err}") from None
    model = create_model(args.model, weights=args.weights, **overrides).eval()
    result = {"model": args.model, "weights": args.weights, "overrides": overrides, **score(model, args.cache)}
    sets = result["sets"]
    print(f"N {result['N']:.3f}  foliage_val {sets['foliage_val']['psnr']:.3f}  N + foliage_val "
          f"{result['N+foliage']:.3f}  real_val clips "
          + ", ".join(f"{c} {v:.3f}" for c, v in sets["real_val"]["clips"].items())
          + f"  tree {sets['foliage_val']['clips']['tree']:.3f}")
    if args.against:
        checks = rule(result, json.loads(args.against.read_text()))
        for what, value, threshold, passed in checks:
            print(f"  {what:<18} {value:.3f}  >= {threshold:.3f}  {'pass' if passed else 'FAIL'}")
        result["rule"] = {"against": str(args.against), "passed": all(c[3] for c in checks),
                          "failed": [c[0] for c in checks if not c[3]]}
        print("rule:", "passes" if result["rule"]["passed"] else "fails on " + ", ".join(result["rule"]["failed"]))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
