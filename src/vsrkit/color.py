"""Colour conversions, BT.601 as MATLAB ``rgb2ycbcr`` (the convention of every VSR paper table).

All functions take float tensors in [0, 1] with channels at dim ``-3`` and return floats in [0, 1]
(Y in [16/255, 235/255] for in-gamut input). The RLSP paper writes the same Y formula on 0-255 data
as ``(65.738 R + 129.057 G + 25.064 B) / 256 + 16``; the coefficients are identical (65.738 / 256 =
0.256789).
"""

from __future__ import annotations

import torch
from torch import Tensor

# MATLAB rgb2ycbcr rows, for RGB in [0, 1] and YCbCr in [0, 1] (offsets 16, 128, 128 over 255).
_RGB_TO_YCBCR = torch.tensor(
    [
        [65.481, 128.553, 24.966],
        [-37.797, -74.203, 112.0],
        [112.0, -93.786, -18.214],
    ],
    dtype=torch.float64,
) / 255.0
_YCBCR_OFFSET = torch.tensor([16.0, 128.0, 128.0], dtype=torch.float64) / 255.0
# The RLSP TensorFlow code's own coefficients (65.738, 129.057, 25.064) / 256 differ from MATLAB's
# in the 5th decimal; we use them for RLSP so that imported weights see the inputs they were
# trained with.
RLSP_Y_WEIGHTS = (65.738 / 256.0, 129.057 / 256.0, 25.064 / 256.0)
MATLAB_Y_WEIGHTS = (65.481 / 255.0, 128.553 / 255.0, 24.966 / 255.0)


def _check(rgb: Tensor) -> None:
    if rgb.ndim < 3 or rgb.shape[-3] != 3:
        raise ValueError(f"expected RGB with channels at dim -3, got shape {tuple(rgb.shape)}")


def rgb_to_y(rgb: Tensor, *, weights: tuple[float, float, float] = MATLAB_Y_WEIGHTS) -> Tensor:
    """Luma Y in [16/255, 235/255], shape ``(..., 1, H, W)``."""
    _check(rgb)
    r, g, b = rgb.unbind(-3)
    y = weights[0] * r + weights[1] * g + weights[2] * b + 16.0 / 255.0
    return y.unsqueeze(-3)


def rgb_to_ycbcr(rgb: Tensor) -> Tensor:
    _check(rgb)
    m = _RGB_TO_YCBCR.to(device=rgb.device, dtype=rgb.dtype)
    off = _YCBCR_OFFSET.to(device=rgb.device, dtype=rgb.dtype)
    return torch.einsum("ij,...jhw->...ihw", m, rgb) + off[:, None, None]


def ycbcr_to_rgb(ycbcr: Tensor) -> Tensor:
    """Inverse of :func:`rgb_to_ycbcr` (not clamped)."""
    _check(ycbcr)
    inv = torch.linalg.inv(_RGB_TO_YCBCR).to(device=ycbcr.device, dtype=ycbcr.dtype)
    off = _YCBCR_OFFSET.to(device=ycbcr.device, dtype=ycbcr.dtype)
    return torch.einsum("ij,...jhw->...ihw", inv, ycbcr - off[:, None, None])
