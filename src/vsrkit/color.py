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


# ycbcr_to_rgb adds the same multiple of (Y - 16/255) to R, G and B (255/219).
LUMA_TO_RGB_GAIN = float(torch.linalg.inv(_RGB_TO_YCBCR)[0, 0])


def chroma_to_rgb(rgb: Tensor) -> Tensor:
    """The chroma part of :func:`ycbcr_to_rgb` for the Cb/Cr of ``rgb``, ``(..., 3, H, W)``.

    ``ycbcr_to_rgb([y, cb, cr]) == chroma_to_rgb(rgb) + LUMA_TO_RGB_GAIN * (y - 16/255)``. It is linear
    with unit-sum resampling weights passing constants through, so it may be upsampled before the
    luma is added: Y-only models get their colour this way with three-channel work at LR size and one
    addition at HR size, instead of a colour-matrix product over every HR pixel.
    """
    _check(rgb)
    inv = torch.linalg.inv(_RGB_TO_YCBCR).to(device=rgb.device, dtype=rgb.dtype)
    cbcr = rgb_to_ycbcr(rgb)[..., 1:, :, :] - 128.0 / 255.0
    return torch.einsum("ij,...jhw->...ihw", inv[:, 1:], cbcr)


# Luma coefficients (Kr, Kb) of video matrices, keyed by FFmpeg's SWS_CS_* number (PyAV Colorspace).
VIDEO_MATRICES: dict[int, tuple[float, float]] = {
    1: (0.2126, 0.0722),  # BT.709
    4: (0.30, 0.11),  # FCC
    5: (0.299, 0.114),  # BT.601 / SMPTE 170M
    7: (0.212, 0.087),  # SMPTE 240M
    9: (0.2627, 0.0593),  # BT.2020 non-constant luminance
}


def rgb_to_yuv420(rgb: Tensor, *, kr: float, kb: float, full_range: bool) -> Tensor:
    """RGB ``(3, H, W)`` in [0, 1] (H, W even) to 8-bit planar YUV 4:2:0 code values, stacked as
    FFmpeg's ``yuv420p`` buffer ``(3 H / 2, W)`` uint8: the Y plane, then U and V rows.

    Chroma is the mean of each 2x2 block (computed on the RGB block mean, the same thing by
    linearity). This replaces libswscale on the upscaler's output, where it cost 8 ms per 720x576
    frame on this machine.
    """
    _check(rgb)
    h, w = rgb.shape[-2:]
    if rgb.ndim != 3 or h % 2 or w % 2:
        raise ValueError(f"expected (3, H, W) with even H and W, got {tuple(rgb.shape)}")
    kg = 1.0 - kr - kb
    y_scale, y_off, c_scale = (255.0, 0.0, 255.0) if full_range else (219.0, 16.0, 224.0)
    su, sv = c_scale / (2.0 * (1.0 - kb)), c_scale / (2.0 * (1.0 - kr))
    coefs = torch.tensor(
        [[kr * y_scale, kg * y_scale, kb * y_scale], [-kr * su, -kg * su, (1 - kb) * su], [(1 - kr) * sv, -kg * sv, -kb * sv]],
        dtype=rgb.dtype, device=rgb.device,
    )
    rgb = rgb.clamp(0, 1)
    # Matrix-vector products over flattened planes: one pass each, where per-channel
    # multiply-adds take several.
    luma = (coefs[0] @ rgb.reshape(3, -1)).add_(y_off)
    pairs = rgb[:, 0::2] + rgb[:, 1::2]
    blocks = (pairs[..., 0::2] + pairs[..., 1::2]).mul_(0.25)
    chroma = (coefs[1:] @ blocks.reshape(3, -1)).add_(128.0)
    planes = torch.cat([luma, chroma.reshape(-1)]).reshape(h * 3 // 2, w)
    return planes.round_().clamp_(0, 255).to(torch.uint8)


def ycbcr_to_yuv420(y: Tensor, cbcr: Tensor, *, full_range: bool) -> Tensor:
    """Luma ``(1, H, W)`` and chroma ``(2, H/2, W/2)`` in studio swing over 255 (this module's
    convention) to an 8-bit ``yuv420p`` buffer ``(3 H / 2, W)``, limited or full range.

    The upscaler's path for Y-only models writing 4:2:0 video: luma from the model, chroma from the
    LR frame (:func:`bt601_to_video_matrix` for other matrices), so no RGB frame is built at output
    size and no out-of-gamut colour is clipped on the way.
    """
    if y.ndim != 3 or y.shape[0] != 1 or cbcr.ndim != 3 or cbcr.shape[0] != 2:
        raise ValueError(f"expected (1, H, W) and (2, H/2, W/2), got {tuple(y.shape)} and {tuple(cbcr.shape)}")
    h, w = y.shape[-2:]
    if h % 2 or w % 2 or tuple(cbcr.shape[-2:]) != (h // 2, w // 2):
        raise ValueError(f"luma {h}x{w} needs even sizes and chroma {h // 2}x{w // 2}, got {tuple(cbcr.shape)}")
    if full_range:
        luma = (y.reshape(-1) * 255.0 - 16.0) * (255.0 / 219.0)
        chroma = (cbcr.reshape(-1) * 255.0 - 128.0) * (255.0 / 224.0) + 128.0
    else:
        luma, chroma = y.reshape(-1) * 255.0, cbcr.reshape(-1) * 255.0
    planes = torch.cat([luma, chroma]).reshape(h * 3 // 2, w)
    return planes.round_().clamp_(0, 255).to(torch.uint8)


def bt601_to_video_matrix(kr: float, kb: float) -> Tensor:
    """``(3, 3)`` float64 map from BT.601 (Y - 16/255, Cb - 128/255, Cr - 128/255) to the same
    quantities in the video matrix ``(kr, kb)`` (identity for BT.601 itself)."""
    kg = 1.0 - kr - kb
    target = torch.tensor(
        [[kr * 219, kg * 219, kb * 219],
         [-kr / (1 - kb) * 112, -kg / (1 - kb) * 112, 112.0],
         [112.0, -kg / (1 - kr) * 112, -kb / (1 - kr) * 112]],
        dtype=torch.float64,
    ) / 255.0
    return target @ torch.linalg.inv(_RGB_TO_YCBCR)
