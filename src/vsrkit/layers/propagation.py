"""BasicVSR++-style propagation blocks: residual trunks without BN and second-order alignment.

Parameter names follow BasicSR / mmedit (``conv1``/``conv2``, ``main.0``/``main.2.{i}``,
``conv_offset.{0,2,4,6}``, ``weight``/``bias``) so official checkpoints map one to one.

API (stable):

* :class:`ResidualBlockNoBN` ``(mid)``: ``x + conv2(relu(conv1(x)))``.
* :class:`ConvResidualBlocks` ``(in_channels, mid_channels, num_blocks)``: conv 3×3 + LeakyReLU(0.1)
  then ``num_blocks`` residual blocks (BasicSR ``ConvResidualBlocks`` / mmedit
  ``ResidualBlocksWithInputConv``).
* :class:`SecondOrderDeformableAlignment` ``(channels, deform_groups=16, max_residue_magnitude=10)``:
  ``forward(x, cond, flow_1, flow_2)`` is BasicVSR++'s flow-guided DCN. ``x`` is
  ``cat(feat_n1, feat_n2)`` (2C channels), ``cond`` is ``cat(warped_n1, current, warped_n2)``
  (3C channels); the offsets are ``max_residue_magnitude * tanh(.)`` residues on top of the flows
  (flow_1 for the first C input channels, flow_2 for the last C); masks are sigmoids.
  :meth:`SecondOrderDeformableAlignment.align` does the whole second-order step (warping,
  flow composition, DCN) and also returns the warped features.

Flows follow :mod:`vsrkit.layers.warp` (``(B, 2, H, W)``, (dx, dy), backward warp).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .dcn import ModulatedDeformConv2d, modulated_deform_conv2d
from .warp import compose_flows, flow_warp


class ResidualBlockNoBN(nn.Module):
    def __init__(self, mid_channels: int = 64) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(mid_channels, mid_channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(mid_channels, mid_channels, 3, 1, 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(self.relu(self.conv1(x)))


class ConvResidualBlocks(nn.Module):
    def __init__(self, in_channels: int, mid_channels: int = 64, num_blocks: int = 5) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, 3, 1, 1),
            nn.LeakyReLU(negative_slope=0.1, inplace=True),
            nn.Sequential(*[ResidualBlockNoBN(mid_channels) for _ in range(num_blocks)]),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x)


class SecondOrderDeformableAlignment(ModulatedDeformConv2d):
    """Flow-guided deformable alignment of two propagated features onto the current frame."""

    def __init__(
        self, channels: int = 64, *, deform_groups: int = 16, max_residue_magnitude: float = 10.0,
        kernel_size: int = 3,
    ) -> None:
        if deform_groups % 2:
            raise ValueError(f"deform_groups must be even (half per flow), got {deform_groups}")
        super().__init__(
            2 * channels, channels, kernel_size, padding=kernel_size // 2, deform_groups=deform_groups
        )
        self.channels = channels
        self.max_residue_magnitude = max_residue_magnitude
        taps = kernel_size * kernel_size
        self.conv_offset = nn.Sequential(
            nn.Conv2d(3 * channels + 4, channels, 3, 1, 1),
            nn.LeakyReLU(negative_slope=0.1, inplace=True),
            nn.Conv2d(channels, channels, 3, 1, 1),
            nn.LeakyReLU(negative_slope=0.1, inplace=True),
            nn.Conv2d(channels, channels, 3, 1, 1),
            nn.LeakyReLU(negative_slope=0.1, inplace=True),
            nn.Conv2d(channels, 3 * taps * deform_groups, 3, 1, 1),
        )
        # BasicVSR++ zero-initialises this layer (offsets start at the flow, masks at 0.5). Exact zeros
        # would also cut the gradient to the earlier offset convs on the first steps, so start tiny.
        nn.init.normal_(self.conv_offset[-1].weight, std=1e-4)
        nn.init.zeros_(self.conv_offset[-1].bias)

    def forward(self, x: Tensor, cond: Tensor, flow_1: Tensor, flow_2: Tensor) -> Tensor:
        out = self.conv_offset(torch.cat([cond, flow_1, flow_2], dim=1))
        o1, o2, mask = torch.chunk(out, 3, dim=1)
        offset = self.max_residue_magnitude * torch.tanh(torch.cat((o1, o2), dim=1))
        off_1, off_2 = torch.chunk(offset, 2, dim=1)
        # Offsets are (dy, dx) pairs per tap and group; flows are (dx, dy): flip, then tile.
        off_1 = off_1 + flow_1.flip(1).repeat(1, off_1.shape[1] // 2, 1, 1)
        off_2 = off_2 + flow_2.flip(1).repeat(1, off_2.shape[1] // 2, 1, 1)
        return modulated_deform_conv2d(
            x, torch.cat([off_1, off_2], dim=1), torch.sigmoid(mask), self.weight, self.bias,
            stride=self.stride, padding=self.padding, dilation=self.dilation, deform_groups=self.deform_groups,
        )

    def align(
        self,
        feat_n1: Tensor,
        current: Tensor,
        flow_n1: Tensor,
        feat_n2: Tensor | None = None,
        flow_n2: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """One second-order step; returns ``(aligned, warped_n1, warped_n2)``.

        ``flow_n1`` goes from the current frame to the frame of ``feat_n1``; ``flow_n2`` from that
        frame to the frame of ``feat_n2`` (it is composed with ``flow_n1`` here). Without a
        second-order feature (``feat_n2=None``) the n2 terms are zeros, as in BasicVSR++.
        """
        warped_n1 = flow_warp(feat_n1, flow_n1)
        if feat_n2 is None:
            feat_n2 = torch.zeros_like(feat_n1)
            flow_2 = torch.zeros_like(flow_n1)
            warped_n2 = torch.zeros_like(feat_n1)
        else:
            if flow_n2 is None:
                raise ValueError("feat_n2 given without flow_n2")
            flow_2 = compose_flows(flow_n1, flow_n2)
            warped_n2 = flow_warp(feat_n2, flow_2)
        cond = torch.cat([warped_n1, current, warped_n2], dim=1)
        aligned = self(torch.cat([feat_n1, feat_n2], dim=1), cond, flow_n1, flow_2)
        return aligned, warped_n1, warped_n2
