"""``mrvsr``: the official ``bjmch/MRVSR`` weight files (MRVSR, RFS3 and its RLSP port) to vsrkit.

The files are ``torch.save`` state dicts of the *cell* modules (specs/architectures.md §1.1, §1.4):

* MRVSR: ``xi_layers.{0,2,4}``, ``phi_hidden_state_layer.0`` (Φ0), ``phi_layers.0`` (Φ1),
  ``psi_layers.{0,2}``, ``psi_output_layer`` → :class:`~vsrkit.models.mrvsr.MRVSR` with
  ``srnl_target=None`` (the released weights are already normalised; inference needs no SRNL).
* RFS3: ``block1.0``, ``blocks.{0,2,..}``, ``output_layer`` → :class:`~vsrkit.models.rfs3.RFS3`.
* RLSP port: ``block1.0``, ``blocks.{0,2,..}``, ``hidden_state_layer.0``, ``output_layer`` → our
  ``rlsp-7-128`` with ``value_range=1`` (the port works on [0, 1] values). Its input order
  (frames, state, pixel-unshuffled previous Y) and its single-channel pixel (un)shuffle match
  :class:`~vsrkit.models.rlsp.RLSP`. One difference remains: the port computes the residual Y with
  MATLAB's BT.601 coefficients, RLSP with the TF code's (they differ in the 5th decimal, < 2e-4 in Y).

The architecture is detected from the key names; widths, depth and scale from the shapes. Loaded
with ``torch.load(weights_only=True)``; a wrapping ``{"state_dict": ...}`` and module prefixes
(``module.``, ``MRVSRCell.``, ...) are accepted.
"""

from __future__ import annotations

import math
import pickle
import re
from pathlib import Path

import torch

from ..errors import WeightsError
from ..models._registry import build_model, get_preset, list_models
from .convert import Converted, register_converter

_PREFIXES = ("module.", "mrvsr.", "MRVSRCell.", "RFS3Cell.", "RSLPCell.", "RLSPCell.", "cell.")


