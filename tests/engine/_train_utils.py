"""Tiny training setups shared by the training tests (seconds on one CPU core)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def make_clip(folder: Path, *, frames: int = 6, size: tuple[int, int] = (40, 48), seed: int = 0) -> Path:
    """A smooth random clip panning one pixel per frame, as PNG frames."""
    rng = np.random.default_rng(seed)
    h, w = size
    canvas = rng.random((h + 4, w + frames + 4, 3))
    # Box-blur for some spatial correlation, so the model has something to learn.
    canvas = (canvas + np.roll(canvas, 1, 0) + np.roll(canvas, 1, 1) + np.roll(canvas, (1, 1), (0, 1))) / 4
    folder.mkdir(parents=True, exist_ok=True)
    for t in range(frames):
        frame = (canvas[2 : 2 + h, t : t + w] * 255).round().astype(np.uint8)
        Image.fromarray(frame).save(folder / f"{t:04d}.png")
    return folder


def tiny_config(tmp: Path, data: Path, run: str, **extra: object) -> dict:
    cfg = {
        "model": {"name": "rlsp-7-48", "kwargs": {"filters": 4, "num_layers": 3, "value_range": 1.0}},
        "data": {"sources": [{"kind": "frames", "path": str(data)}], "num_frames": 3, "lr_crop": 4,
                 "batch_size": 2, "workers": 0, "cache_dir": str(tmp / "cache")},
        "optim": {"lr": 1e-3, "grad_clip": 1.0},
        "schedule": {"warmup": 3},
        "ema": 0.9,
        "iterations": 20,
        "threads": 1,
        "run_dir": str(tmp / run),
        "log_every": 0,
        "checkpoint_every": 0,
    }
    for key, value in extra.items():
        node = cfg
        *parents, last = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return cfg
