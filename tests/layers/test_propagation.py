"""Residual trunks and BasicVSR++ second-order flow-guided deformable alignment."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vsrkit.layers.propagation import ConvResidualBlocks, ResidualBlockNoBN, SecondOrderDeformableAlignment
from vsrkit.layers.warp import flow_warp


def _const_flow(h: int, w: int, dx: float, dy: float) -> torch.Tensor:
    flow = torch.empty(1, 2, h, w)
    flow[:, 0], flow[:, 1] = dx, dy
    return flow


def test_residual_block_is_identity_with_zero_second_conv() -> None:
    block = ResidualBlockNoBN(8)
    torch.nn.init.zeros_(block.conv2.weight)
    torch.nn.init.zeros_(block.conv2.bias)
    x = torch.randn(1, 8, 5, 5)
    torch.testing.assert_close(block(x), x)


def test_conv_residual_blocks_names_and_count() -> None:
    trunk = ConvResidualBlocks(384, 64, 7)
    assert sum(p.numel() for p in trunk.parameters()) == 384 * 64 * 9 + 64 + 7 * 2 * (64 * 64 * 9 + 64)
    assert "main.2.6.conv2.bias" in trunk.state_dict()
    assert trunk(torch.rand(1, 384, 4, 4)).shape == (1, 64, 4, 4)


def test_alignment_with_zero_residue_is_flow_warp_then_half_masked_conv() -> None:
    c = 8
    align = SecondOrderDeformableAlignment(c, deform_groups=4).double()
    with torch.no_grad():
        align.conv_offset[-1].weight.zero_()
        torch.nn.init.normal_(align.bias)
    h, w = 12, 13
    f1, f2, cur = (torch.rand(1, c, h, w, dtype=torch.float64) for _ in range(3))
    flow1 = _const_flow(h, w, 2, -1).double()  # current -> n1
    flow_12 = _const_flow(h, w, -1, 1).double()  # n1 -> n2
    out, warped_1, warped_2 = align.align(f1, cur, flow1, f2, flow_12)
    # Zero residues: offsets are the flows (n1 for the first C channels, the composed n1+n12 for the
    # last C) and masks are sigmoid(0) = 0.5. Away from the border this is a plain conv of the
    # warped features.
    torch.testing.assert_close(warped_1, flow_warp(f1, flow1))
    torch.testing.assert_close(warped_2[..., 2:-2, 2:-2], flow_warp(f2, _const_flow(h, w, 1, 0).double())[..., 2:-2, 2:-2])
    stacked = torch.cat([flow_warp(f1, flow1), flow_warp(f2, _const_flow(h, w, 1, 0).double())], dim=1)
    ref = F.conv2d(0.5 * stacked, align.weight, align.bias, padding=1)
    torch.testing.assert_close(out[..., 4:-4, 4:-4], ref[..., 4:-4, 4:-4])


def test_alignment_without_second_order_and_gradients() -> None:
    align = SecondOrderDeformableAlignment(8, deform_groups=2)
    f1, cur = torch.rand(1, 8, 6, 7), torch.rand(1, 8, 6, 7)
    flow = torch.randn(1, 2, 6, 7).requires_grad_()
    out, _, warped_2 = align.align(f1, cur, flow)
    assert out.shape == (1, 8, 6, 7) and torch.all(warped_2 == 0)
    out.square().mean().backward()
    assert flow.grad is not None and flow.grad.abs().sum() > 0
    missing = [n for n, p in align.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing


def test_full_size_parameter_count() -> None:
    # BasicVSR++ / HiRN alignment with 64 channels and 16 deformable groups.
    align = SecondOrderDeformableAlignment(64, deform_groups=16)
    assert sum(p.numel() for p in align.parameters()) == 509_872
