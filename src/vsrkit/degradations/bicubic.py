"""``bi``: MATLAB ``imresize(hr, 1/scale, 'bicubic')`` (antialiased) on the 8-bit frame, rounded to 8 bit.

MATLAB resizes a uint8 image in double precision in both 1-D passes and rounds only the final
result (checked: rounding between the passes breaks the Vid4 oracle on ~35 % of pixels, while the
single final rounding reproduces ``vid4/oracle/calendar_BIx4_matlab`` bit for bit). float32 is not
enough: it flips ~40 pixels of calendar that sit within float32 error of a .5 boundary, so the
resize runs in float64 on 0-255 values.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..layers.resize import imresize
from ._registry import SpatialDegradation, register_degradation


def to_8bit_values(frames: Tensor) -> Tensor:
    """float64 integer values 0..255 of frames in [0, 1] (the uint8 image the recipes start from)."""
    return (frames.double() * 255.0).round().clamp(0, 255)


def from_8bit_values(values: Tensor, dtype: torch.dtype) -> Tensor:
    """Round half up (MATLAB's uint8 conversion for positive values), clamp, back to [0, 1]."""
    # Cast before dividing so the values equal what read_image gives for the saved 8-bit frame.
    return torch.floor(values + 0.5).clamp(0, 255).to(dtype) / 255.0


def bicubic_downscale(hr: Tensor, scale: int) -> Tensor:
    """MATLAB-exact bicubic ×1/scale of ``(..., 3, H, W)`` frames whose sides are multiples of scale."""
    lead = hr.shape[:-3]
    flat = hr.reshape(-1, *hr.shape[-3:])
    # Frame by frame: float64 copies of a whole clip would cost hundreds of MB.
    out = [from_8bit_values(imresize(to_8bit_values(f), scale=1.0 / scale), hr.dtype) for f in flat]
    lr = torch.stack(out) if out else flat.new_zeros(0, 3, hr.shape[-2] // scale, hr.shape[-1] // scale)
    return lr.reshape(*lead, *lr.shape[-3:])


BI = register_degradation(
    "bi",
    SpatialDegradation(
        "bi", bicubic_downscale, description="MATLAB imresize bicubic (antialiased), 8-bit; HR mod-cropped"
    ),
)
