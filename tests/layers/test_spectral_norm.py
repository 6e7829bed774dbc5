"""SRNL and the exact conv spectrum: each number is checked against an independent computation."""

from __future__ import annotations

import pytest
import torch

from vsrkit import create_model
from vsrkit.layers.spectral_norm import (
    SpectralNormConv2d,
    bake_spectral_norm,
    conv_operator,
    conv_operator_adjoint,
    conv_singular_values,
    conv_spectral_norm,
    power_iteration,
)


def _dense_operator(weight: torch.Tensor, n: int) -> torch.Tensor:
    """The circular conv as an explicit matrix, one column per input basis vector."""
    c_in = weight.shape[1]
    basis = torch.eye(c_in * n * n, dtype=torch.float64).reshape(-1, c_in, n, n)
    return conv_operator(basis, weight.double(), "circular").reshape(c_in * n * n, -1).T


@pytest.mark.parametrize(("c_out", "c_in", "n"), [(2, 3, 5), (3, 2, 6), (4, 4, 4)])
def test_fft_spectrum_matches_dense_svd(c_out: int, c_in: int, n: int) -> None:
    weight = torch.randn(c_out, c_in, 3, 3)
    dense = torch.linalg.svdvals(_dense_operator(weight, n))
    fft = conv_singular_values(weight, n)
    assert fft.shape == (n * n * min(c_out, c_in),)
    torch.testing.assert_close(fft, dense[: fft.numel()], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("mode", ["circular", "zeros"])
def test_adjoint_is_the_transpose(mode: str) -> None:
    weight = torch.randn(5, 3, 3, 3, dtype=torch.float64)
    x = torch.randn(2, 3, 7, 9, dtype=torch.float64)
    y = torch.randn(2, 5, 7, 9, dtype=torch.float64)
    lhs = (conv_operator(x, weight, mode) * y).sum()
    rhs = (x * conv_operator_adjoint(y, weight, mode)).sum()
    torch.testing.assert_close(lhs, rhs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_power_iteration_agrees_with_fft_within_1_percent(seed: int) -> None:
    torch.manual_seed(seed)
    weight = torch.randn(12, 16, 3, 3) * 0.1
    n = 16
    sigma, _, _ = power_iteration(weight, torch.randn(1, 16, n, n), iterations=300)
    exact = conv_spectral_norm(weight, n)
    assert abs(float(sigma) - exact) / exact < 0.01


@pytest.mark.parametrize("target", [1.0, 0.5])
def test_bake_certifies_target(target: float) -> None:
    module = torch.nn.Sequential(SpectralNormConv2d(6, 4, target=target, size=8), torch.nn.ReLU())
    with torch.no_grad():
        module[0].weight.mul_(10.0)  # far from normalised before baking
    assert conv_spectral_norm(module[0].weight, 16) > 3 * target
    sigmas = bake_spectral_norm(module, n=16)
    assert type(module[0]) is torch.nn.Conv2d and set(sigmas) == {"0"}
    exact = conv_spectral_norm(module[0].weight, 16)
    assert exact <= target + 1e-4
    assert exact == pytest.approx(target, rel=1e-5)


def test_training_mode_converges_and_eval_is_exact() -> None:
    layer = SpectralNormConv2d(8, 8, target=0.8, size=8, iterations=1, warmup_iterations=1)
    x = torch.randn(1, 8, 8, 8)
    layer.train()
    for _ in range(200):
        layer(x)
    trained = conv_spectral_norm(layer.normalized_weight().detach(), 8)
    assert trained == pytest.approx(0.8, rel=0.01)
    layer.eval()
    assert conv_spectral_norm(layer.normalized_weight().detach(), 8) == pytest.approx(0.8, rel=1e-6)


def test_gradient_flows_through_the_normalisation() -> None:
    layer = SpectralNormConv2d(4, 4, size=8).train()
    layer(torch.randn(1, 4, 8, 8)).square().sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0


def test_invalid_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="target"):
        SpectralNormConv2d(4, 4, target=0.0)
    with pytest.raises(ValueError, match="n=2"):
        conv_singular_values(torch.randn(2, 2, 3, 3), 2)


def test_mrvsr_state_update_is_contractive() -> None:
    """With Φ0/Φ1 at 0.9 the map h[t-1] -> h[t] shrinks state differences by at least ~0.81."""
    model = create_model("mrvsr", pretrained=False, filters=8, srnl_target=0.9, srnl_size=16).eval()
    with torch.no_grad():
        for conv in (model.phi0, model.phi1):
            conv.weight.mul_(5.0)
        window = torch.rand(1, 3, 3, 16, 16)
        h1, h2 = torch.randn(2, 1, 8, 16, 16).unbind(0)
        _, n1 = model.step(window, h1)
        _, n2 = model.step(window, h2)
    ratio = float((n1 - n2).norm() / (h1 - h2).norm())
    # The zero-padded operator norm is bounded by the continuous-frequency supremum, which the
    # 16x16 grid approximates to well under 1 % for 3x3 kernels.
    assert ratio <= 0.81 * 1.01


def test_mrvsr_baked_matches_eval_and_is_plain() -> None:
    model = create_model("mrvsr", pretrained=False, filters=8, srnl_size=16).eval()
    baked = model.baked(n=16).eval()
    assert baked.hparams["srnl_target"] is None
    assert set(baked.state_dict()) == set(model.state_dict())
    for name in ("phi0", "phi1"):
        assert type(getattr(baked, name)) is torch.nn.Conv2d
        assert conv_spectral_norm(getattr(baked, name).weight, 16) <= 1.0 + 1e-4
    clip = torch.rand(1, 3, 3, 12, 12)
    with torch.no_grad():
        torch.testing.assert_close(baked(clip), model(clip), rtol=1e-5, atol=1e-5)
