"""The space-time cascade baseline: bicubic upsampling + linear frame interpolation.

The "Bicubic + linear interpolation" row of DAVSR's tables (specs §2.6: 22.78 dB / 0.624 on REDS4):
each LR frame is upsampled by MATLAB ``imresize`` bicubic, then ``temporal_scale - 1`` frames are
cross-faded between consecutive frames on the exposure-centred time grid of the ``stvsr``
degradation (:func:`vsrkit.layers.interpolation.upsample_time`). No parameters, no deblurring.
"""

from __future__ import annotations

from torch import Tensor

from ..layers.interpolation import LinearInterpolator, upsample_time
from ..layers.resize import imresize
from ._registry import register_model
from .base import VSRModel


class BicubicLinearCascade(VSRModel):
    """``(B, T, 3, h, w)`` -> ``(B, 5T, 3, 4h, 4w)`` by bicubic ×scale and linear ×temporal_scale."""

    arch = "cascade-bicubic-linear"
    kind = "bidirectional"
    output = "RGB"
    temporal_scale = 5
    # Output frames between LR frames i and i+1 need only those two.
    chunk_warmup = 1

    def __init__(self, *, scale: int = 4) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, lr: Tensor) -> Tensor:
        if lr.ndim != 5:
            raise ValueError(f"expected (B, T, C, H, W), got {tuple(lr.shape)}")
        # Both steps are linear, so their order does not matter; interpolating LR frames is cheaper.
        frames = upsample_time(lr, self.temporal_scale, LinearInterpolator())
        return imresize(frames, scale=self.scale)


register_model(
    "cascade-bicubic-linear", BicubicLinearCascade,
    description="Space-time baseline: bicubic x4 + linear frame interpolation x5 (DAVSR tables)",
)
