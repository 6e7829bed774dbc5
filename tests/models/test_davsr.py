"""DAVSR and the space-time cascade baseline: parameter count, wiring of the unfolded iterations, time grid."""

from __future__ import annotations

import pytest
import torch

from vsrkit import create_model
from vsrkit.degradations import get_degradation
from vsrkit.layers.fourier import circular_degrade, kernel_to_otf
from vsrkit.layers.resize import imresize
from vsrkit.models import count_parameters
from vsrkit.models import davsr as davsr_module
from vsrkit.models._registry import build_model
from vsrkit.models.davsr import DAVSR, HyPaNet, parameter_breakdown

SMALL = {
    "mid_channels": 8, "num_extract_blocks": 1, "num_propagation_blocks": 1, "num_reconstruction_blocks": 1,
    "deform_groups": 4, "hr_channels": 8, "flow": "spynet", "interpolation": "linear",
}


def test_full_preset_parameter_count_and_breakdown() -> None:
    total = count_parameters("davsr")
    with torch.device("meta"):
        model = build_model(DAVSR, {})
    parts = parameter_breakdown(model)
    assert sum(parts.values()) == total
    assert parts["spynet"] == 1_440_300 and parts["hypanet"] == 438
    # The official ≈ 7.47 M also counts a never-called ResUNet prior of about 72 K.
    assert abs(total + 72_000 - 7_470_000) / 7_470_000 < 0.005
    # The docstring's table states exactly these numbers.
    doc = davsr_module.__doc__ or ""
    for value in [*parts.values(), total]:
        assert f"{value:,}" in doc, value


def test_hypanet_is_the_official_size_and_positive() -> None:
    net = HyPaNet(iterations=3)
    assert sum(p.numel() for p in net.parameters()) == 438
    alpha, beta = net(torch.tensor([[0.0, 5.0, 4.0], [0.1, 5.0, 4.0]]))
    assert alpha.shape == beta.shape == (2, 3)
    assert (alpha > 0).all() and (beta > 0).all()


def _identity_enhancer(model: DAVSR) -> None:
    model.enhancer.forward = lambda x: x  # type: ignore[method-assign]


def test_unfolded_data_steps_fit_the_observation() -> None:
    """With the learned prior switched off (identity enhancer), the output is the last data step: it
    must explain the LR input through the stvsr forward model (circular), and more so than X₀."""
    model = create_model("davsr", pretrained=False, **SMALL).double().eval()
    _identity_enhancer(model)
    alpha = model.hyper_parameters(1, torch.zeros(1, dtype=torch.float64))[0][0].detach()
    assert ((alpha > 1e-3) & (alpha < 0.1)).all()  # a real data step from initialisation on
    lr = torch.rand(1, 3, 3, 6, 8, dtype=torch.float64)
    with torch.no_grad():
        out = model(lr)
        x0 = model.initial_estimate(lr)
    otf = kernel_to_otf(model.kernel, model.kernel_anchor, (15, 24, 32))

    def residual(x: torch.Tensor) -> float:
        return float((circular_degrade(x.transpose(1, 2), otf, (5, 4, 4)) - lr.transpose(1, 2)).norm())

    assert residual(out) < 0.5 * residual(x0)
    # Three data steps from X₀ equal the closed form applied three times with HyPaNet's alphas.
    from vsrkit.layers.fourier import fourier_data_step

    x = x0.transpose(1, 2)
    for k in range(3):
        x = fourier_data_step(lr.transpose(1, 2), x, otf, float(alpha[k]), (5, 4, 4))
    torch.testing.assert_close(out.transpose(1, 2), x, rtol=0, atol=1e-10)


def test_stvsr_of_a_static_scene_round_trip() -> None:
    """A static scene degraded by stvsr and run through the identity-prior model stays static in time."""
    model = create_model("davsr", pretrained=False, **SMALL).double().eval()
    _identity_enhancer(model)
    frame = torch.rand(3, 24, 32, dtype=torch.float64)
    lr, target = get_degradation("stvsr").pair(frame.expand(10, 3, 24, 32).contiguous(), 4)
    with torch.no_grad():
        out = model(lr.unsqueeze(0).double())[0]
    assert out.shape == target.shape
    torch.testing.assert_close(out, out[:1].expand_as(out), rtol=0, atol=1e-9)


def test_enhancer_is_bidirectional_and_shared_across_iterations() -> None:
    model = create_model("davsr", pretrained=False, **{**SMALL, "iterations": 2}).train()
    lr = torch.rand(1, 3, 3, 4, 4, requires_grad=True)
    out = model(lr)
    assert out.shape == (1, 15, 3, 16, 16)
    out[:, 0].sum().backward()
    # The first output frame sees the last LR frame (backward propagation) ...
    assert lr.grad[:, -1].abs().sum() > 0
    # ... and one enhancer serves all iterations: its parameters are counted once.
    names = [n for n, _ in model.named_parameters()]
    assert sum(n.startswith("enhancer.conv_last") for n in names) == 2
    assert model.iterations == 2


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="scale 4 only"):
        DAVSR(scale=2)
    with pytest.raises(ValueError, match="needs flow='spynet'"):
        DAVSR(flow="dis", interpolation="spynet")
    with pytest.raises(ValueError, match="interpolation"):
        DAVSR(interpolation="slomo")  # type: ignore[arg-type]


def test_cascade_baseline_is_bicubic_plus_linear() -> None:
    model = create_model("cascade-bicubic-linear")
    assert model.temporal_scale == 5 and model.scale == 4
    lr = torch.rand(1, 3, 3, 6, 7)
    out = model(lr)
    assert out.shape == (1, 15, 3, 24, 28)
    up = imresize(lr, scale=4)
    for i in range(3):
        torch.testing.assert_close(out[:, 5 * i + 2], up[:, i], rtol=0, atol=1e-6)
    torch.testing.assert_close(out[:, 3], 0.8 * up[:, 0] + 0.2 * up[:, 1], rtol=0, atol=1e-6)
    torch.testing.assert_close(out[:, :2], up[:, :1].expand(1, 2, 3, 24, 28), rtol=0, atol=1e-6)
    torch.testing.assert_close(out[:, -2:], up[:, -1:].expand(1, 2, 3, 24, 28), rtol=0, atol=1e-6)


def test_upscaler_chunks_give_five_frames_per_input_in_order() -> None:
    """Through the Upscaler's chunked path (chunk 1, warm-up 2 covering the whole 3-frame clip), every
    input frame yields its 5 output frames, identical to the whole-clip run."""
    from vsrkit.engine.upscaler import Upscaler

    model = create_model("davsr", pretrained=False, **{**SMALL, "iterations": 1}).eval()
    lr = torch.rand(3, 3, 8, 8)
    with torch.no_grad():
        whole = model(lr[None])[0]
    up = Upscaler(model, device="cpu", precision="fp32", chunk=1, warmup=2)
    chunked = up.upscale_clip(lr)
    assert chunked.shape == (15, 3, 32, 32)
    torch.testing.assert_close(chunked, whole.clamp(0, 1), rtol=0, atol=1e-5)
