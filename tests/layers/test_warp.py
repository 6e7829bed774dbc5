"""Flow warping: integer flows are shifts, composition, border modes, gradient."""

from __future__ import annotations

import torch

from vsrkit.layers.warp import compose_flows, flow_warp


def _const_flow(b: int, h: int, w: int, dx: float, dy: float) -> torch.Tensor:
    flow = torch.empty(b, 2, h, w)
    flow[:, 0], flow[:, 1] = dx, dy
    return flow


def test_integer_flow_is_a_shift() -> None:
    x = torch.rand(2, 3, 7, 9)
    out = flow_warp(x, _const_flow(2, 7, 9, dx=2, dy=-1))
    # out[y, x] = src[y - 1, x + 2]; rows/cols sampled outside the frame are zero.
    expected = torch.zeros_like(x)
    expected[:, :, 1:, :-2] = x[:, :, :-1, 2:]
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)


def test_zero_flow_is_identity_and_border_replicates() -> None:
    x = torch.rand(1, 2, 5, 6)
    torch.testing.assert_close(flow_warp(x, torch.zeros(1, 2, 5, 6)), x, rtol=0, atol=1e-6)
    out = flow_warp(x, _const_flow(1, 5, 6, dx=-3, dy=0), padding_mode="border")
    expected = torch.cat([x[..., :1].expand(-1, -1, -1, 3), x[..., :3]], dim=-1)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)


def test_half_pixel_flow_is_bilinear() -> None:
    x = torch.rand(1, 1, 4, 5)
    out = flow_warp(x, _const_flow(1, 4, 5, dx=0.5, dy=0.0))
    torch.testing.assert_close(out[..., :-1], 0.5 * (x[..., :-1] + x[..., 1:]), rtol=0, atol=1e-6)
    # The last column reads half from outside the frame, which is zero.
    torch.testing.assert_close(out[..., -1], 0.5 * x[..., -1], rtol=0, atol=1e-6)


def test_size_one_dimension_still_shifts() -> None:
    x = torch.rand(1, 1, 1, 6)
    out = flow_warp(x, _const_flow(1, 1, 6, dx=1, dy=0))
    torch.testing.assert_close(out[..., :-1], x[..., 1:], rtol=0, atol=1e-6)


def test_compose_constant_flows_adds() -> None:
    f1, f2 = _const_flow(1, 6, 6, 1, 0), _const_flow(1, 6, 6, 0, 2)
    comp = compose_flows(f1, f2)
    # Inside the frame the composition of two translations is their sum.
    torch.testing.assert_close(comp[..., :4, :5], _const_flow(1, 6, 6, 1, 2)[..., :4, :5])


def test_gradient_reaches_flow_and_input() -> None:
    x = torch.rand(1, 2, 6, 6, requires_grad=True)
    flow = (torch.rand(1, 2, 6, 6) * 2 - 1).requires_grad_()
    flow_warp(x, flow).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert flow.grad is not None and flow.grad.abs().sum() > 0


def test_bf16_inputs_keep_subpixel_positions() -> None:
    # bf16 cannot represent 180.25; positions must be computed in float32 anyway.
    x = torch.linspace(0, 1, 256).view(1, 1, 1, 256).expand(1, 1, 2, 256).contiguous()
    flow = _const_flow(1, 2, 256, dx=0.25, dy=0.0)
    ref = flow_warp(x, flow)
    out = flow_warp(x.bfloat16(), flow.bfloat16())
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float()[..., 150:200], ref[..., 150:200], rtol=0, atol=4e-3)
