"""Spatio-temporal receptive field by input optimisation (MRVSR Fig. 7, after Tanay et al.).

An input clip of ``2 tau + 1`` RGB frames of ``size x size``, initialised uniform in [0, 1], is
optimised with Adam (lr 1, ×0.1 at 1/2 and 5/6 of the iterations, projected to [0, 1] after each
step) to maximise ``|Y|`` of the middle output frame at its centre pixel (``strf``) or the L2 norm
of the whole middle output frame (``trf``). Defaults are the seed's: tau 40, 64×64, 1500 iterations.

Input frames the output does not depend on receive no gradient and stay at their random start, so
``change[k] = mean |x_k - x_k(init)|`` per temporal offset measures the receptive field's extent:
for a stable recurrent model it decays with the distance into the past; a causal model has no
dependence beyond ``+radius``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from ..models.base import VSRModel
from .plot import image_grid, line_plot


@dataclass(frozen=True)
class STRFSettings:
    tau: int = 40
    size: int = 64
    iterations: int = 1500
    lr: float = 1.0
    mode: Literal["strf", "trf"] = "strf"
    seed: int = 0


def optimise_input(model: VSRModel, settings: STRFSettings, *, device: str | torch.device = "cpu",
                   log=None) -> dict[str, Any]:
    """Run the optimisation; returns inputs, outputs (numpy), per-offset change and the loss curve."""
    if settings.tau < 1 or settings.size < 4 or settings.iterations < 1:
        raise ValueError(f"invalid STRF settings {settings}")
    dev = torch.device(device)
    model = model.to(dev).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    gen = torch.Generator().manual_seed(settings.seed)
    n = 2 * settings.tau + 1
    init = torch.rand(1, n, 3, settings.size, settings.size, generator=gen)
    x = init.clone().to(dev).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=settings.lr)
    milestones = (settings.iterations // 2, (5 * settings.iterations) // 6)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=list(milestones), gamma=0.1)
    centre = settings.size * model.scale // 2
    losses = []
    for it in range(settings.iterations):
        opt.zero_grad(set_to_none=True)
        out = model(x)
        mid = out[0, settings.tau, 0]
        loss = -mid[centre, centre].abs() if settings.mode == "strf" else -mid.norm()
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            x.clamp_(0, 1)
        losses.append(float(loss.detach()))
        if log is not None and (it + 1) % max(1, settings.iterations // 10) == 0:
            log(f"iteration {it + 1}/{settings.iterations} loss {losses[-1]:.4f}")
    with torch.no_grad():
        out = model(x)
    inputs = x.detach().cpu()[0]
    change = (inputs - init[0]).abs().mean(dim=(1, 2, 3))
    return {
        "inputs": inputs.permute(0, 2, 3, 1).numpy(),
        "outputs": out.detach().cpu()[0, :, 0].clamp(16 / 255, 235 / 255).numpy(),
        "offsets": list(range(-settings.tau, settings.tau + 1)),
        "change": change.tolist(),
        "losses": losses,
    }


def save_strf(result: dict[str, Any], png: str | Path | None, *, columns: int = 11, title: str = "") -> dict[str, Any]:
    """PNG: optimised inputs (top) and outputs (bottom) at evenly spaced offsets; returns JSON data."""
    offsets = result["offsets"]
    tau = offsets[-1]
    if png is not None:
        pick = np.unique(np.linspace(0, len(offsets) - 1, min(columns, len(offsets))).round().astype(int))
        inputs = [result["inputs"][i] for i in pick]
        outs = result["outputs"]
        # Outputs are sH x sW: show them at the input size so the grid stays compact.
        step = max(1, outs.shape[-1] // inputs[0].shape[1])
        outputs = [(outs[i, ::step, ::step] - 16 / 255) / (219 / 255) for i in pick]
        image_grid([inputs, outputs], png, row_labels=["input", "output Y"],
                   col_labels=[f"{offsets[i]:+d}" for i in pick], title=title)
    return {
        "offsets": offsets,
        "change": result["change"],
        "final_loss": result["losses"][-1],
        "loss_curve": result["losses"][:: max(1, len(result["losses"]) // 100)],
        "tau": tau,
    }


def plot_change(curves: dict[str, tuple[list[int], list[float]]], path: str | Path) -> Path:
    return line_plot(curves, path, title="STRF: mean |optimised input - init| per temporal offset",
                     xlabel="offset (frames)", ylabel="change")
