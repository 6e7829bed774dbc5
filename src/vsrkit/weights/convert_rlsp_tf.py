"""``rlsp-tf``: the authors' TensorFlow 1 RLSP checkpoints (``dariofuoli/RLSP``) to vsrkit weights.

The TF graph names its convolutions ``layer0 .. layer{L}``: ``layer0 .. layer{L-2}`` are the trunk,
``layer{L-1}`` the state head (F -> F) and ``layer{L}`` the output head (F -> s²); see
:class:`vsrkit.models.rlsp.RLSP`. Kernels are ``[kh, kw, Cin, Cout]`` and become torch's
``[Cout, Cin, kh, kw]``. L, F and the scale are read from the shapes, so any RLSP L-F checkpoint
converts whatever its prefix is called (the 7-48 one is published as ``ckpt_rslp_48``). Adam slots,
beta powers and the global step are training state and are dropped.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import torch

from ..errors import WeightsError
from ..models._registry import build_model, full_hparams, get_preset, list_models
from ..models.rlsp import RLSP
from .convert import Converted, register_converter
from .tf_checkpoint import TFCheckpoint

LICENCE = "CC BY-NC-SA 4.0, not redistributable (RLSP weights (C) 2019 Dario Fuoli; academic use only)"
_LAYER = re.compile(r"^(?:.*/)?layer(\d+)/(kernel|bias)$")
_TRAINING_STATE = re.compile(
    r"(^|/)(beta[12]_power(_\d+)?|global_step)$|/(Adam|Adam_\d+|Momentum|RMSProp\w*)$"
)


def _layers(ckpt: TFCheckpoint) -> dict[int, dict[str, str]]:
    layers: dict[int, dict[str, str]] = {}
    unknown = []
    for name in ckpt.names():
        if _TRAINING_STATE.search(name):
            continue
        match = _LAYER.match(name)
        if match is None:
            unknown.append(name)
            continue
        index, kind = int(match.group(1)), match.group(2)
        if kind in layers.setdefault(index, {}):
            raise WeightsError(f"{ckpt.index_path}: two variables for layer{index}/{kind}")
        layers[index][kind] = name
    if unknown:
        raise WeightsError(
            f"{ckpt.index_path}: not an RLSP checkpoint: unexpected variables {', '.join(unknown[:4])}"
        )
    if not layers:
        raise WeightsError(f"{ckpt.index_path}: not an RLSP checkpoint: no layerN/kernel variables")
    if sorted(layers) != list(range(len(layers))) or any(len(v) != 2 for v in layers.values()):
        found = ", ".join(f"layer{i}/{k}" for i in sorted(layers) for k in sorted(layers[i]))
        raise WeightsError(
            f"{ckpt.index_path}: RLSP layers must be layer0..layerN with kernel and bias; found {found}"
        )
    return layers


def _infer(ckpt: TFCheckpoint, layers: dict[int, dict[str, str]]) -> dict[str, int]:
    shapes = {i: ckpt.entry(v["kernel"]).shape for i, v in layers.items()}
    last = len(layers) - 1
    num_layers = last  # L - 1 trunk convs + state head + output head = L + 1 variables
    if num_layers < 3 or any(len(s) != 4 or s[:2] != (3, 3) for s in shapes.values()):
        raise WeightsError(
            f"{ckpt.index_path}: not an RLSP checkpoint: kernel shapes {list(shapes.values())}"
        )
    filters = shapes[0][3]
    s2 = shapes[last][3]
    scale = math.isqrt(s2)
    expected = {0: (9 + filters + s2, filters), last: (filters, s2)}
    for i in range(1, last):
        expected[i] = (filters, filters)
    wrong = [
        f"layer{i} {shapes[i][2]}->{shapes[i][3]} (expected {a}->{b})"
        for i, (a, b) in expected.items()
        if shapes[i][2:] != (a, b)
    ]
    if scale * scale != s2 or wrong:
        raise WeightsError(
            f"{ckpt.index_path}: not an RLSP L-F checkpoint: {'; '.join(wrong) or f'{s2} output channels'}"
        )
    return {"num_layers": num_layers, "filters": filters, "scale": scale}


def _tf_to_torch_names(num_layers: int) -> dict[int, str]:
    names = {i: f"trunk.{i}" for i in range(num_layers - 1)}
    names[num_layers - 1] = "state_head"
    names[num_layers] = "output_head"
    return names


def _preset_for(hparams: dict[str, int]) -> str | None:
    for name in list_models("rlsp-*"):
        preset = get_preset(name)
        if preset.cls is RLSP:
            full = full_hparams(RLSP, preset.kwargs)
            if all(full[k] == v for k, v in hparams.items()):
                return name
    return None


@register_converter("rlsp-tf")
def convert_rlsp_tf(src: Path, arch: str | None) -> Converted:
    ckpt = TFCheckpoint(src)
    layers = _layers(ckpt)
    hparams = _infer(ckpt, layers)
    preset = _preset_for(hparams)
    if arch is not None and arch not in (RLSP.arch, preset):
        raise WeightsError(
            f"{ckpt.index_path}: checkpoint is RLSP {hparams['num_layers']}-{hparams['filters']} "
            f"(scale {hparams['scale']}), not {arch!r}"
        )
    model = build_model(RLSP, hparams)
    if preset is not None:
        model.preset_name = preset  # type: ignore[attr-defined]
    mapping = _tf_to_torch_names(hparams["num_layers"])
    state: dict[str, torch.Tensor] = {}
    origin: dict[str, str] = {}
    for index, names in layers.items():
        kernel = ckpt.read(names["kernel"]).astype(np.float32)
        bias = ckpt.read(names["bias"]).astype(np.float32)
        state[f"{mapping[index]}.weight"] = torch.from_numpy(
            np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))
        )
        state[f"{mapping[index]}.bias"] = torch.from_numpy(bias.copy())
        origin[f"{mapping[index]}.weight"] = names["kernel"]
        origin[f"{mapping[index]}.bias"] = names["bias"]
    metadata = {
        "architecture": f"RLSP {hparams['num_layers']}-{hparams['filters']} (TensorFlow original, Y output)",
        "source": f"official RLSP TensorFlow 1 checkpoint {ckpt.prefix.name} (github.com/dariofuoli/RLSP)",
        "licence": LICENCE,
        "tf_variables": json.dumps(origin),
        # The RLSP paper trains on its BD LR (vsrkit's `gauss1.5`): read by `trained_degradation`.
        "trained_degradation": "gauss1.5",
    }
    return Converted(model=model, state_dict=state, metadata=metadata)
