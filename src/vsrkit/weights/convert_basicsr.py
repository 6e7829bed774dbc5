"""``basicsr``: official HiRN and IART checkpoints (BasicSR ``torch.save`` files) to vsrkit weights.

Both official codes save ``{"params": state_dict}`` (EMA runs also ``"params_ema"``; ``params`` is
taken when both exist, as BasicSR's test scripts do, unless ``--arch hirn:params_ema``). vsrkit's
HiRN and IART use the official parameter names, so conversion is: unwrap, strip ``module.``
(DDP), drop constant buffers that vsrkit rebuilds (SPyNet ``mean``/``std``, Swin
``relative_position_index``, the implicit warp's ``position_bias``/``window_idx_offset``, after
checking they hold the values vsrkit uses), infer the hyper-parameters from the shapes, then the
strict check of :func:`vsrkit.weights.convert.convert` reports every missing, unexpected or
mis-shaped tensor at once. Files are read with ``torch.load(weights_only=True)``.

:func:`spynet_state_dict` reads a stand-alone SPyNet checkpoint (BasicSR
``spynet_sintel_final-3d2a1287.pth`` or mmedit ``spynet_20210409-c6c1bd09.pth`` layouts) for
:class:`vsrkit.layers.spynet.SPyNet`, e.g. ``model.spynet.load_state_dict(spynet_state_dict(p))``.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from ..errors import WeightsError
from ..models._registry import create_model, get_preset
from .convert import Converted, register_converter

LICENCES = {
    "hirn": "Apache-2.0 (HiRN, BasicSR fork by YounggjuuChoi)",
    "iart": "MIT (IART, kai422)",
}
_SPYNET_MEAN = torch.tensor([0.485, 0.456, 0.406])
_SPYNET_STD = torch.tensor([0.229, 0.224, 0.225])


def _load(path: Path) -> dict:
    if not path.is_file():
        raise WeightsError(f"{path}: checkpoint not found")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad input file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"{path}: not a readable torch checkpoint ({first})") from None
    if not isinstance(obj, dict):
        raise WeightsError(f"{path}: expected a dict checkpoint, got {type(obj).__name__}")
    return obj


def _unwrap(path: Path, obj: dict, param_key: str | None) -> tuple[dict[str, torch.Tensor], str]:
    keys = [param_key] if param_key else ["params", "params_ema", "state_dict"]
    for key in keys:
        if key in obj and isinstance(obj[key], dict):
            state, used = obj[key], key
            break
    else:
        if param_key:
            raise WeightsError(f"{path}: no {param_key!r} entry (found {', '.join(map(str, obj))})")
        state, used = obj, "<root>"
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise WeightsError(f"{path}: {used} holds non-tensor entries ({', '.join(map(str, bad[:4]))})")
    # DDP / wrapper prefixes.
    state = {re.sub(r"^(module\.)+", "", k): v for k, v in state.items()}
    return state, used


def _check_constant(path: Path, state: dict[str, torch.Tensor], key: str, expected: torch.Tensor) -> None:
    value = state.pop(key, None)
    if value is not None and (value.numel() != expected.numel() or not torch.allclose(value.float().flatten(), expected.float().flatten(), atol=1e-5)):
        raise WeightsError(f"{path}: {key} differs from the constant vsrkit uses; unsupported variant")


def _drop_constants(path: Path, state: dict[str, torch.Tensor], model: torch.nn.Module) -> None:
    own_buffers = dict(model.named_buffers())
    for prefix in {k.rsplit(".", 1)[0] for k in state if k.endswith(("spynet.mean", "spynet.std"))}:
        _check_constant(path, state, f"{prefix}.mean", _SPYNET_MEAN)
        _check_constant(path, state, f"{prefix}.std", _SPYNET_STD)
    for key in [k for k in state if k.endswith("relative_position_index") and k in own_buffers]:
        _check_constant(path, state, key, own_buffers[key])
    if "implicit_warp.position_bias" in state:
        _check_constant(path, state, "implicit_warp.position_bias", own_buffers["implicit_warp.window_encoding"])
    state.pop("implicit_warp.window_idx_offset", None)


def _count(state: dict[str, torch.Tensor], pattern: str) -> int:
    rx = re.compile(pattern)
    found = {int(m.group(1)) for k in state if (m := rx.match(k))}
    return max(found) + 1 if found else 0


def _shape(path: Path, state: dict[str, torch.Tensor], key: str) -> tuple[int, ...]:
    if key not in state:
        raise WeightsError(f"{path}: missing {key}; not a complete checkpoint of this architecture")
    return tuple(state[key].shape)


def detect_arch(state: dict[str, torch.Tensor]) -> str | None:
    if any(k.startswith("twa.") for k in state):
        return "hirn"
    if any(k.startswith(("swin_backbone.", "implicit_warp.")) for k in state):
        return "iart"
    return None


def _hirn_hparams(path: Path, state: dict[str, torch.Tensor]) -> dict:
    return {
        "mid_channels": _shape(path, state, "feat_extract.main.0.weight")[0],
        "extract_blocks": _count(state, r"feat_extract\.main\.2\.(\d+)\.conv1\.weight"),
        "num_blocks": _count(state, r"backbone\.backward_1\.main\.2\.(\d+)\.conv1\.weight"),
        "recon_blocks": _count(state, r"reconstruction\.main\.2\.(\d+)\.conv1\.weight"),
        "deform_groups": _shape(path, state, "deform_align.backward_1.conv_offset.6.weight")[0] // 27,
        "hr_channels": _shape(path, state, "conv_hr.weight")[0],
        "flow": "spynet" if any(k.startswith("spynet.") for k in state) else "dis",
    }


def _iart_hparams(path: Path, state: dict[str, torch.Tensor]) -> dict:
    table = _shape(path, state, "swin_backbone.backward_1.layers.0.residual_group.blocks.0.attn.relative_position_bias_table")
    # (2·3-1)(2·ws-1)² rows for 3-frame windows of ws×ws.
    side = round((table[0] / 5) ** 0.5)
    if 5 * side * side != table[0] or side % 2 == 0:
        raise WeightsError(f"{path}: relative position table of {table[0]} rows is not a (3, ws, ws) window")
    return {
        "embed_dim": _shape(path, state, "conv_first.weight")[0],
        "num_layers": _count(state, r"swin_backbone\.backward_1\.layers\.(\d+)\.conv\.weight"),
        "depth": _count(state, r"swin_backbone\.backward_1\.layers\.0\.residual_group\.blocks\.(\d+)\.norm1\.weight"),
        "num_heads": table[1],
        "window_size": (side + 1) // 2,
        "mlp_ratio": _shape(path, state, "swin_backbone.backward_1.layers.0.residual_group.blocks.0.mlp.fc1.weight")[0]
        / _shape(path, state, "conv_first.weight")[0],
        "mid_channels": _shape(path, state, "conv_before_upsample.weight")[0],
        "hr_channels": _shape(path, state, "conv_hr.weight")[0],
        "flow": "spynet" if any(k.startswith("spynet.") for k in state) else "dis",
        "unused_layers": "swin_backbone.backward_1.conv_first.weight" in state,
    }


@register_converter("basicsr")
def convert_basicsr(path: Path, arch: str | None) -> Converted:
    """``arch`` is ``hirn``/``iart`` (or a preset of them), optionally ``:params_ema`` to pick EMA weights."""
    param_key = None
    if arch and ":" in arch:
        arch, param_key = arch.split(":", 1)
    obj = _load(path)
    state, used = _unwrap(path, obj, param_key)
    detected = detect_arch(state)
    family = get_preset(arch).cls.arch if arch else detected
    if family is None:
        raise WeightsError(f"{path}: neither a HiRN nor an IART checkpoint (no twa.* / swin_backbone.* tensors)")
    if family not in LICENCES:
        raise WeightsError(f"{path}: the basicsr converter handles hirn and iart, not {family!r}")
    if detected is not None and detected != family:
        raise WeightsError(f"{path}: holds {detected} weights, but --arch {arch} was requested")
    hparams = _hirn_hparams(path, state) if family == "hirn" else _iart_hparams(path, state)
    model = create_model(family, pretrained=False, **hparams)
    _drop_constants(path, state, model)
    return Converted(
        model=model,
        state_dict=state,
        metadata={"source": path.name, "param_key": used, "licence": LICENCES[family]},
    )


def spynet_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A BasicSR or mmedit SPyNet checkpoint as a state dict for :class:`~vsrkit.layers.spynet.SPyNet`."""
    path = Path(path)
    state, _ = _unwrap(path, _load(path), None)
    # mmedit nests the network ("generator.spynet." in full models) and wraps convs in ConvModule.
    state = {re.sub(r"^(generator\.)?(spynet\.)?", "", k): v for k, v in state.items()}
    out: dict[str, torch.Tensor] = {}
    rx = re.compile(r"^basic_module\.(\d)\.basic_module\.(\d)\.(?:conv\.)?(weight|bias)$")
    mmedit = any(".conv.weight" in k for k in state)
    for key, value in state.items():
        if key in ("mean", "std"):
            _check_constant(path, {key: value}, key, _SPYNET_MEAN if key == "mean" else _SPYNET_STD)
            continue
        m = rx.match(key)
        if m is None:
            raise WeightsError(f"{path}: unexpected tensor {key!r} in a SPyNet checkpoint")
        level, layer, kind = int(m.group(1)), int(m.group(2)), m.group(3)
        # mmedit numbers its five ConvModules 0..4; BasicSR's Sequential interleaves ReLUs (0, 2, .., 8).
        out[f"basic_module.{level}.basic_module.{2 * layer if mmedit else layer}.{kind}"] = value
    from ..layers.spynet import SPyNet
    from .io import check_state_dict

    check_state_dict(SPyNet(), out, str(path))
    return out
