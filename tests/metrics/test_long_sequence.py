"""First-50 / All / Last-50 as the official aggregate_metrics.py indexes its per-frame lists."""

from __future__ import annotations

import pytest

from vsrkit.errors import VsrkitError
from vsrkit.metrics.long_sequence import long_sequence_summary, mean_summaries


def _official(values: list[float]) -> tuple[float, float, float]:
    # The official list holds outputs 1..N-2; First = L[2:52], All = L[2:-2], Last = L[-52:-2].
    lst = values[1:-1]
    mean = lambda v: sum(v) / len(v)
    return mean(lst[2:52]), mean(lst[2:-2]), mean(lst[-52:-2])


@pytest.mark.parametrize("n", [106, 379, 1000])
def test_matches_official_slicing(n: int) -> None:
    psnr = [20.0 + 0.01 * t + (t % 7) * 0.1 for t in range(n)]
    frames = [{"psnr": p, "ssim": p / 100} for p in psnr]
    s = long_sequence_summary(frames, n)
    first, all_, last = _official(psnr)
    assert s["first"]["psnr"] == pytest.approx(first)
    assert s["all"]["psnr"] == pytest.approx(all_)
    assert s["last"]["psnr"] == pytest.approx(last)
    assert s["drift"]["psnr"] == pytest.approx(last - first)
    assert s["ranges"] == {"first": [3, 52], "all": [3, n - 4], "last": [n - 53, n - 4]}


def test_protocol_lists_starting_at_frame_2_give_the_same_numbers() -> None:
    n = 200
    psnr = [30.0 - 0.002 * t for t in range(n)]
    full = long_sequence_summary([{"psnr": p} for p in psnr], n)
    # The mrvsr protocol scores frames 2..N-3.
    partial = long_sequence_summary([{"psnr": p} for p in psnr[2:-2]], n, first_index=2)
    assert partial["first"] == full["first"] and partial["last"] == full["last"]
    assert full["drift"]["psnr"] < 0


def test_mean_over_sequences_and_errors() -> None:
    a = long_sequence_summary([{"psnr": 30.0}] * 120, 120)
    b = long_sequence_summary([{"psnr": 32.0}] * 130, 130)
    m = mean_summaries([a, b])
    assert m["all"]["psnr"] == pytest.approx(31.0) and m["drift"]["psnr"] == pytest.approx(0.0)
    with pytest.raises(VsrkitError, match="too short"):
        long_sequence_summary([{"psnr": 1.0}] * 40, 40)
    with pytest.raises(VsrkitError, match="cover frames"):
        long_sequence_summary([{"psnr": 1.0}] * 50, 100, first_index=2)
