"""Temporal profiles (MRVSR Fig. 8): the middle row of each output frame stacked over time.

On a quasi-static sequence a stable model gives a profile of vertical streaks (every frame alike);
flicker or drifting artefacts show up as horizontal bands or slow changes. The paper uses frames
62..186 of Sequence 1 and the left quarter of the row; ``start``, ``count`` and ``fraction`` make
that configurable. ``temporal_std`` (mean over x of the standard deviation over t, in 0-255 Y) is the
one-number summary; ``drift`` is the mean absolute difference between the last and first profile
rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from torch import Tensor

from ..color import rgb_to_y
from .plot import image_grid


class ProfileCollector:
    """An ``on_output`` hook for :func:`vsrkit.analysis.per_frame.per_frame_scores`."""

    def __init__(self, start: int, count: int, fraction: float = 0.25) -> None:
        if start < 0 or count < 1 or not 0 < fraction <= 1:
            raise ValueError(f"invalid profile window start={start} count={count} fraction={fraction}")
        self.start, self.count, self.fraction = start, count, fraction
        self.rows: list[np.ndarray] = []
        self.target_rows: list[np.ndarray] = []

    def __call__(self, t: int, output: Tensor, target: Tensor) -> None:
        if not self.start <= t < self.start + self.count:
            return
        y = output[0] if output.shape[0] == 1 else rgb_to_y(output)[0]
        gt = rgb_to_y(target)[0]
        mid = y.shape[0] // 2
        width = max(1, round(y.shape[1] * self.fraction))
        self.rows.append(y[mid, :width].clamp(0, 1).numpy().astype(np.float64))
        self.target_rows.append(gt[mid, :width].numpy().astype(np.float64))

    def profile(self) -> np.ndarray:
        if not self.rows:
            raise ValueError(f"no output frames in the window {self.start}..{self.start + self.count - 1}")
        return np.stack(self.rows)


def profile_stats(profile: np.ndarray) -> dict[str, float]:
    p = profile * 255.0
    return {
        "temporal_std": float(p.std(axis=0).mean()),
        "drift": float(np.abs(p[-1] - p[0]).mean()),
        "frames": int(p.shape[0]),
    }


def save_profiles(profiles: dict[str, np.ndarray], png: str | Path, *, title: str = "") -> Path:
    """Profiles side by side (time downwards), Y scaled from [16, 235]/255 to the full grey range."""
    tiles = [(p - 16 / 255) / (219 / 255) for p in profiles.values()]
    return image_grid([tiles], png, col_labels=list(profiles), title=title)


def profiles_report(profiles: dict[str, np.ndarray], start: int) -> dict[str, Any]:
    return {"start": start, "models": {name: profile_stats(p) for name, p in profiles.items()}}
