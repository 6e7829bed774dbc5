"""Frame interpolation onto the exposure-centred HR time grid."""

from __future__ import annotations

import math

import pytest
import torch

from vsrkit.layers.interpolation import FlowInterpolator, LinearInterpolator, upsample_time


def _numbered(t: int) -> torch.Tensor:
    """Clip whose frame i is constant i."""
    return torch.arange(t, dtype=torch.float64).view(1, t, 1, 1, 1).expand(1, t, 3, 4, 5).contiguous()


def test_grid_places_lr_frames_at_exposure_centres() -> None:
    frames = _numbered(4)
    out = upsample_time(frames, 5, LinearInterpolator())
    assert out.shape == (1, 20, 3, 4, 5)
    values = out[0, :, 0, 0, 0]
    # LR frame i (the mean of HR frames 5i..5i+4) sits at 5i+2; between them a linear ramp.
    expected = torch.tensor([max(0.0, min(3.0, (n - 2) / 5)) for n in range(20)], dtype=torch.float64)
    torch.testing.assert_close(values, expected)
    for i in range(4):
        torch.testing.assert_close(out[:, 5 * i + 2], frames[:, i])


@pytest.mark.parametrize("factor", [1, 2, 4, 5])
def test_grid_other_factors_and_single_frame(factor: int) -> None:
    frames = _numbered(3)
    out = upsample_time(frames, factor, LinearInterpolator())
    assert out.shape[1] == 3 * factor
    centre = (factor - 1) // 2
    for i in range(3):
        torch.testing.assert_close(out[:, factor * i + centre], frames[:, i])
    single = upsample_time(frames[:, :1], factor, LinearInterpolator())
    assert single.shape[1] == factor and torch.equal(single, frames[:, :1].expand_as(single))


def _pattern(shift: float, h: int = 24, w: int = 32) -> torch.Tensor:
    """A smooth pattern translated right by ``shift`` pixels, (1, 3, H, W)."""
    y, x = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    xs = x - shift
    img = 0.5 + 0.25 * torch.sin(2 * math.pi * xs / 13) * torch.cos(2 * math.pi * y / 11) + 0.2 * torch.sin(xs / 5)
    return img.expand(1, 3, h, w).contiguous()


def test_flow_interpolation_follows_motion() -> None:
    """With the true flow, intermediate frames are the pattern at the intermediate positions."""
    d = 5.0  # integer shifts at t = k/5: bilinear warping is then exact

    def oracle(ref: torch.Tensor, supp: torch.Tensor) -> torch.Tensor:
        # Batch = [a→b, b→a]; a's pixel p is at p + d in b.
        n = ref.shape[0] // 2
        flow = ref.new_zeros(ref.shape[0], 2, *ref.shape[-2:])
        flow[:n, 0], flow[n:, 0] = d, -d
        return flow

    a, b = _pattern(0.0), _pattern(d)
    times = [0.2, 0.4, 0.6, 0.8]
    flow_frames = FlowInterpolator(oracle)(a, b, times)
    linear_frames = LinearInterpolator()(a, b, times)
    inner = (..., slice(None), slice(6, -6))
    for t, f, lin in zip(times, flow_frames, linear_frames):
        truth = _pattern(t * d)
        flow_err = (f - truth)[inner].abs().max()
        assert flow_err < 1e-9
        assert (lin - truth)[inner].abs().max() > 100 * flow_err + 0.01


def test_flow_interpolator_with_dis_beats_linear() -> None:
    pytest.importorskip("cv2", reason="DIS flow is the optional vsrkit[flow] extra")
    from vsrkit.layers.classical_flow import DISFlow

    d = 3.0
    a, b = _pattern(0.0, 64, 96).float(), _pattern(d, 64, 96).float()
    truth = _pattern(0.5 * d, 64, 96).float()
    mid_flow = FlowInterpolator(DISFlow())(a, b, [0.5])[0]
    mid_lin = LinearInterpolator()(a, b, [0.5])[0]
    inner = (..., slice(8, -8), slice(8, -8))
    assert (mid_flow - truth)[inner].abs().mean() < 0.5 * (mid_lin - truth)[inner].abs().mean()


def test_flow_interpolator_passes_gradients_to_the_flow_network() -> None:
    from vsrkit.layers.spynet import SPyNet

    net = SPyNet()
    frames = torch.rand(1, 2, 3, 16, 16)
    out = upsample_time(frames, 5, FlowInterpolator(net))
    assert out.shape == (1, 10, 3, 16, 16)
    out.square().mean().backward()
    assert net.basic_module[-1].basic_module[-1].weight.grad.abs().sum() > 0
    # The flow net is referenced, not owned: it does not become a submodule of anything.
    assert not isinstance(FlowInterpolator(net), torch.nn.Module)


def test_errors() -> None:
    with pytest.raises(ValueError, match="expected"):
        upsample_time(torch.rand(3, 3, 4, 4), 5, LinearInterpolator())
    with pytest.raises(ValueError, match="factor"):
        upsample_time(torch.rand(1, 3, 3, 4, 4), 0, LinearInterpolator())
