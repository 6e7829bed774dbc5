"""Depth-to-space in TensorFlow's channel order.

TF ``depth_to_space`` orders channels as ``(dy, dx, c)`` while ``torch.nn.PixelShuffle`` uses
``(c, dy, dx)``. They agree only for one output channel (Y-only RLSP/MRVSR). RLSP's official code
and weights use the TF order, so anything ported from them must use these functions.
"""

from __future__ import annotations

from torch import Tensor


def depth_to_space_tf(x: Tensor, block: int) -> Tensor:
    """``(B, block*block*C, H, W)`` -> ``(B, C, block*H, block*W)``, channel index ``(dy*block+dx)*C+c``."""
    b, ch, h, w = x.shape
    c = ch // (block * block)
    if c * block * block != ch:
        raise ValueError(f"{ch} channels are not divisible by block² = {block * block}")
    x = x.view(b, block, block, c, h, w).permute(0, 3, 4, 1, 5, 2)
    return x.reshape(b, c, h * block, w * block)


def space_to_depth_tf(x: Tensor, block: int) -> Tensor:
    """Inverse of :func:`depth_to_space_tf`."""
    b, c, hh, ww = x.shape
    if hh % block or ww % block:
        raise ValueError(f"size {hh}x{ww} is not divisible by block {block}")
    h, w = hh // block, ww // block
    x = x.view(b, c, h, block, w, block).permute(0, 3, 5, 1, 2, 4)
    return x.reshape(b, block * block * c, h, w)
