"""Synthetic camera motion over a still photograph: sub-pixel pans, slow zooms, small rotations.

Each frame is the photograph resampled (bicubic) on a rotated, scaled, shifted grid. The trajectory
is smooth (constant velocity plus a small acceleration), like a hand-held or panning camera, so a
recurrent model sees the sub-pixel shifts between frames that real video gives it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..layers.resize import imresize


@dataclass(frozen=True)
class MotionRange:
    """Per-frame motion limits, in output (HR) pixels, relative scale and degrees."""

    max_shift: float = 6.0
    max_accel: float = 0.5
    max_zoom: float = 0.01
    max_rotation: float = 0.4
    # Hand-held shake: an independent uniform offset in [-jitter, jitter] per frame and axis, on
    # top of the smooth path. Unlike a pan, it gives each frame a different sub-pixel phase
    # against the LR grid, the case where neighbouring frames carry the most new detail.
    jitter: float = 0.0
    # Non-rigid sway: on top of the camera path, a smooth displacement field oscillating in time
    # (leaves in wind, water, moving limbs), up to this many pixels, in random parts of the frame
    # only. Global camera motion is what DIS flow gets right; local motion with flow boundaries is
    # where it errs, and a model that never sees it learns to trust warped neighbours too much.
    sway: float = 0.0


def _trajectory(rng: np.random.Generator, t_len: int, m: MotionRange) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    angle = rng.uniform(0, 2 * math.pi)
    speed = rng.uniform(0, m.max_shift)
    vel = speed * np.array([math.sin(angle), math.cos(angle)])
    acc = rng.uniform(-m.max_accel, m.max_accel, size=2)
    t = np.arange(t_len, dtype=np.float64)[:, None]
    offsets = vel * t + 0.5 * acc * t * t
    if m.jitter > 0:
        offsets = offsets + rng.uniform(-m.jitter, m.jitter, size=(t_len, 2))
    zoom = np.exp(rng.uniform(-m.max_zoom, m.max_zoom) * np.arange(t_len))
    rot = np.deg2rad(rng.uniform(-m.max_rotation, m.max_rotation)) * np.arange(t_len)
    return offsets, zoom, rot


def _sway_field(rng: np.random.Generator, t_len: int, size: int, amplitude: float) -> torch.Tensor:
    """``(t_len, size, size, 2)`` displacements (y, x) in pixels, at most ``amplitude``: two scales of
    smooth random fields, each oscillating at its own rate, under a smooth random mask in (0, 1) that
    leaves some regions almost rigid."""

    def smooth(channels: int, cells: int) -> torch.Tensor:
        coarse = torch.from_numpy(rng.uniform(-1, 1, size=(1, channels, cells, cells))).float()
        return F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=True)[0]

    t = torch.arange(t_len, dtype=torch.float32)[:, None, None, None]
    field = torch.zeros(t_len, 2, size, size)
    for cells in (3, 6):
        rate, phase = rng.uniform(0.3, 1.2), rng.uniform(0, 2 * math.pi)
        field += smooth(2, cells) * torch.cos(rate * t + phase) + smooth(2, cells) * torch.sin(rate * t + phase)
    # Scaled so that the field peaks at ``amplitude`` before the mask, which then damps it in parts.
    mask = torch.sigmoid(4 * smooth(1, 3))
    field = field * mask / field.abs().amax().clamp_min(1e-6)
    return (amplitude * field).permute(0, 2, 3, 1)


def synthesize(
    photo: np.ndarray,
    rng: np.random.Generator,
    *,
    t_len: int,
    size: int,
    downscale: int = 1,
    motion: MotionRange = MotionRange(),
) -> np.ndarray:
    """uint8 ``(t_len, size, size, 3)`` frames of a camera moving over ``photo`` ``(H, W, 3)``.

    The warp runs at ``downscale`` times the output size and is then bicubic-downscaled, which
    removes the softening of sub-pixel interpolation and any JPEG softness of the photograph.
    """
    big = size * downscale
    offsets, zoom, rot = _trajectory(rng, t_len, MotionRange(
        motion.max_shift * downscale, motion.max_accel * downscale, motion.max_zoom, motion.max_rotation,
        motion.jitter * downscale, motion.sway))
    height, width = photo.shape[:2]
    # Radius of the footprint of a frame (its corners at the largest zoom) plus the bicubic support.
    sway = rng.uniform(0, motion.sway) * downscale if motion.sway > 0 else 0.0
    radius = (big / 2) * math.sqrt(2) * float(zoom.max()) + 3 + sway
    for _ in range(4):
        lo = radius - offsets.min(axis=0)
        hi = np.array([height, width]) - radius - offsets.max(axis=0)
        if np.all(hi > lo):
            break
        offsets = offsets / 2  # the photograph is too small for this motion: slow down
    else:
        offsets = np.zeros_like(offsets)
        lo = np.array([radius, radius])
        hi = np.array([height, width]) - radius
        if np.any(hi <= lo):
            raise ValueError(f"photograph {photo.shape} too small for {big}px crops")
    start = np.array([rng.uniform(lo[0], hi[0]), rng.uniform(lo[1], hi[1])])
    centres = start + offsets
    # Cut the region the whole trajectory touches, so grid_sample works on a small tensor.
    top = int(max(0, math.floor(centres[:, 0].min() - radius)))
    left = int(max(0, math.floor(centres[:, 1].min() - radius)))
    bottom = int(min(height, math.ceil(centres[:, 0].max() + radius) + 1))
    right = int(min(width, math.ceil(centres[:, 1].max() + radius) + 1))
    region = torch.from_numpy(np.ascontiguousarray(photo[top:bottom, left:right])).permute(2, 0, 1).float()
    rh, rw = region.shape[-2:]
    grid_1d = torch.arange(big, dtype=torch.float32) - (big - 1) / 2
    gy, gx = grid_1d[None, :, None], grid_1d[None, None, :]
    cos = torch.from_numpy(np.cos(rot) * zoom).float()[:, None, None]
    sin = torch.from_numpy(np.sin(rot) * zoom).float()[:, None, None]
    cy = torch.from_numpy(centres[:, 0] - top).float()[:, None, None]
    cx = torch.from_numpy(centres[:, 1] - left).float()[:, None, None]
    sy = cy + sin * gx + cos * gy
    sx = cx + cos * gx - sin * gy
    if sway > 0:
        displacement = _sway_field(rng, t_len, big, sway)
        sy, sx = sy + displacement[..., 0], sx + displacement[..., 1]
    # Pixel index -> normalised coordinate for align_corners=False.
    grid = torch.stack([(2 * sx + 1) / rw - 1, (2 * sy + 1) / rh - 1], dim=-1)
    frames = F.grid_sample(region.expand(t_len, -1, -1, -1), grid, mode="bicubic",
                           padding_mode="border", align_corners=False)
    frames = frames.div(255).clamp(0, 1)
    if downscale > 1:
        frames = imresize(frames, size=(size, size)).clamp(0, 1)
    return frames.mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
