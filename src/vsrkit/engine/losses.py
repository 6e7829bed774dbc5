"""Pixel losses. All take ``(pred, target)`` of equal shape and return a scalar mean."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def charbonnier(pred: Tensor, target: Tensor, eps: float = 1e-3) -> Tensor:
    """``mean(sqrt((pred - target)^2 + eps^2))``: L1 that stays differentiable at zero."""
    diff = pred.float() - target.float()
    return torch.sqrt(diff * diff + eps * eps).mean()


def l1(pred: Tensor, target: Tensor) -> Tensor:
    return (pred.float() - target.float()).abs().mean()


def mse(pred: Tensor, target: Tensor) -> Tensor:
    return (pred.float() - target.float()).square().mean()


def get_loss(name: str, *, eps: float = 1e-3) -> Callable[[Tensor, Tensor], Tensor]:
    if name == "charbonnier":
        return lambda p, t: charbonnier(p, t, eps)
    if name == "l1":
        return l1
    if name == "mse":
        return mse
    raise ValueError(f"unknown loss {name!r} (charbonnier, l1, mse)")
