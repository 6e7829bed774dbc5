"""Closed-form 3-D data step of DAVSR (its "Fourier data transform", specs §2.3 step 5).

It solves, for a space-time blur ``K`` and sampling ``s = (s_t, s_h, s_w)``::

    Z = argmin_Z ||Y - (Z ⊛ K)↓s||² + α ||Z - X||²

exactly, under circular boundary conditions, in the Fourier domain. This is USRNet's single-image
formula extended to three axes: the normal equations ``(AᵀA + αI) Z = AᵀY + αX`` are inverted
with the Woodbury identity, and the only non-diagonal part, ``S Sᵀ``, becomes an average over the
``s_t·s_h·s_w`` poly-phase blocks of the spectrum.

Kernel convention (shared with :mod:`vsrkit.degradations.stvsr`): a small kernel ``k`` with an
``anchor`` index ``c`` per axis means ``(Z ⊛ K)↓s [i] = Σ_j k[j] · Z[s·i + j - c]`` (a correlation,
wrapping circularly). So the temporal box ``[1/5]*5`` with anchor 0 averages HR frames
``5i .. 5i+4`` into LR frame ``i``, the pairing of the REDS ``train_orig`` / ``blur_bicubic`` data.

Everything is plain differentiable torch (``torch.fft``), batched over leading dimensions and
device-agnostic. Spatial sizes must be multiples of the sampling factors.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

Triple = tuple[int, int, int]
_DIMS = (-3, -2, -1)


def _triple(scale: int | Sequence[int]) -> Triple:
    if isinstance(scale, int):
        return (scale, scale, scale)
    values = tuple(int(v) for v in scale)
    if len(values) != 3 or min(values) < 1:
        raise ValueError(f"scale must be three positive ints (t, h, w), got {scale!r}")
    return values  # type: ignore[return-value]


def kernel_to_otf(kernel: Tensor, anchor: Sequence[int], shape: Sequence[int]) -> Tensor:
    """Spectrum of the circular convolution matching the correlation ``(kernel, anchor)``.

    Args:
        kernel: real ``(kt, kh, kw)`` kernel.
        anchor: index of ``kernel`` that multiplies ``Z[s·i]`` (see the module docstring).
        shape: ``(T, H, W)`` of the high-resolution signal.

    Returns:
        complex ``(T, H, W)`` tensor ``FFT₃(K)``.
    """
    if kernel.ndim != 3:
        raise ValueError(f"kernel must be (kt, kh, kw), got shape {tuple(kernel.shape)}")
    shape = tuple(int(v) for v in shape)
    if len(shape) != 3 or len(anchor) != 3:
        raise ValueError(f"shape and anchor need three entries, got {shape} and {tuple(anchor)}")
    # Correlation with k at anchor c is convolution with K[(c - j) mod N] = k[j]. Taps landing on
    # the same position (kernel longer than the signal) add up, as circular convolution does.
    idx = [(int(c) - torch.arange(k, device=kernel.device)) % n for c, k, n in zip(anchor, kernel.shape, shape)]
    flat = ((idx[0][:, None, None] * shape[1] + idx[1][None, :, None]) * shape[2] + idx[2][None, None, :])
    full = kernel.new_zeros(shape[0] * shape[1] * shape[2])
    full.index_add_(0, flat.reshape(-1), kernel.reshape(-1))
    full = full.view(shape)
    return torch.fft.fftn(full, dim=(0, 1, 2))


def bicubic_kernel_1d(scale: int) -> tuple[Tensor, int]:
    """The taps MATLAB ``imresize(x, 1/scale, 'bicubic')`` applies away from borders, and their anchor.

    Returns ``(taps, anchor)`` in the correlation convention above: LR sample ``i`` is
    ``Σ_j taps[j] · x[scale·i + j - anchor]`` (float64). Read off :func:`vsrkit.layers.resize.imresize`'s
    own weight matrix so both always agree.
    """
    from .resize import _resize_matrix

    if scale < 1:
        raise ValueError(f"scale must be a positive int, got {scale}")
    n_out = 16
    row = n_out // 2
    # Always on the CPU: callers may be inside a meta/other device context (parameter counting), and
    # _resize_matrix caches its result for imresize.
    with torch.device("cpu"):
        weights = _resize_matrix(n_out * scale, n_out, 1.0 / scale, True)[row]
        support = weights.nonzero().flatten()
    first, last = int(support[0]), int(support[-1])
    return weights[first : last + 1].clone(), scale * row - first


def zero_upsample(y: Tensor, scale: int | Sequence[int]) -> Tensor:
    """``Sᵀ y``: LR samples placed at ``[::s_t, ::s_h, ::s_w]`` of a zero HR grid."""
    st, sh, sw = _triple(scale)
    t, h, w = y.shape[-3:]
    out = y.new_zeros(*y.shape[:-3], t * st, h * sh, w * sw)
    out[..., ::st, ::sh, ::sw] = y
    return out


def _block_mean(a: Tensor, scale: Triple) -> Tensor:
    # Split every frequency axis into s contiguous chunks and average the chunks: the spectrum of
    # S Sᵀ-filtered data (aliasing of decimation by s).
    st, sh, sw = scale
    t, h, w = a.shape[-3:]
    lead = a.shape[:-3]
    a = a.reshape(*lead, st, t // st, sh, h // sh, sw, w // sw)
    n = len(lead)
    return a.mean(dim=(n, n + 2, n + 4))


def circular_degrade(z: Tensor, otf: Tensor, scale: int | Sequence[int]) -> Tensor:
    """``(Z ⊛ K)↓s`` with circular boundaries, for ``z`` ``(..., T, H, W)``."""
    st, sh, sw = _triple(scale)
    blurred = torch.fft.ifftn(torch.fft.fftn(z, dim=_DIMS) * otf, dim=_DIMS).real
    return blurred[..., ::st, ::sh, ::sw]


def fourier_data_step(
    y: Tensor, x: Tensor, otf: Tensor, alpha: Tensor | float, scale: int | Sequence[int]
) -> Tensor:
    """Exact minimiser of ``||y - (Z ⊛ K)↓s||² + α ||Z - x||²``.

    Args:
        y: LR observation ``(..., t, h, w)``.
        x: current HR estimate ``(..., s_t·t, s_h·h, s_w·w)``.
        otf: ``FFT₃(K)`` from :func:`kernel_to_otf`, shape ``(T, H, W)`` (or broadcastable).
        alpha: positive weight, a float or a tensor broadcastable to ``x`` (e.g. ``(B, 1, 1, 1, 1)``).
        scale: ``(s_t, s_h, s_w)`` or one int for all three.
    """
    s = _triple(scale)
    if tuple(x.shape[-3:]) != tuple(n * f for n, f in zip(y.shape[-3:], s)):
        raise ValueError(f"x {tuple(x.shape)} is not y {tuple(y.shape)} upsampled by {s}")
    # Real dtypes of the spectrum follow x; float64 in, complex128 spectrum.
    fb = otf.to(device=x.device, dtype=torch.complex128 if x.dtype == torch.float64 else torch.complex64)
    fbc = fb.conj()
    f2b = (fb * fbc).real
    fr = fbc * torch.fft.fftn(zero_upsample(y, s), dim=_DIMS) + torch.fft.fftn(alpha * x, dim=_DIMS)
    fbr = _block_mean(fb * fr, s)
    inv_w = _block_mean(f2b, s)
    inv_wbr = fbr / (inv_w + alpha)
    fcb_inv_wbr = fbc * inv_wbr.repeat(*([1] * (inv_wbr.ndim - 3)), *s)
    fx = (fr - fcb_inv_wbr) / alpha
    return torch.fft.ifftn(fx, dim=_DIMS).real
