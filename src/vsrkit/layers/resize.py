"""MATLAB ``imresize`` (bicubic, antialiased) as separable matrix products on torch tensors.

This is the one resize used across vsrkit: the BI degradation, the ``bicubic`` baseline, chroma
upsampling for Y-only models. It reproduces MATLAB's index mirroring, the antialiasing kernel
stretch when downscaling, and MATLAB's order of passes (the dimension with the smaller scale first;
height first on ties).
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import torch
from torch import Tensor


def _cubic(x: Tensor) -> Tensor:
    # Keys' cubic with a = -0.5, the kernel MATLAB's 'bicubic' uses.
    ax = x.abs()
    ax2, ax3 = ax * ax, ax * ax * ax
    near = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return near + far


@lru_cache(maxsize=64)
def _resize_matrix(in_len: int, out_len: int, scale: float, antialias: bool) -> Tensor:
    """Dense ``(out_len, in_len)`` float64 matrix of MATLAB's 1-D bicubic resampling weights."""
    kernel_width = 4.0
    stretch = antialias and scale < 1
    if stretch:
        kernel_width /= scale
    out_idx = torch.arange(1, out_len + 1, dtype=torch.float64)
    # Continuous input coordinate (1-based) of each output pixel centre.
    u = out_idx / scale + 0.5 * (1.0 - 1.0 / scale)
    left = torch.floor(u - kernel_width / 2)
    taps = math.ceil(kernel_width) + 2
    indices = left[:, None] + torch.arange(taps, dtype=torch.float64)[None, :]
    dist = u[:, None] - indices
    weights = scale * _cubic(dist * scale) if stretch else _cubic(dist)
    weights = weights / weights.sum(dim=1, keepdim=True)
    # Mirror out-of-range taps the way MATLAB does: [1..n, n..1] repeated.
    mirror = torch.cat([torch.arange(in_len), torch.arange(in_len - 1, -1, -1)])
    src = mirror[((indices - 1).long()) % (2 * in_len)]
    matrix = torch.zeros(out_len, in_len, dtype=torch.float64)
    matrix.scatter_add_(1, src, weights)
    return matrix


@lru_cache(maxsize=64)
def _resize_csr(in_len: int, out_len: int, scale: float, antialias: bool) -> Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        return _resize_matrix(in_len, out_len, scale, antialias).float().to_sparse_csr()


def _upsample_dim_cpu(y: Tensor, dim: int, out_len: int, scale: float, antialias: bool) -> Tensor:
    """Upscaling along ``dim`` as a sparse product: at most 6 weights per row are non-zero, so this
    does ~24x fewer multiply-adds than the dense product for x4 (2.0 vs 4.5 ms for x4 chroma of a
    180x144 frame on one core)."""
    m = _resize_csr(y.shape[dim], out_len, scale, antialias)
    moved = y.movedim(dim, 0)
    # Autocast would cast the product to bf16, which the sparse CSR kernel does not implement.
    with torch.autocast("cpu", enabled=False):
        out = m @ moved.reshape(moved.shape[0], -1)
    return out.reshape(out_len, *moved.shape[1:]).movedim(0, dim)


def imresize(
    x: Tensor,
    *,
    scale: float | None = None,
    size: tuple[int, int] | None = None,
    antialias: bool = True,
) -> Tensor:
    """Resize the last two dims of ``x`` like MATLAB ``imresize(x, scale, 'bicubic')``.

    Args:
        x: float tensor ``(..., H, W)``; values are not clamped (MATLAB clamps only integer types).
        scale: output/input size ratio, used for both dims (output size is ``ceil(scale * size)``).
        size: explicit ``(H_out, W_out)``; per-dim scales are then ``H_out / H`` and ``W_out / W``.
        antialias: widen the kernel when downscaling (MATLAB's default).
    """
    if (scale is None) == (size is None):
        raise ValueError("pass exactly one of scale or size")
    in_h, in_w = x.shape[-2:]
    if size is None:
        assert scale is not None
        scales = (float(scale), float(scale))
        out_h, out_w = math.ceil(in_h * scale), math.ceil(in_w * scale)
    else:
        out_h, out_w = size
        scales = (out_h / in_h, out_w / in_w)
    if not x.is_floating_point():
        raise TypeError(f"imresize needs a float tensor, got {x.dtype}")
    compute_dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    y = x.to(compute_dtype)
    order = (0, 1) if scales[0] <= scales[1] else (1, 0)
    # Upscaling on the CPU takes the sparse path; downscaling (the BI degradation, which the MATLAB
    # oracle tests pin to the last bit) and other devices keep the dense product.
    sparse = y.device.type == "cpu" and compute_dtype == torch.float32
    for dim in order:
        if sparse and scales[dim] > 1:
            y = _upsample_dim_cpu(y, dim - 2, (out_h, out_w)[dim], scales[dim], antialias)
        elif dim == 0:
            m = _resize_matrix(in_h, out_h, scales[0], antialias).to(y.device, compute_dtype)
            y = torch.einsum("oh,...hw->...ow", m, y)
        else:
            m = _resize_matrix(in_w, out_w, scales[1], antialias).to(y.device, compute_dtype)
            y = torch.einsum("ow,...hw->...ho", m, y)
    return y.to(x.dtype)
