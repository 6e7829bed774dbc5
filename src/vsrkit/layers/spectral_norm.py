"""Spectral norm of convolution *operators*, exact and estimated, and SRNL (MRVSR's constraint).

A conv layer's Lipschitz constant is the largest singular value of the linear map it applies to a
whole feature map, not of its reshaped ``(C_out, C_in*k*k)`` kernel matrix (the common
``torch.nn.utils.spectral_norm`` normalises the latter, which neither bounds nor equals the former).

* :func:`conv_singular_values` is exact: with circular padding on ``n x n`` inputs the operator is
  block-circulant, so the 2-D DFT block-diagonalises it and its singular values are those of the
  ``C_out x C_in`` matrices ``K(w)`` at the ``n^2`` frequencies (Sedghi, Gupta & Long, ICLR 2019).
* :class:`SpectralNormConv2d` (SRNL) estimates the same number during training by power iteration
  with the convolution and its adjoint (``conv_transpose2d``) on a persistent feature-shaped vector,
  then uses ``weight * target / sigma``. In eval mode it divides by the exact value instead, so a
  saved model behaves deterministically.
* :func:`bake_spectral_norm` replaces those layers by plain convs with normalised weights, so
  exported weights need nothing at inference.

About padding: the layers themselves zero-pad. The zero-padded operator on any image size is bounded
by ``sup_w sigma_max(K(w))`` over continuous frequencies, which the ``n x n`` grid samples (for a 3x3
kernel the grid maximum at n = 128 is within ~1e-3 relative of the supremum). The certificate is the
circular-padding value at a stated ``n``, as in the paper's SVD figure.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def conv_singular_values(weight: Tensor, n: int, *, chunk: int = 256) -> Tensor:
    """All singular values of the circular convolution with ``weight`` on ``n x n`` inputs.

    ``weight`` is ``(C_out, C_in, kh, kw)`` (stride 1). Returns a float64 tensor of
    ``n * n * min(C_out, C_in)`` values, sorted in descending order. Flipping or shifting the kernel
    (correlation vs convolution, padding offset) multiplies each ``K(w)`` by a unit phase or maps
    ``w`` to ``-w``, neither of which changes the set of singular values.
    """
    if weight.ndim != 4:
        raise ValueError(f"expected a (C_out, C_in, kh, kw) kernel, got shape {tuple(weight.shape)}")
    kh, kw = weight.shape[-2:]
    if n < max(kh, kw):
        raise ValueError(f"n={n} must be at least the kernel size {kh}x{kw}")
    w = weight.detach().to("cpu", torch.float64)
    # Real kernel: K(-w) = conj(K(w)) has the same singular values, so half the plane suffices;
    # interior rfft columns stand for two frequencies each.
    spec = torch.fft.rfft2(w, s=(n, n)).permute(2, 3, 0, 1)  # (n, n//2+1, C_out, C_in)
    cols = spec.shape[1]
    mats = spec.reshape(-1, *spec.shape[2:])
    values = torch.cat([torch.linalg.svdvals(mats[i : i + chunk]) for i in range(0, mats.shape[0], chunk)])
    values = values.reshape(n, cols, -1)
    last = cols - 1 if n % 2 == 0 else cols  # the Nyquist column is its own mirror for even n
    full = torch.cat([values.flatten(), values[:, 1:last].flatten()])
    return full.sort(descending=True).values


def conv_spectral_norm(weight: Tensor, n: int) -> float:
    """Exact largest singular value of the circular convolution on ``n x n`` (see above)."""
    return float(conv_singular_values(weight, n)[0])


def _pad_for(weight: Tensor) -> tuple[int, int]:
    kh, kw = weight.shape[-2:]
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"odd 'same' kernels only, got {kh}x{kw}")
    return kh // 2, kw // 2


def conv_operator(x: Tensor, weight: Tensor, padding_mode: str = "circular") -> Tensor:
    """The linear part of a stride-1 'same' conv: ``A x`` (no bias)."""
    ph, pw = _pad_for(weight)
    if padding_mode == "circular":
        return F.conv2d(F.pad(x, (pw, pw, ph, ph), mode="circular"), weight)
    if padding_mode == "zeros":
        return F.conv2d(x, weight, padding=(ph, pw))
    raise ValueError(f"padding_mode must be 'circular' or 'zeros', got {padding_mode!r}")


def conv_operator_adjoint(y: Tensor, weight: Tensor, padding_mode: str = "circular") -> Tensor:
    """``A^T y`` for :func:`conv_operator`, via ``conv_transpose2d``."""
    ph, pw = _pad_for(weight)
    if padding_mode == "circular":
        # Transposed conv of the circularly extended map, cropped back: the wrap-around terms of
        # the adjoint come from the extension.
        return F.conv_transpose2d(F.pad(y, (pw, pw, ph, ph), mode="circular"), weight, padding=(2 * ph, 2 * pw))
    if padding_mode == "zeros":
        return F.conv_transpose2d(y, weight, padding=(ph, pw))
    raise ValueError(f"padding_mode must be 'circular' or 'zeros', got {padding_mode!r}")


def _normalize(x: Tensor, eps: float = 1e-12) -> Tensor:
    return x / x.norm().clamp_min(eps)


def power_iteration(
    weight: Tensor, v: Tensor, iterations: int, padding_mode: str = "circular"
) -> tuple[Tensor, Tensor, Tensor]:
    """Run ``iterations`` power steps on ``A^T A`` from ``v``; returns ``(sigma, u, v)``.

    ``sigma = <u, A v>`` is differentiable w.r.t. ``weight`` (``u``, ``v`` are detached), its
    gradient being ``u v^T`` as for the exact top singular value.
    """
    with torch.no_grad():
        w = weight.detach()
        v = _normalize(v)
        for _ in range(iterations):
            u = _normalize(conv_operator(v, w, padding_mode))
            v = _normalize(conv_operator_adjoint(u, w, padding_mode))
        u = _normalize(conv_operator(v, w, padding_mode))
    sigma = (u * conv_operator(v, weight, padding_mode)).sum()
    return sigma, u, v


class SpectralNormConv2d(nn.Conv2d):
    """A 'same' conv whose operator norm is held at ``target`` (SRNL).

    The state dict is that of a plain ``nn.Conv2d`` (raw ``weight`` and ``bias``), so weights move
    freely between constrained and plain models. Training mode: ``iterations`` power steps per
    forward on a persistent ``(1, C_in, size, size)`` vector (circular padding, the operator the
    certificate measures), weight divided by the estimate. Eval mode: divided by the exact
    :func:`conv_spectral_norm` at ``size``, cached until the weight changes.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        *,
        target: float = 1.0,
        size: int = 32,
        iterations: int = 1,
        warmup_iterations: int = 30,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        if not target > 0:
            raise ValueError(f"target spectral norm must be > 0, got {target}")
        if size < kernel_size:
            raise ValueError(f"power-iteration size {size} is smaller than the kernel {kernel_size}")
        if iterations < 1:
            raise ValueError(f"iterations must be >= 1, got {iterations}")
        self.target = float(target)
        self.size = int(size)
        self.iterations = int(iterations)
        self.warmup_iterations = int(warmup_iterations)
        # The right singular vector estimate, carried across steps but not saved (it is a cache).
        v = torch.empty(1, in_channels, size, size)
        if not v.is_meta:  # random ops on meta import torch._refs (slow); the shape is all meta needs
            v.normal_()
        self.register_buffer("sn_v", v, persistent=False)
        self._warm = False
        self._eval_cache: tuple[tuple, Tensor] | None = None
        # Keyed by grad mode: a weight normalised under no_grad (a burn-in) has no graph to train through.
        self._step_cache: dict[bool, Tensor] = {}
        self._caching = False
        self.last_sigma: float | None = None

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, target={self.target}, size={self.size}"

    def _exact_sigma(self) -> Tensor:
        w = self.weight
        key = (w.data_ptr(), w._version, w.device, w.dtype)
        if self._eval_cache is None or self._eval_cache[0] != key:
            sigma = conv_spectral_norm(w, self.size)
            self._eval_cache = (key, torch.tensor(sigma, dtype=w.dtype, device=w.device))
        return self._eval_cache[1]

    def normalized_weight(self) -> Tensor:
        grad_mode = torch.is_grad_enabled()
        if self._caching and grad_mode in self._step_cache:
            return self._step_cache[grad_mode]
        if self.training:
            steps = self.iterations if self._warm else max(self.iterations, self.warmup_iterations)
            # Full precision even under AMP: a bf16 estimate would be off by ~0.5 %.
            with torch.autocast(device_type=self.weight.device.type, enabled=False):
                sigma, _, v = power_iteration(self.weight.float(), self.sn_v.float(), steps)
            with torch.no_grad():
                self.sn_v.copy_(v)
            self._warm = True
        else:
            sigma = self._exact_sigma()
        self.last_sigma = float(sigma.detach())
        weight = self.weight * (self.target / sigma.clamp_min(1e-12))
        if self._caching:
            self._step_cache[grad_mode] = weight
        return weight

    def forward(self, x: Tensor) -> Tensor:
        return self._conv_forward(x, self.normalized_weight(), self.bias)


