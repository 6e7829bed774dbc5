"""Exact singular values of every conv layer of a model (the paper's SVD figure and certificate).

Each stride-1 conv is treated as a circular convolution on ``n x n`` inputs and its singular values
come from :func:`vsrkit.layers.spectral_norm.conv_singular_values` (Sedghi et al.). SRNL layers
are measured with the weight they actually apply (the normalised one). A layer is ``recurrent``
when the model lists it in ``recurrent_layers`` (MRVSR: Φ0, Φ1); models of kind ``recurrent``
that do not say (RLSP, whose whole trunk is on the state path) have all layers flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..layers.spectral_norm import SpectralNormConv2d, conv_singular_values
from ..models.base import VSRModel
from .plot import line_plot


@dataclass
class LayerSpectrum:
    name: str
    recurrent: bool
    in_channels: int
    out_channels: int
    singular_values: Tensor  # float64, descending

    @property
    def max_sigma(self) -> float:
        return float(self.singular_values[0])


def applied_weight(conv: nn.Conv2d) -> Tensor:
    """The kernel a conv applies at inference (SRNL layers: the normalised kernel, eval mode)."""
    if isinstance(conv, SpectralNormConv2d):
        was_training = conv.training
        conv.eval()
        try:
            with torch.no_grad():
                return conv.normalized_weight().detach()
        finally:
            conv.train(was_training)
    return conv.weight.detach()


def _is_recurrent(model: nn.Module, name: str) -> bool:
    declared = getattr(model, "recurrent_layers", None)
    if declared is not None:
        return any(name == r or name.startswith(r + ".") for r in declared)
    return getattr(model, "kind", None) == "recurrent"


def conv_spectra(model: VSRModel, n: int = 32) -> tuple[list[LayerSpectrum], list[str]]:
    """Spectra of all stride-1, ungrouped, undilated 2-D convs; also the names of skipped convs."""
    spectra, skipped = [], []
    for name, module in model.named_modules():
        if not isinstance(module, nn.Conv2d):
            continue
        if module.stride != (1, 1) or module.groups != 1 or module.dilation != (1, 1):
            skipped.append(name)
            continue
        values = conv_singular_values(applied_weight(module), n)
        spectra.append(LayerSpectrum(name, _is_recurrent(model, name), module.in_channels, module.out_channels, values))
    return spectra, skipped


def spectrum_report(model: VSRModel, n: int = 32) -> tuple[dict[str, Any], list[LayerSpectrum]]:
    spectra, skipped = conv_spectra(model, n)
    recurrent = [s.max_sigma for s in spectra if s.recurrent]
    report = {
        "model": getattr(model, "preset_name", None) or model.arch,
        "n": n,
        "padding": "circular",
        "layers": [
            {"name": s.name, "recurrent": s.recurrent, "max_sigma": s.max_sigma,
             "in_channels": s.in_channels, "out_channels": s.out_channels}
            for s in spectra
        ],
        "recurrent_max_sigma": max(recurrent) if recurrent else None,
        "skipped": skipped,
    }
    return report, spectra


def plot_spectra(spectra: list[LayerSpectrum], path: str | Path, *, title: str = "", points: int = 400) -> Path:
    """Each layer's singular values, descending, against their percentile (the seed's SVD figure)."""
    series = {}
    for s in spectra:
        v = s.singular_values.numpy()
        idx = np.unique(np.linspace(0, v.size - 1, min(points, v.size)).round().astype(int))
        pct = 100.0 * idx / max(1, v.size - 1)
        label = f"{s.name}{' (rec)' if s.recurrent else ''}"
        series[label] = (pct.tolist(), v[idx].tolist())
    return line_plot(series, path, title=title or "singular values per conv layer",
                     xlabel="percentile", ylabel="sigma", hlines=(1.0,))


def bake_srnl_file(src: str | Path, dst: str | Path, n: int = 128) -> tuple[VSRModel, dict[str, Any]]:
    """Fold SRNL into plain weights: read ``src`` (vsrkit weights), write ``dst`` with the source's
    metadata plus ``srnl_baked`` (``n``, exact σ of each SRNL layer before and after). Returns the baked
    model and that record."""
    from ..errors import InputError
    from ..layers.spectral_norm import bake_spectral_norm, conv_spectral_norm
    from ..weights.io import load_model, read_metadata, save_weights

    net = load_model(src)
    if not any(isinstance(m, SpectralNormConv2d) for m in net.modules()):
        raise InputError(Path(src), "model has no SRNL layers to bake")
    meta = read_metadata(src)
    before = bake_spectral_norm(net, n)
    net.hparams = {**net.hparams, "srnl_target": None}
    after = {name: conv_spectral_norm(net.get_submodule(name).weight, n) for name in before}
    extra = {k: v for k, v in meta.items() if k not in ("format", "arch", "hparams", "preset")}
    extra["srnl_baked"] = {"n": n, "sigma_before": before, "sigma_after": after}
    save_weights(net, dst, extra=extra)
    return net.eval(), extra["srnl_baked"]
