"""Long quasi-static sequences: a static scene seen by a static camera for hundreds of frames.

The MRVSR paper's Quasi-Static Video Set is not obtainable, so we synthesise its defining property
(long, almost no motion, real sensor noise) from a still image or a short static-camera clip.

Model, per output frame ``t`` (all parameters in :class:`QuasiStaticParams`):

1. **Scene.** A still image, or the frames of a static clip played forwards then backwards
   (ping-pong, so there is no jump at the loop point).
2. **Camera jitter.** A sub-pixel global translation ``d_t`` following a 2-D Ornstein-Uhlenbeck
   process ``d_t = rho d_{t-1} + sqrt(1 - rho^2) * jitter * e_t`` (stationary std ``jitter`` pixels,
   correlation time ``1 / (1 - rho)`` frames): a tripod-mounted camera's micro-vibration. Applied by
   bicubic resampling with reflected borders.
3. **Sensor noise.** Poisson-Gaussian, approximated as Gaussian with signal-dependent variance
   ``shot * x + read^2`` on [0, 1] values (``shot`` = gain of the photon noise, ``read`` = read-out
   noise std), independent per pixel, channel and frame.
4. **Gain flicker** (off by default): a per-frame exposure factor ``1 + flicker * e_t``.
5. Clip to [0, 1] and quantise to 8 bit, as a camera writes PNG frames.

Everything is a function of ``seed`` and the frame index: the jitter path is drawn once, noise
from a generator seeded per frame, so a sequence can be regenerated or streamed identically.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import InputError, VsrkitError
from ..io.frames import (
    IMAGE_SUFFIXES,
    commit_dir,
    list_frames,
    read_image,
    staging_dir,
    to_tensor,
    write_image,
)
from ..io.jsonfile import write_json
from ..layers.resize import imresize


@dataclass(frozen=True)
class QuasiStaticParams:
    frames: int = 1000
    jitter: float = 0.15  # stationary std of the translation, HR pixels
    rho: float = 0.95  # per-frame correlation of the jitter
    shot: float = 4e-5  # photon-noise variance per unit signal ([0, 1] scale)
    read: float = 0.002  # read-noise std ([0, 1] scale)
    flicker: float = 0.0  # std of the per-frame gain
    seed: int = 0

    def check(self) -> None:
        if self.frames < 1:
            raise VsrkitError(f"frames must be >= 1, got {self.frames}")
        if self.jitter < 0 or self.shot < 0 or self.read < 0 or self.flicker < 0:
            raise VsrkitError("jitter, shot, read and flicker must be >= 0")
        if not 0 <= self.rho < 1:
            raise VsrkitError(f"rho must be in [0, 1), got {self.rho}")


def load_scene(source: str | Path, *, downscale: int = 1, crop: tuple[int, int] | None = None) -> Tensor:
    """The scene as ``(K, 3, H, W)`` float: one frame for an image, K for a frame folder or video.

    ``downscale`` (MATLAB bicubic) first, e.g. 2 to remove JPEG blocking; then a centre ``crop``.
    """
    source = Path(source)
    if not source.exists():
        raise InputError(source, "source does not exist")
    if source.is_dir():
        frames = torch.stack([to_tensor(read_image(p)) for p in list_frames(source)])
    elif source.suffix.lower() in IMAGE_SUFFIXES:
        frames = to_tensor(read_image(source))[None]
    else:
        from ..io.video import VideoInput

        with VideoInput(source) as video:
            frames = torch.stack([f for f, _, _ in video.frames()])
    if downscale > 1:
        frames = imresize(frames, scale=1.0 / downscale).clamp(0, 1)
    if crop is not None:
        ch, cw = crop
        h, w = frames.shape[-2:]
        if ch > h or cw > w:
            raise InputError(source, f"crop {ch}x{cw} is larger than the frames ({h}x{w})")
        top, left = (h - ch) // 2, (w - cw) // 2
        frames = frames[..., top : top + ch, left : left + cw]
    return frames.contiguous()


def jitter_path(params: QuasiStaticParams) -> np.ndarray:
    """``(frames, 2)`` translations (dy, dx) in pixels, stationary OU process started at equilibrium."""
    rng = np.random.default_rng([params.seed, 1])
    e = rng.standard_normal((params.frames, 2))
    d = np.empty_like(e)
    d[0] = params.jitter * e[0]
    a = math.sqrt(1.0 - params.rho**2) * params.jitter
    for t in range(1, params.frames):
        d[t] = params.rho * d[t - 1] + a * e[t]
    return d


def translate(frame: Tensor, dy: float, dx: float) -> Tensor:
    """Content moved by ``(dy, dx)`` pixels (sub-pixel, bicubic, reflected borders)."""
    if dy == 0 and dx == 0:
        return frame
    _, h, w = frame.shape
    # Normalised grid (align_corners=False): a pixel step is 2/size.
    theta = torch.tensor([[1.0, 0.0, -2.0 * dx / w], [0.0, 1.0, -2.0 * dy / h]], dtype=frame.dtype)
    grid = F.affine_grid(theta[None], [1, 3, h, w], align_corners=False)
    return F.grid_sample(frame[None], grid, mode="bicubic", padding_mode="reflection", align_corners=False)[0]


def scene_index(t: int, k: int) -> int:
    """Ping-pong over K scene frames: 0, 1, .., K-1, K-2, .., 1, 0, 1, ..."""
    if k == 1:
        return 0
    period = 2 * (k - 1)
    i = t % period
    return i if i < k else period - i


def quasistatic_frames(scene: Tensor, params: QuasiStaticParams) -> Iterator[Tensor]:
    """Yield ``params.frames`` frames ``(3, H, W)`` float32 in [0, 1], 8-bit valued."""
    params.check()
    if scene.ndim == 3:
        scene = scene[None]
    path = jitter_path(params)
    flicker_rng = np.random.default_rng([params.seed, 2])
    gains = 1.0 + params.flicker * flicker_rng.standard_normal(params.frames)
    for t in range(params.frames):
        base = scene[scene_index(t, scene.shape[0])].float()
        x = translate(base, float(path[t, 0]), float(path[t, 1])).clamp(0, 1) * float(gains[t])
        gen = torch.Generator().manual_seed(params.seed * 1_000_003 + t + 7)
        std = (params.shot * x.clamp_min(0) + params.read**2).sqrt()
        x = x + std * torch.randn(x.shape, generator=gen)
        yield torch.round(x.clamp(0, 1) * 255.0) / 255.0


def write_quasistatic(
    scene: Tensor, out_dir: str | Path, params: QuasiStaticParams, *, json_path: str | Path | None = None
) -> Path:
    """Write the sequence as ``out_dir/00000000.png ...`` (built in a staging folder, then moved)."""
    params.check()
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(out_dir, "output folder exists and is not empty")
    stage = staging_dir(out_dir)
    try:
        for t, frame in enumerate(quasistatic_frames(scene, params)):
            write_image(stage / f"{t:08d}.png", frame)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if out_dir.exists():
        out_dir.rmdir()
    commit_dir(stage, out_dir)
    if json_path is not None:
        meta = {"params": asdict(params), "size": list(scene.shape[-2:]), "scene_frames": int(scene.shape[0])}
        write_json(json_path, meta)
    return out_dir
