"""Model registry: presets are data (a class plus keyword arguments), not functions.

``create_model(name, weights=..., **overrides)`` builds ``cls(**{**preset.kwargs, **overrides})``,
records the full constructor arguments on ``model.hparams`` (saved with every checkpoint), and
loads weights if asked. Duplicate names raise: there are no silent fallbacks.
"""

from __future__ import annotations

import fnmatch
import inspect
import json
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


def shipped_weights(file_name: str) -> Path | None:
    """``weights/shipped/<file_name>`` when it is installed (weights are registered only then)."""
    path = Path(__file__).resolve().parents[1] / "weights" / "shipped" / file_name
    return path if path.is_file() else None


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


def parse_settings(text: str) -> dict[str, Any]:
    """Constructor settings written on a command line, ``KEY=JSON`` joined by ``,`` (``backward_view="identity",horizon_tau=5``),
    as keyword arguments for :func:`create_model`."""
    settings = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep:
            raise VsrkitError(f"setting {item!r}: expected KEY=JSON")
        try:
            settings[key] = json.loads(value)
        except json.JSONDecodeError:
            raise VsrkitError(f"setting {item!r}: {value!r} is not JSON (a string needs quotes)") from None
    return settings


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
    source = Path(weights) if weights is not None else (preset.weights if pretrained else None)
    kwargs = {**preset.kwargs, **overrides}
    if source is not None:
        kwargs = _merge_file_hparams(name, preset, source, kwargs, overrides)
    model = build_model(preset.cls, kwargs)
    model.trained_for = None  # type: ignore[attr-defined]
    if source is not None:
        from ..weights.io import load_weights, trained_degradation

        load_weights(model, source)
        # The LR degradation the weights were trained on, when vsrkit trained them (their recipe).
        model.trained_for = trained_degradation(source)  # type: ignore[attr-defined]
    model.preset_name = name  # type: ignore[attr-defined]
    return model


def _merge_file_hparams(
    name: str, preset: Preset, source: Path, kwargs: dict[str, Any], overrides: dict[str, Any]
) -> dict[str, Any]:
    """Take constructor arguments the preset leaves open (e.g. ``value_range``) from the weights file.

    Weights trained with non-default arguments would otherwise load into a model that computes
    something else, with no shape mismatch to reveal it. Arguments the preset pins (``filters`` of
    ``rlsp-7-48``) must agree with the file: that is a wrong-checkpoint error, not a silent rebuild.
    """
    import json

    from ..errors import WeightsError
    from ..weights.io import read_metadata

    meta = read_metadata(source)
    if meta.get("arch") not in (None, preset.cls.arch) or "hparams" not in meta:
        return kwargs  # load_weights reports a wrong architecture with the file name
    file_hparams = json.loads(meta["hparams"])
    pinned = {k: v for k, v in preset.kwargs.items() if k not in overrides}
    conflicts = [
        f"{k}={file_hparams[k]!r} (preset has {v!r})"
        for k, v in pinned.items()
        if k in file_hparams and json.loads(json.dumps(v)) != file_hparams[k]
    ]
    if conflicts:
        raise WeightsError(f"{source}: weights do not fit model {name!r}: {', '.join(conflicts)}")
    accepted = set(full_hparams(preset.cls, {}))
    open_keys = (accepted & set(file_hparams)) - set(preset.kwargs) - set(overrides)
    return {**kwargs, **{k: file_hparams[k] for k in open_keys}}


def count_parameters(name: str) -> int:
    """Parameter count of a preset, built on the meta device (no memory, no init cost)."""
    preset = get_preset(name)
    with torch.device("meta"):
        model = build_model(preset.cls, dict(preset.kwargs))
    return sum(p.numel() for p in model.parameters())