def _load(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise WeightsError(f"{path}: weights file not found")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise WeightsError(f"{path}: not a readable torch state dict ({first})") from None
    for key in ("state_dict", "model", "net"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(f"{path}: expected a state dict of tensors, got {type(obj).__name__}")
    state = {}
    for key, value in obj.items():
        stripped = key
        changed = True
        while changed:
            changed = False
            for prefix in _PREFIXES:
                if stripped.startswith(prefix):
                    stripped, changed = stripped[len(prefix) :], True
        state[stripped] = value.float()
    return state


def _layer_indices(state: dict[str, torch.Tensor], group: str) -> list[int]:
    pattern = re.compile(rf"^{re.escape(group)}\.(\d+)\.weight$")
    return sorted(int(m.group(1)) for k in state if (m := pattern.match(k)))


def _scale(path: Path, out_channels: int) -> int:
    scale = math.isqrt(out_channels)
    if scale * scale != out_channels:
        raise WeightsError(f"{path}: output layer has {out_channels} channels, not a square (Y-only s²)")
    return scale


def _take(path: Path, state: dict[str, torch.Tensor], mapping: dict[str, str]) -> dict[str, torch.Tensor]:
    missing = [src for src in mapping if f"{src}.weight" not in state or f"{src}.bias" not in state]
    if missing:
        raise WeightsError(f"{path}: missing layer(s) {', '.join(missing)}")
    used = {f"{src}.{p}" for src in mapping for p in ("weight", "bias")}
    unexpected = sorted(set(state) - used)
    if unexpected:
        raise WeightsError(f"{path}: unexpected tensors {', '.join(unexpected[:4])}")
    return {f"{dst}.{p}": state[f"{src}.{p}"] for src, dst in mapping.items() for p in ("weight", "bias")}


def detect_arch(state: dict[str, torch.Tensor]) -> str | None:
    """``"mrvsr"``, ``"rlsp"``, ``"rfs3"`` from the official key names, or ``None``."""
    if any(k.startswith(("phi_layers.", "phi_hidden_state_layer.", "xi_layers.")) for k in state):
        return "mrvsr"
    if any(k.startswith("hidden_state_layer.") for k in state):
        return "rlsp"
    if any(k.startswith("block1.") for k in state):
        return "rfs3"
    return None


def _mrvsr(path: Path, state: dict[str, torch.Tensor]) -> Converted:
    xi, phi, psi = (_layer_indices(state, g) for g in ("xi_layers", "phi_layers", "psi_layers"))
    if xi != [0, 2, 4] or phi != [0] or psi != [0, 2]:
        raise WeightsError(
            f"{path}: only MRVSR with n_xi=3, n_phi=1, n_psi=3 is supported "
            f"(found xi_layers {xi}, phi_layers {phi}, psi_layers {psi})"
        )
    filters = state["xi_layers.0.weight"].shape[0]
    scale = _scale(path, state["psi_output_layer.weight"].shape[0])
    mapping = {f"xi_layers.{2 * i}": f"xi.{i}" for i in range(3)}
    mapping |= {"phi_hidden_state_layer.0": "phi0", "phi_layers.0": "phi1"}
    mapping |= {"psi_layers.0": "psi.0", "psi_layers.2": "psi.1", "psi_output_layer": "psi_out"}
    preset = get_preset("mrvsr")
    model = build_model(preset.cls, {**preset.kwargs, "filters": filters, "scale": scale, "srnl_target": None})
    model.preset_name = "mrvsr"  # type: ignore[attr-defined]
    return Converted(model, _take(path, state, mapping), {"source": "bjmch/MRVSR mrvsr_weights", "original_arch": "MRVSR"})


def _trunk(path: Path, state: dict[str, torch.Tensor]) -> tuple[dict[str, str], int, int]:
    blocks = _layer_indices(state, "blocks")
    if blocks != list(range(0, 2 * len(blocks), 2)):
        raise WeightsError(f"{path}: blocks.N indices must be 0, 2, 4, ...; found {blocks}")
    mapping = {"block1.0": "trunk.0"} | {f"blocks.{j}": f"trunk.{i + 1}" for i, j in enumerate(blocks)}
    filters = state["block1.0.weight"].shape[0] if "block1.0.weight" in state else 0
    return mapping, filters, _scale(path, state["output_layer.weight"].shape[0]) if "output_layer.weight" in state else 0


def _rfs3(path: Path, state: dict[str, torch.Tensor]) -> Converted:
    mapping, filters, scale = _trunk(path, state)
    mapping["output_layer"] = "output_head"
    take = _take(path, state, mapping)
    preset = get_preset("rfs3")
    kwargs = {**preset.kwargs, "num_layers": len(mapping), "filters": filters, "scale": scale}
    model = build_model(preset.cls, kwargs)
    model.preset_name = "rfs3"  # type: ignore[attr-defined]
    return Converted(model, take, {"source": "bjmch/MRVSR rfs3_weights", "original_arch": "RFS3"})


def _rlsp(path: Path, state: dict[str, torch.Tensor]) -> Converted:
    mapping, filters, scale = _trunk(path, state)
    mapping |= {"hidden_state_layer.0": "state_head", "output_layer": "output_head"}
    take = _take(path, state, mapping)
    name = f"rlsp-7-{filters}" if f"rlsp-7-{filters}" in list_models("rlsp-7-*") else "rlsp-7-128"
    preset = get_preset(name)
    # Trunk convs = num_layers - 1 in RLSP's L-F naming; the port computes on [0, 1] values.
    kwargs = {**preset.kwargs, "num_layers": len(mapping) - 1, "filters": filters, "scale": scale, "value_range": 1.0}
    model = build_model(preset.cls, kwargs)
    model.preset_name = name  # type: ignore[attr-defined]
    meta = {
        "source": "bjmch/MRVSR rlsp_weights (RLSP PyTorch port)",
        "original_arch": "RLSP port",
        "note": "port uses MATLAB BT.601 Y for the residual; vsrkit RLSP uses the TF coefficients (< 2e-4 in Y)",
    }
    return Converted(model, take, meta)


@register_converter("mrvsr")
def convert_mrvsr(path: Path, arch: str | None) -> Converted:
    """Convert an official MRVSR / RFS3 / RLSP-port cell state dict; ``arch`` checks the detection."""
    state = _load(path)
    detected = detect_arch(state)
    if detected is None:
        raise WeightsError(
            f"{path}: not an MRVSR, RFS3 or RLSP-port state dict (keys {', '.join(list(state)[:4])})"
        )
    if arch is not None:
        wanted = get_preset(arch).cls.arch if arch not in ("mrvsr", "rfs3", "rlsp") else arch
        if wanted != detected:
            raise WeightsError(f"{path}: holds {detected} weights, but --arch {arch} was requested")
    converted = {"mrvsr": _mrvsr, "rfs3": _rfs3, "rlsp": _rlsp}[detected](path, state)
    # All three were trained on the MRVSR paper's LR (read by `trained_degradation`).
    converted.metadata["trained_degradation"] = "mrvsr"
    return converted
