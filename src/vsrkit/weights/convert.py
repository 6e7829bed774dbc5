"""Converters from official checkpoint formats to vsrkit safetensors.

A converter reads a source checkpoint and returns the vsrkit model it fits (with hyperparameters
inferred from tensor shapes), the renamed state dict and provenance metadata. ``convert`` then
checks the state dict against the model and writes it with :func:`~vsrkit.weights.io.save_weights`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..errors import VsrkitError
from ..models.base import VSRModel
from .io import check_state_dict, save_weights


@dataclass
class Converted:
    model: VSRModel
    state_dict: dict[str, torch.Tensor]
    # Provenance written into the safetensors metadata: source, licence note, original names...
    metadata: dict[str, str] = field(default_factory=dict)


# A converter takes the source path and an optional architecture/preset hint.
Converter = Callable[[Path, str | None], Converted]
_CONVERTERS: dict[str, Converter] = {}


def register_converter(name: str) -> Callable[[Converter], Converter]:
    def wrap(fn: Converter) -> Converter:
        if name in _CONVERTERS:
            raise ValueError(f"converter {name!r} already registered")
        _CONVERTERS[name] = fn
        return fn

    return wrap


def list_converters() -> list[str]:
    _load_converters()
    return sorted(_CONVERTERS)


def _load_converters() -> None:
    # Converter modules register on import; the list is explicit, not a folder scan.
    import importlib

    for module in ("rlsp_tf", "mrvsr", "basicsr"):
        try:
            importlib.import_module(f"{__package__}.convert_{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.convert_{module}":
                raise


def convert(source_format: str, src: str | Path, dst: str | Path, *, arch: str | None = None) -> Converted:
    """Convert ``src`` (format ``source_format``) into a vsrkit safetensors file at ``dst``."""
    _load_converters()
    if source_format not in _CONVERTERS:
        raise VsrkitError(f"unknown source format {source_format!r}; available: {', '.join(sorted(_CONVERTERS))}")
    result = _CONVERTERS[source_format](Path(src), arch)
    check_state_dict(result.model, result.state_dict, str(src))
    result.model.load_state_dict(result.state_dict)
    save_weights(result.model, dst, extra={"source_format": source_format, **result.metadata})
    return result