@contextmanager
def spectral_norm_cache(module: nn.Module) -> Iterator[None]:
    """Normalise each SRNL weight once for a whole unrolled sequence (one power step per forward)."""
    layers = [m for m in module.modules() if isinstance(m, SpectralNormConv2d)]
    for m in layers:
        m._caching, m._step_cache = True, {}
    try:
        yield
    finally:
        for m in layers:
            m._caching, m._step_cache = False, {}


@torch.no_grad()
def bake_spectral_norm(module: nn.Module, n: int = 128) -> dict[str, float]:
    """Replace every :class:`SpectralNormConv2d` in ``module`` by a plain conv with normalised weight.

    The scale is the exact norm at ``n`` (not the running estimate), so the baked layer's
    certificate at ``n`` is ``target`` up to float rounding. Returns ``{name: sigma_before}``.
    """
    sigmas: dict[str, float] = {}
    for name, child in list(module.named_modules()):
        if not isinstance(child, SpectralNormConv2d):
            continue
        sigma = conv_spectral_norm(child.weight, n)
        sigmas[name] = sigma
        plain = nn.Conv2d(
            child.in_channels, child.out_channels, child.kernel_size, padding=child.padding,
            device=child.weight.device, dtype=child.weight.dtype,
        )
        # float64 division keeps the baked norm at target to ~1e-7 in float32.
        scaled = child.weight.detach().double() * (child.target / sigma)
        plain.weight.copy_(scaled.to(child.weight.dtype))
        plain.bias.copy_(child.bias.detach())
        parent_name, _, attr = name.rpartition(".")
        parent = module.get_submodule(parent_name) if parent_name else module
        setattr(parent, attr, plain)
    return sigmas
