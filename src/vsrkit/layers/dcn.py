"""Modulated deformable convolution (DCNv2) on plain torch ops: no compiled extension, no torchvision.

Semantics are those of mmcv's ``modulated_deform_conv2d`` and ``torchvision.ops.deform_conv2d``
(so official BasicVSR++ / HiRN / DAVSR weights produce the same outputs):

* ``offset`` is ``(B, 2 * deform_groups * kh * kw, Ho, Wo)``, ordered group-major, then kernel tap
  (row-major over ``kh × kw``), then the pair ``(dy, dx)``. Note ``(dy, dx)``: the reverse of the
  ``(dx, dy)`` flow convention of :mod:`vsrkit.layers.warp` (hence BasicVSR++'s ``flow.flip(1)``);
* ``mask`` is ``(B, deform_groups * kh * kw, Ho, Wo)``, same order, multiplied onto each sample;
* tap ``(i, j)`` of output pixel ``(oy, ox)`` samples input channel group ``g`` bilinearly at
  ``(oy * stride - pad + i * dilation + dy, ox * stride - pad + j * dilation + dx)``; corners outside
  the image contribute zero.

How: one ``grid_sample`` call gathers all taps of all deformable groups into a column tensor
``(B, Cin * kh * kw, Ho * Wo)``, then one matmul with the weight does the convolution. Memory is
``Cin * kh * kw`` floats per output pixel (the im2col cost), e.g. 128 × 9 × 4 bytes = 4.6 kB.

API (stable): :func:`modulated_deform_conv2d`, :class:`ModulatedDeformConv2d` (parameters
``weight`` ``(Cout, Cin / groups, kh, kw)`` and ``bias``, the mmcv/BasicSR names).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def modulated_deform_conv2d(
    x: Tensor,
    offset: Tensor,
    mask: Tensor | None,
    weight: Tensor,
    bias: Tensor | None = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    deform_groups: int = 1,
) -> Tensor:
    """Deformable conv of ``x`` ``(B, Cin, H, W)``; see the module docstring for the layouts."""
    b, cin, h, w = x.shape
    cout, cin_g, kh, kw = weight.shape
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    if cin_g * groups != cin or cout % groups:
        raise ValueError(f"weight {tuple(weight.shape)} does not fit {cin} input channels with groups={groups}")
    if cin % deform_groups:
        raise ValueError(f"{cin} input channels are not divisible by deform_groups={deform_groups}")
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    k = kh * kw
    if offset.shape != (b, 2 * deform_groups * k, ho, wo):
        raise ValueError(f"offset must be {(b, 2 * deform_groups * k, ho, wo)}, got {tuple(offset.shape)}")
    if mask is not None and mask.shape != (b, deform_groups * k, ho, wo):
        raise ValueError(f"mask must be {(b, deform_groups * k, ho, wo)}, got {tuple(mask.shape)}")

    # Sampling positions in float32 whatever the compute dtype (bf16 cannot hold 180.3).
    dev, dt = offset.device, torch.promote_types(torch.promote_types(x.dtype, offset.dtype), torch.float32)
    off = offset.to(dt).reshape(b, deform_groups, k, 2, ho, wo)
    tap_y = (torch.arange(kh, device=dev, dtype=dt) * dh).repeat_interleave(kw).reshape(1, 1, k, 1, 1)
    tap_x = (torch.arange(kw, device=dev, dtype=dt) * dw).repeat(kh).reshape(1, 1, k, 1, 1)
    out_y = (torch.arange(ho, device=dev, dtype=dt) * sh - ph).reshape(1, 1, 1, ho, 1)
    out_x = (torch.arange(wo, device=dev, dtype=dt) * sw - pw).reshape(1, 1, 1, 1, wo)
    py = out_y + tap_y + off[:, :, :, 0]
    px = out_x + tap_x + off[:, :, :, 1]
    # Pixel coordinates to grid_sample's align_corners=False frame: exact for every size, including 1.
    grid = torch.stack(((2.0 * px + 1.0) / w - 1.0, (2.0 * py + 1.0) / h - 1.0), dim=-1)
    grid = grid.reshape(b * deform_groups, k * ho, wo, 2)
    cols = F.grid_sample(
        x.to(dt).reshape(b * deform_groups, cin // deform_groups, h, w), grid,
        mode="bilinear", padding_mode="zeros", align_corners=False,
    ).to(x.dtype).reshape(b, deform_groups, cin // deform_groups, k, ho, wo)
    if mask is not None:
        cols = cols * mask.reshape(b, deform_groups, 1, k, ho, wo).to(x.dtype)
    # Channel c of input = group g * (cin / dg) + c', so this view is the conv's (Cin, k) order.
    cols = cols.reshape(b, groups, cin_g * k, ho * wo)
    wmat = weight.reshape(groups, cout // groups, cin_g * k)
    out = torch.einsum("gok,bgkl->bgol", wmat, cols).reshape(b, cout, ho, wo)
    if bias is not None:
        out = out + bias.reshape(1, cout, 1, 1)
    return out


class ModulatedDeformConv2d(nn.Module):
    """DCNv2 layer; ``forward(x, offset, mask)`` with offsets and masks predicted elsewhere."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        *,
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        deform_groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if in_channels % groups or out_channels % groups or in_channels % deform_groups:
            raise ValueError(
                f"channels {in_channels}->{out_channels} not divisible by groups={groups} / deform_groups={deform_groups}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        self.dilation = _pair(dilation)
        self.groups = groups
        self.deform_groups = deform_groups
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # mmcv's init: uniform(±1/sqrt(fan_in)), zero bias.
        fan_in = self.weight[0].numel()
        bound = 1.0 / math.sqrt(fan_in)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, offset: Tensor, mask: Tensor | None) -> Tensor:
        return modulated_deform_conv2d(
            x, offset, mask, self.weight, self.bias, stride=self.stride, padding=self.padding,
            dilation=self.dilation, groups=self.groups, deform_groups=self.deform_groups,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}, groups={self.groups}, "
            f"deform_groups={self.deform_groups}"
        )
