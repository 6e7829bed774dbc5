"""PSNR and SSIM on tensors ``(..., C, H, W)``; one value per image (the leading dims).

Both compute in float64 so that scores do not depend on the input dtype. ``data_range`` is the
peak value (255 for 8-bit scaled data, 1 for [0, 1] data).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor


def _check_pair(x: Tensor, y: Tensor) -> None:
    if x.shape != y.shape:
        raise ValueError(f"shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}")
    if x.ndim < 3:
        raise ValueError(f"expected (..., C, H, W), got {tuple(x.shape)}")


def crop_border(x: Tensor, crop: int) -> Tensor:
    if crop < 0:
        raise ValueError(f"crop must be >= 0, got {crop}")
    if crop == 0:
        return x
    if min(x.shape[-2:]) <= 2 * crop:
        raise ValueError(f"crop {crop} leaves nothing of a {tuple(x.shape[-2:])} image")
    return x[..., crop:-crop, crop:-crop]


def psnr(x: Tensor, y: Tensor, *, data_range: float = 1.0, crop: int = 0) -> Tensor:
    """``10 log10(R² / MSE)`` over C, H, W of each image; ``inf`` for identical images."""
    _check_pair(x, y)
    x, y = crop_border(x, crop).double(), crop_border(y, crop).double()
    mse = (x - y).square().mean(dim=(-3, -2, -1))
    return 10.0 * torch.log10(data_range**2 / mse)


def gaussian_window(size: int = 11, sigma: float = 1.5) -> Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()


def ssim(
    x: Tensor,
    y: Tensor,
    *,
    data_range: float = 1.0,
    crop: int = 0,
    window: int = 11,
    sigma: float = 1.5,
    padding: Literal["valid", "zero"] = "valid",
) -> Tensor:
    """Wang et al. SSIM with a Gaussian window, per image (mean over channels and positions).

    ``padding="valid"`` keeps only positions where the window fits inside the image: this equals
    ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False)`` and MATLAB ``ssim_index`` (both discard the filter border).
    ``padding="zero"`` is the "pytorch-ssim" variant MRVSR uses: the local statistics are computed
    with zero padding and the map is averaged over every pixel.
    """
    _check_pair(x, y)
    if padding not in ("valid", "zero"):
        raise ValueError(f"padding must be 'valid' or 'zero', got {padding!r}")
    x, y = crop_border(x, crop).double(), crop_border(y, crop).double()
    lead, (c, h, w) = x.shape[:-3], x.shape[-3:]
    if padding == "valid" and min(h, w) < window:
        raise ValueError(f"image {(h, w)} is smaller than the SSIM window {window}")
    x, y = x.reshape(-1, 1, h, w), y.reshape(-1, 1, h, w)
    g = gaussian_window(window, sigma).to(x.device)
    pad = window // 2 if padding == "zero" else 0

    def blur(z: Tensor) -> Tensor:
        z = F.conv2d(z, g.view(1, 1, window, 1), padding=(pad, 0))
        return F.conv2d(z, g.view(1, 1, 1, window), padding=(0, pad))

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x * mu_x
    var_y = blur(y * y) - mu_y * mu_y
    cov = blur(x * y) - mu_x * mu_y
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2))
    return s.mean(dim=(-2, -1)).reshape(*lead, c).mean(dim=-1)
