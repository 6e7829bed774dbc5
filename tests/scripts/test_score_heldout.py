"""scripts/score_heldout.py: the standing shipping rule for `default` candidates, applied to scores."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "score_heldout.py"


def _script():
    spec = importlib.util.spec_from_file_location("score_heldout", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _scores(shift: float) -> dict:
    sets = {
        "reds_000": {"psnr": 26.3 + shift, "clips": {"reds_000": 26.3 + shift}},
        "photo_val": {"psnr": 38.1 + shift, "clips": {}},
        "real_val": {"psnr": 34.6 + shift, "clips": {"bikes": 39.9 + shift, "city": 21.1 + shift, "dog": 42.8 + shift}},
        "long_val": {"psnr": 31.2 + shift, "clips": {}},
        "foliage_val": {"psnr": 29.4 + shift, "clips": {"tree": 25.6 + shift}},
    }
    n = (26.3 + 38.1 + 34.6 + 31.2) / 4 + shift
    return {"sets": sets, "N": n, "N+foliage": n + 29.4 + shift}


def test_rule_asks_a_combined_gain_and_bounds_every_set_and_clip() -> None:
    script = _script()
    baseline = _scores(0.0)
    failed = lambda candidate: [what for what, _, _, ok in script.rule(candidate, baseline) if not ok]
    assert failed(baseline) == ["N + foliage_val"]  # the baseline itself is not a candidate
    better = _scores(0.03)  # +0.06 on N + foliage
    assert failed(better) == []
    worse_clip = copy.deepcopy(better)
    worse_clip["sets"]["real_val"]["clips"]["bikes"] = baseline["sets"]["real_val"]["clips"]["bikes"] - 0.031
    assert failed(worse_clip) == ["real_val/bikes"]
    worse_set = copy.deepcopy(better)
    worse_set["sets"]["long_val"]["psnr"] = baseline["sets"]["long_val"]["psnr"] - 0.021
    assert failed(worse_set) == ["long_val"]
