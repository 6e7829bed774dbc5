"""First-50 / All / Last-50 aggregation of per-frame scores on long sequences (MRVSR Table 1, specs §1.5).

The official scripts score outputs ``1 .. N-2`` of an ``N``-frame sequence into a list ``L`` and
report ``mean(L[2:52])``, ``mean(L[2:-2])`` and ``mean(L[-52:-2])``. In frame indices that is
frames ``3 .. 52``, ``3 .. N-4`` and ``N-53 .. N-4``: ``skip = 3`` frames left out at each end and
a ``window`` of 50. Scores here are keyed by absolute frame index, so any per-frame list (the
``mrvsr`` protocol's, which starts at frame 2, or a list of every frame) aggregates the same way.
``drift`` is Last minus First: the stability number (negative = quality decays over time).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import VsrkitError

METRICS = ("psnr", "ssim")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def long_sequence_summary(
    frames: Sequence[Mapping[str, float]],
    n_frames: int,
    *,
    first_index: int = 0,
    window: int = 50,
    skip: int = 3,
) -> dict[str, Any]:
    """Aggregate per-frame ``{"psnr", "ssim"}`` scores of frames ``first_index, first_index+1, ...``
    of an ``n_frames``-long sequence into ``{"first", "all", "last", "drift", "ranges"}``."""
    lo, hi = skip, n_frames - skip  # scored frames: lo .. hi-1
    if hi - lo < window:
        raise VsrkitError(
            f"sequence of {n_frames} frames is too short for First/Last-{window} "
            f"(needs at least {window + 2 * skip})"
        )
    available = range(first_index, first_index + len(frames))
    if lo < available.start or hi > available.stop:
        raise VsrkitError(
            f"per-frame scores cover frames {available.start}..{available.stop - 1}, "
            f"the aggregation needs {lo}..{hi - 1}"
        )
    ranges = {"first": (lo, lo + window), "all": (lo, hi), "last": (hi - window, hi)}
    out: dict[str, Any] = {"ranges": {k: [a, b - 1] for k, (a, b) in ranges.items()}, "n_frames": n_frames}
    for key, (a, b) in ranges.items():
        sel = frames[a - first_index : b - first_index]
        out[key] = {m: _mean([float(f[m]) for f in sel]) for m in METRICS if m in sel[0]}
    out["drift"] = {m: out["last"][m] - out["first"][m] for m in out["first"]}
    return out


def mean_summaries(summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean over sequences of :func:`long_sequence_summary` results (the paper averages sequences)."""
    if not summaries:
        raise ValueError("no summaries to average")
    out: dict[str, Any] = {}
    for key in ("first", "all", "last", "drift"):
        metrics = summaries[0][key].keys()
        out[key] = {m: _mean([float(s[key][m]) for s in summaries]) for m in metrics}
    return out
