"""SPyNet: parameter count, pyramid accumulation and rescaling, gradients."""

from __future__ import annotations

import torch

from vsrkit.layers.spynet import SPyNet


def test_parameter_count_and_names() -> None:
    net = SPyNet()
    assert sum(p.numel() for p in net.parameters()) == 1_440_300
    names = set(net.state_dict())
    assert "basic_module.5.basic_module.8.weight" in names
    assert "mean" not in names  # constants are not weights


def test_constant_residuals_accumulate_over_the_pyramid_and_rescale() -> None:
    net = SPyNet()
    bx, by = 0.25, -0.5
    with torch.no_grad():
        for module in net.basic_module:
            for conv in module.basic_module:
                if isinstance(conv, torch.nn.Conv2d):
                    conv.weight.zero_()
                    conv.bias.zero_()
            module.basic_module[-1].bias.copy_(torch.tensor([bx, by]))
    ref, supp = torch.rand(2, 3, 40, 50), torch.rand(2, 3, 40, 50)
    flow = net(ref, supp)
    assert flow.shape == (2, 2, 40, 50)
    # Each level doubles the flow so far and adds the residual: (1+2+...+32) * b = 63 b at 64×64,
    # then scaled by 50/64 horizontally and 40/64 vertically.
    torch.testing.assert_close(flow[:, 0], torch.full((2, 40, 50), 63 * bx * 50 / 64))
    torch.testing.assert_close(flow[:, 1], torch.full((2, 40, 50), 63 * by * 40 / 64))


def test_tiny_and_odd_inputs_and_gradient() -> None:
    net = SPyNet()
    ref = torch.rand(1, 3, 9, 13, requires_grad=True)
    flow = net(ref, torch.rand(1, 3, 9, 13))
    assert flow.shape == (1, 2, 9, 13) and torch.isfinite(flow).all()
    flow.square().mean().backward()
    assert ref.grad is not None and ref.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
