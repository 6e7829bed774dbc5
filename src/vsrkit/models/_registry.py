"""Model registry: presets are data (a class plus keyword arguments), not functions.

``create_model(name, weights=..., **overrides)`` builds ``cls(**{**preset.kwargs, **overrides})``,
records the full constructor arguments on ``model.hparams`` (saved with every checkpoint), and
loads weights if asked. Duplicate names raise: there are no silent fallbacks.
"""

from __future__ import annotations

import fnmatch
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..errors import VsrkitError
from .base import VSRModel


@dataclass(frozen=True)
class Preset:
    name: str
    cls: type[VSRModel]
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    # Weights loaded by default (shipped inside the package), if any.
    weights: Path | None = None


_PRESETS: dict[str, Preset] = {}


def register_model(
    name: str,
    cls: type[VSRModel],
    *,
    description: str = "",
    weights: Path | None = None,
    **kwargs: Any,
) -> Preset:
    if name in _PRESETS:
        raise ValueError(f"model {name!r} already registered ({_PRESETS[name].cls.__qualname__})")
    preset = Preset(name=name, cls=cls, kwargs=kwargs, description=description, weights=weights)
    _PRESETS[name] = preset
    return preset


def list_models(pattern: str = "*") -> list[str]:
    return sorted(n for n in _PRESETS if fnmatch.fnmatch(n, pattern))


def get_preset(name: str) -> Preset:
    try:
        return _PRESETS[name]
    except KeyError:
        raise VsrkitError(f"unknown model {name!r}; available: {', '.join(list_models())}") from None


def full_hparams(cls: type[VSRModel], kwargs: dict[str, Any]) -> dict[str, Any]:
    """All constructor arguments of ``cls`` with defaults filled in; unknown ones are rejected."""
    sig = inspect.signature(cls.__init__)
    unknown = set(kwargs) - set(sig.parameters)
    if unknown:
        raise VsrkitError(f"{cls.__name__} has no argument(s) {', '.join(sorted(unknown))}")
    bound = sig.bind_partial(None, **kwargs)
    bound.apply_defaults()
    return {k: v for k, v in bound.arguments.items() if k != "self"}


def build_model(cls: type[VSRModel], kwargs: dict[str, Any]) -> VSRModel:
    hparams = full_hparams(cls, kwargs)
    model = cls(**hparams)
    model.hparams = hparams
    return model


def create_model(
    name: str,
    *,
    weights: str | Path | None = None,
    pretrained: bool = True,
    **overrides: Any,
) -> VSRModel:
    """Build a registered model.

    Args:
        name: a name from :func:`list_models`.
        weights: a ``.safetensors`` file written by vsrkit (``vsrkit convert`` or training).
        pretrained: load the preset's shipped weights when ``weights`` is not given.
        overrides: constructor arguments replacing the preset's.
    """
    preset = get_preset(name)
    model = build_model(preset.cls, {**preset.kwargs, **overrides})
    source = Path(weights) if weights is not None else (preset.weights if pretrained else None)
    if source is not None:
        from ..weights.io import load_weights

        load_weights(model, source)
    model.preset_name = name  # type: ignore[attr-defined]
    return model


def count_parameters(name: str) -> int:
    """Parameter count of a preset, built on the meta device (no memory, no init cost)."""
    preset = get_preset(name)
    with torch.device("meta"):
        model = build_model(preset.cls, dict(preset.kwargs))
    return sum(p.numel() for p in model.parameters())
