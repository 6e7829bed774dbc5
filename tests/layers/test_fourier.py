"""The closed-form Fourier data step against an iterative solver of the same objective."""

from __future__ import annotations

import itertools

import pytest
import torch

from vsrkit.layers.fourier import circular_degrade, fourier_data_step, kernel_to_otf, zero_upsample


def _dense_operator(kernel: torch.Tensor, anchor: tuple[int, int, int], hr: tuple[int, int, int],
                    scale: tuple[int, int, int]) -> torch.Tensor:
    """A as an explicit matrix, from the definition y[i] = Σ_j k[j] z[s·i + j - c] (mod N), no FFT."""
    t, h, w = (n // s for n, s in zip(hr, scale))
    a = torch.zeros(t * h * w, hr[0] * hr[1] * hr[2], dtype=torch.float64)
    for row, (it, ih, iw) in enumerate(itertools.product(range(t), range(h), range(w))):
        for jt, jh, jw in itertools.product(*(range(n) for n in kernel.shape)):
            zt = (scale[0] * it + jt - anchor[0]) % hr[0]
            zh = (scale[1] * ih + jh - anchor[1]) % hr[1]
            zw = (scale[2] * iw + jw - anchor[2]) % hr[2]
            a[row, (zt * hr[1] + zh) * hr[2] + zw] += kernel[jt, jh, jw]
    return a


def _conjugate_gradient(matvec, rhs: torch.Tensor, tol: float = 1e-14, max_iter: int = 5000) -> torch.Tensor:
    x = torch.zeros_like(rhs)
    r = rhs - matvec(x)
    p = r.clone()
    rr = r @ r
    for _ in range(max_iter):
        ap = matvec(p)
        step = rr / (p @ ap)
        x = x + step * p
        r = r - step * ap
        rr_new = r @ r
        if rr_new.sqrt() < tol * rhs.norm():
            break
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


@pytest.mark.parametrize(
    ("scale", "kshape", "anchor", "alpha"),
    [
        ((5, 4, 4), (5, 6, 6), (0, 2, 1), 0.05),  # the DAVSR sampling, asymmetric anchors
        ((2, 2, 3), (3, 3, 4), (1, 0, 3), 0.7),
        ((1, 2, 2), (1, 5, 3), (0, 2, 1), 2.0),  # no temporal sampling; kernel wraps around H
    ],
)
def test_closed_form_equals_conjugate_gradient(scale, kshape, anchor, alpha) -> None:
    gen = torch.Generator().manual_seed(1)
    lr = (2, 2, 2)
    hr = tuple(n * s for n, s in zip(lr, scale))
    kernel = torch.rand(kshape, generator=gen, dtype=torch.float64)
    kernel = kernel / kernel.sum()
    y = torch.rand(2, *lr, generator=gen, dtype=torch.float64)
    x = torch.rand(2, *hr, generator=gen, dtype=torch.float64)

    otf = kernel_to_otf(kernel, anchor, hr)
    closed = fourier_data_step(y, x, otf, alpha, scale)

    a = _dense_operator(kernel, anchor, hr, scale)
    for b in range(2):
        rhs = a.T @ y[b].flatten() + alpha * x[b].flatten()
        solution = _conjugate_gradient(lambda v: a.T @ (a @ v) + alpha * v, rhs)
        torch.testing.assert_close(closed[b].flatten(), solution, rtol=0, atol=1e-5)
        # And it is a minimiser: the objective's gradient vanishes there.
        grad = a.T @ (a @ closed[b].flatten() - y[b].flatten()) + alpha * (closed[b].flatten() - x[b].flatten())
        assert grad.abs().max() < 1e-10


def test_fft_operator_matches_definition() -> None:
    gen = torch.Generator().manual_seed(2)
    scale, anchor, hr = (5, 4, 4), (0, 6, 6), (10, 8, 12)
    kernel = torch.rand(5, 8, 12, generator=gen, dtype=torch.float64)
    z = torch.rand(hr, generator=gen, dtype=torch.float64)
    a = _dense_operator(kernel, anchor, hr, scale)
    lr = circular_degrade(z, kernel_to_otf(kernel, anchor, hr), scale)
    torch.testing.assert_close(lr.flatten(), a @ z.flatten(), rtol=0, atol=1e-12)


def test_batched_alpha_and_gradients() -> None:
    """Per-sample alpha broadcasts, and gradients flow to the estimate, the observation and alpha."""
    scale = (5, 4, 4)
    kernel = torch.full((5, 4, 4), 1 / 80, dtype=torch.float64)
    otf = kernel_to_otf(kernel, (0, 1, 1), (10, 8, 8))
    y = torch.rand(2, 3, 2, 2, 2, dtype=torch.float64, requires_grad=True)
    x = torch.rand(2, 3, 10, 8, 8, dtype=torch.float64, requires_grad=True)
    alpha = torch.tensor([0.1, 3.0], dtype=torch.float64).view(2, 1, 1, 1, 1).requires_grad_()
    z = fourier_data_step(y, x, otf, alpha, scale)
    for b in range(2):
        single = fourier_data_step(y[b], x[b], otf, float(alpha[b].detach()), scale)
        torch.testing.assert_close(z[b], single, rtol=0, atol=1e-12)
    assert torch.autograd.gradcheck(
        lambda yy, xx, aa: fourier_data_step(yy, xx, otf, aa, scale), (y[:1, :1], x[:1, :1], alpha[:1]),
    )


def test_large_alpha_keeps_estimate_and_consistent_input_is_fixed_point() -> None:
    kernel = torch.full((5, 4, 4), 1 / 80, dtype=torch.float64)
    otf = kernel_to_otf(kernel, (0, 1, 1), (10, 8, 8))
    x = torch.rand(1, 10, 8, 8, dtype=torch.float64)
    y = circular_degrade(x, otf, (5, 4, 4))
    # x already explains y exactly: the data step must not move it, whatever alpha.
    for alpha in (1e-3, 1.0, 1e3):
        torch.testing.assert_close(fourier_data_step(y, x, otf, alpha, (5, 4, 4)), x, rtol=0, atol=1e-9)
    other = torch.rand(1, 10, 8, 8, dtype=torch.float64)
    torch.testing.assert_close(fourier_data_step(y, other, otf, 1e9, (5, 4, 4)), other, rtol=0, atol=1e-6)


def test_zero_upsample_places_samples() -> None:
    y = torch.arange(8.0).view(2, 2, 2)
    up = zero_upsample(y, (5, 4, 4))
    assert up.shape == (10, 8, 8)
    torch.testing.assert_close(up[::5, ::4, ::4], y)
    assert up.sum() == y.sum()


def test_shape_errors() -> None:
    otf = kernel_to_otf(torch.ones(1, 1, 1), (0, 0, 0), (4, 4, 4))
    with pytest.raises(ValueError, match="upsampled"):
        fourier_data_step(torch.rand(2, 2, 2), torch.rand(4, 4, 5), otf, 1.0, 2)
    with pytest.raises(ValueError, match="three entries"):
        kernel_to_otf(torch.ones(5, 5, 5), (0, 0), (4, 8, 8))
