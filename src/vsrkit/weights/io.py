"""Safetensors weights with self-describing metadata.

Every file vsrkit writes carries ``format=vsrkit``, the architecture (``arch``), the full constructor
arguments (``hparams``, JSON) and free-form provenance (source, licence, training recipe, metrics).
Loading checks the architecture and every tensor's shape and reports all mismatches at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from ..errors import WeightsError
from ..models.base import VSRModel

FORMAT = "vsrkit"


def save_weights(
    model: VSRModel, path: str | Path, *, extra: dict[str, Any] | None = None,
    state_dict: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Write ``model``'s weights (or ``state_dict``) with architecture metadata to ``path``."""
    path = Path(path)
    tensors = state_dict if state_dict is not None else model.state_dict()
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    meta = {"format": FORMAT, "arch": model.arch, "hparams": json.dumps(model.hparams)}
    preset = getattr(model, "preset_name", None)
    if preset:
        meta["preset"] = preset
    for key, value in (extra or {}).items():
        meta[key] = value if isinstance(value, str) else json.dumps(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    # Bytes written through Python, not safetensors' save_file: that makes the file private (0600, safetensors 0.8),
    # and weights are for sharing; this way the file gets the user's usual permissions.
    tmp.write_bytes(save(tensors, metadata=meta))
    tmp.replace(path)
    return path


def read_metadata(path: str | Path) -> dict[str, str]:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weights file not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from None


def trained_degradation(path: str | Path) -> str | None:
    """The LR degradation the weights were trained on: the ``data.degradation`` of the recipe stored
    with vsrkit-trained weights, or what a converter recorded for official ones; else None."""
    meta = read_metadata(path)
    recipe = meta.get("recipe")
    if recipe is None:
        return meta.get("trained_degradation")
    try:
        return json.loads(recipe)["config"]["data"]["degradation"]
    except (ValueError, KeyError, TypeError):
        return None


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    read_metadata(path)  # validates the file first, with a readable error
    return load_file(str(path))


def check_state_dict(model: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Raise one :class:`WeightsError` listing missing, unexpected and mis-shaped tensors."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in sorted(set(own) & set(state))
        if tuple(own[k].shape) != tuple(state[k].shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing {len(missing)} ({', '.join(missing[:4])}{', ...' if len(missing) > 4 else ''})")
    if unexpected:
        problems.append(
            f"unexpected {len(unexpected)} ({', '.join(unexpected[:4])}{', ...' if len(unexpected) > 4 else ''})"
        )
    if shapes:
        problems.append(f"shape mismatch {len(shapes)} ({'; '.join(shapes[:3])}{'; ...' if len(shapes) > 3 else ''})")
    if problems:
        raise WeightsError(f"{source}: weights do not fit the model: " + "; ".join(problems))


def load_weights(model: VSRModel, path: str | Path) -> VSRModel:
    """Load a vsrkit safetensors file into ``model`` after checking architecture and shapes."""
    path = Path(path)
    if path.suffix in (".pth", ".pt", ".tar"):
        raise WeightsError(
            f"{path}: not a safetensors file; convert official checkpoints first with `vsrkit convert`"
        )
    meta = read_metadata(path)
    arch = meta.get("arch")
    if arch is not None and arch != model.arch:
        raise WeightsError(f"{path}: weights are for architecture {arch!r}, not {model.arch!r}")
    state = load_file(str(path))
    check_state_dict(model, state, str(path))
    model.load_state_dict(state)
    return model


def load_model(path: str | Path, **overrides: Any) -> VSRModel:
    """Build the model a vsrkit weights file describes (its ``arch`` and ``hparams``, with
    ``overrides`` replacing constructor arguments) and load it."""
    from ..models._registry import _PRESETS, build_model

    meta = read_metadata(path)
    if meta.get("format") != FORMAT or "arch" not in meta:
        raise WeightsError(f"{path}: no vsrkit metadata (arch/hparams); pass --model as well")
    classes = {p.cls.arch: p.cls for p in _PRESETS.values()}
    if meta["arch"] not in classes:
        raise WeightsError(f"{path}: unknown architecture {meta['arch']!r}")
    model = build_model(classes[meta["arch"]], {**json.loads(meta.get("hparams", "{}")), **overrides})
    if "preset" in meta:
        model.preset_name = meta["preset"]  # type: ignore[attr-defined]
    return load_weights(model, path)
