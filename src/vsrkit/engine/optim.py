"""Optimiser with per-module learning-rate multipliers and freezing, cosine-restart schedule, EMA."""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError


def _group_key(name: str, prefixes: list[str]) -> str:
    # The longest matching prefix wins, so "trunk.0" can override "trunk".
    matches = [p for p in prefixes if name == p or name.startswith(p + ".")]
    return max(matches, key=len) if matches else ""


def build_optimizer(
    model: nn.Module, *, name: str, lr: float, betas: tuple[float, float], weight_decay: float,
    lr_mult: dict[str, float], freeze: dict[str, int],
) -> torch.optim.Optimizer:
    """One parameter group per configured prefix (plus the rest), each with ``lr_mult`` and ``freeze_until``."""
    prefixes = sorted(set(lr_mult) | set(freeze))
    names = [n for n, _ in model.named_parameters()]
    for prefix in prefixes:
        if not any(n == prefix or n.startswith(prefix + ".") for n in names):
            raise ConfigError(f"optim: no parameter of the model starts with {prefix!r}")
    groups: dict[str, list[nn.Parameter]] = {}
    for n, p in model.named_parameters():
        if p.requires_grad:
            groups.setdefault(_group_key(n, prefixes), []).append(p)
    param_groups = [
        {"params": params, "lr": lr * lr_mult.get(key, 1.0), "lr_mult": lr_mult.get(key, 1.0),
         "freeze_until": freeze.get(key, 0), "prefix": key}
        for key, params in sorted(groups.items())
    ]
    cls = torch.optim.AdamW if name == "adamw" else torch.optim.Adam
    return cls(param_groups, lr=lr, betas=betas, weight_decay=weight_decay)


class CosineRestart:
    """Linear warm-up, then cosine periods with restarts (BasicSR's CosineAnnealingRestartLR shape).

    ``factor(it)`` multiplies the base lr; it decays from ``weight_k`` to ``eta_min / base_lr`` over
    period ``k``. ``apply(optimizer, it)`` sets every group's lr, and zero for frozen groups.
    """

    def __init__(self, base_lr: float, total: int, *, warmup: int = 0, periods: list[int] | None = None,
                 restart_weights: list[float] | None = None, eta_min: float = 1e-7) -> None:
        self.base_lr = base_lr
        self.warmup = warmup
        self.periods = list(periods) if periods else [max(1, total - warmup)]
        self.weights = list(restart_weights) if restart_weights else [1.0] * len(self.periods)
        self.eta_min = eta_min

    def lr(self, it: int) -> float:
        if it < self.warmup:
            return self.base_lr * (it + 1) / self.warmup
        t = it - self.warmup
        for period, weight in zip(self.periods, self.weights):
            if t < period:
                cos = 0.5 * (1 + math.cos(math.pi * t / period))
                return self.eta_min + (self.base_lr * weight - self.eta_min) * cos
            t -= period
        return self.eta_min

    def apply(self, optimizer: torch.optim.Optimizer, it: int) -> float:
        lr = self.lr(it)
        for group in optimizer.param_groups:
            frozen = it < group.get("freeze_until", 0)
            group["lr"] = 0.0 if frozen else lr * group.get("lr_mult", 1.0)
        return lr


def drop_frozen_grads(optimizer: torch.optim.Optimizer, it: int) -> None:
    """Frozen parameters get no update at all (no Adam state change, no weight decay)."""
    for group in optimizer.param_groups:
        if it < group.get("freeze_until", 0):
            for p in group["params"]:
                p.grad = None


class EMA:
    """Exponential moving average of a model's parameters and buffers, kept in float32."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        # Warm-up of the decay (as timm's ModelEmaV2 with warmup): early averages are not dominated
        # by the random initialisation.
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for e, p in zip(self.module.parameters(), model.parameters()):
            e.lerp_(p.detach(), 1 - d)
        for e, b in zip(self.module.buffers(), model.buffers()):
            e.copy_(b)

    def state_dict(self) -> dict[str, Any]:
        return {"module": self.module.state_dict(), "updates": self.updates, "decay": self.decay}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state["module"])
        self.updates = int(state["updates"])
