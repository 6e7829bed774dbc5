"""RFS3: the feed-forward 3-frame sliding-window baseline of the MRVSR paper (specs/architectures.md §1.3).

RLSP's trunk without state or feedback: conv 9→F + ReLU, ``num_layers - 2`` × (conv F→F + ReLU),
conv F→s², plus the centre frame's BT.601 Y repeated s² times, pixel shuffle. Inputs are RGB in
[0, 1]; the output is Y in [0, 1] (studio range). Xavier-uniform weights and zero biases, as the
official code initialises them. Boundary frames are replicated.
"""

from __future__ import annotations

from torch import Tensor, nn

from ..color import rgb_to_y
from ._registry import register_model
from .base import StreamingVSRModel


class RFS3(StreamingVSRModel):
    """``(B, T, 3, H, W)`` RGB in, ``(B, T, 1, sH, sW)`` Y out; no state."""

    arch = "rfs3"
    kind = "sliding-window"
    output = "Y"
    radius = 1

    def __init__(self, *, num_layers: int = 7, filters: int = 128, scale: int = 4) -> None:
        super().__init__()
        if num_layers < 2:
            raise ValueError(f"num_layers must be >= 2, got {num_layers}")
        self.scale = scale
        self.filters = filters
        in_ch = 3 * (2 * self.radius + 1)
        self.trunk = nn.ModuleList(
            [nn.Conv2d(in_ch, filters, 3, padding=1)]
            + [nn.Conv2d(filters, filters, 3, padding=1) for _ in range(num_layers - 2)]
        )
        self.output_head = nn.Conv2d(filters, scale * scale, 3, padding=1)
        self.act = nn.ReLU(inplace=True)
        self.shuffle = nn.PixelShuffle(scale)
        for m in self.modules():
            if isinstance(m, nn.Conv2d) and not m.weight.is_meta:
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def step(self, window: Tensor, state: None) -> tuple[Tensor, None]:
        b, n, c, h, w = window.shape
        x = window.reshape(b, n * c, h, w)
        for conv in self.trunk:
            x = self.act(conv(x))
        y_lr = rgb_to_y(window[:, self.radius])
        return self.shuffle(self.output_head(x) + y_lr.repeat(1, self.scale * self.scale, 1, 1)), None


register_model("rfs3", RFS3, description="RFS3 (MRVSR paper's sliding-window baseline) 7-128, Y output")
