"""The bicubic baseline: MATLAB ``imresize`` bicubic upsampling of each frame."""

from __future__ import annotations

from torch import Tensor

from ..layers.resize import imresize
from ._registry import register_model
from .base import StreamingVSRModel


class Bicubic(StreamingVSRModel):
    """Per-frame bicubic upsampling; no parameters. Every results table gets this row."""

    arch = "bicubic"
    kind = "sliding-window"
    output = "RGB"
    radius = 0

    def __init__(self, *, scale: int = 4) -> None:
        super().__init__()
        self.scale = scale

    def step(self, window: Tensor, state: None) -> tuple[Tensor, None]:
        return imresize(window[:, 0], scale=self.scale), None

    def forward(self, lr: Tensor) -> Tensor:
        # Frames are independent: resize the whole clip at once instead of stepping.
        return imresize(lr, scale=self.scale)


register_model("bicubic", Bicubic, description="MATLAB-style bicubic upsampling")
