"""Evaluate a model on a dataset: degrade the ground truth on the fly, run the model, score it.

The result follows the issue's JSON schema::

    {"model", "weights", "degradation", "protocol",
     "sequences": {NAME: {"psnr", "ssim", "frames": [{"psnr", "ssim"}, ...]}},
     "mean": {"psnr", "ssim"}, "fps"}

With ``temporal``, each sequence also has ``"tof"`` and ``"tof_frames"`` and the mean ``"tof"``
(:mod:`vsrkit.metrics.temporal`; the same for every protocol).

``mean`` is the mean over sequences of the per-sequence means (the convention of every VSR table),
``fps`` is output frames per second of model time only (degradation, I/O and scoring excluded).
The whole dataset is validated before the first model call, and saved frames are built in a staging
folder that is moved into place only when every sequence succeeded.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..degradations import get_degradation
from ..errors import VsrkitError
from ..io.frames import check_sequence, commit_dir, list_sequences, read_sequence, staging_dir, write_image
from ..metrics import get_protocol
from ..metrics.temporal import tof
from ..models.base import VSRModel
from .device import resolve_device


def run_model(model: VSRModel, lr: Tensor) -> Tensor:
    """How evaluation calls the model by default: LR ``(T, 3, h, w)`` on the model's device in,
    ``(T * temporal_scale, C, sH, sW)`` out, whole sequence at once. :func:`evaluate` takes another
    such function as ``run`` (e.g. :func:`run_frames_alone`)."""
    with torch.inference_mode():
        return model(lr.unsqueeze(0))[0]


def run_frames_alone(model: VSRModel, lr: Tensor) -> Tensor:
    """Every frame as a clip of its own (zero state, the frame replicated as its own neighbours):
    scored against :func:`run_model`, what a model takes from other frames."""
    with torch.inference_mode():
        return torch.cat([model(lr[i : i + 1].unsqueeze(0))[0] for i in range(lr.shape[0])])


def _model_label(model: VSRModel) -> str:
    return getattr(model, "preset_name", None) or model.arch


def evaluate(
    model: VSRModel,
    dataset: str | Path,
    *,
    degradation: str,
    protocol: str,
    scale: int | None = None,
    device: str | torch.device | None = None,
    save_frames: str | Path | None = None,
    weights_label: str | None = None,
    run: Callable[[VSRModel, Tensor], Tensor] = run_model,
    temporal: bool = False,
) -> dict[str, Any]:
    """Score ``model`` on every sequence of ``dataset`` (a folder of sequence folders, or one
    sequence folder). ``save_frames`` writes the outputs as ``DIR/<sequence>/<index:08d>.png``
    (8-bit; grayscale for Y-only models)."""
    deg = get_degradation(degradation)
    prot = get_protocol(protocol)
    scale = model.scale if scale is None else scale
    if scale != model.scale:
        raise VsrkitError(f"model {_model_label(model)!r} upscales ×{model.scale}, not ×{scale}")
    if getattr(prot, "channel", None) == "rgb" and model.output == "Y":
        raise VsrkitError(
            f"protocol {protocol!r} scores RGB but model {_model_label(model)!r} outputs Y only; "
            "use a Y protocol such as basicsr-y"
        )
    # Validate everything (headers only) before running anything or writing any output.
    sequences = [(seq.name, check_sequence(seq)[0]) for seq in list_sequences(dataset)]
    names = [n for n, _ in sequences]
    if len(set(names)) != len(names):
        raise VsrkitError(f"{dataset}: duplicate sequence names")

    dev = resolve_device(device)
    model = model.to(dev).eval()
    stage = staging_dir(save_frames) if save_frames is not None else None
    results: dict[str, dict[str, Any]] = {}
    model_seconds = 0.0
    out_frames = 0
    try:
        for name, _frames in sequences:
            hr = read_sequence(_frames[0].parent)
            lr, target = deg.pair(hr, scale)
            lr = lr.to(dev)
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            start = time.perf_counter()
            output = run(model, lr)
            output = output.to("cpu", torch.float32)
            model_seconds += time.perf_counter() - start
            out_frames += output.shape[0]
            expected = lr.shape[0] * model.temporal_scale
            if output.shape[0] != expected or output.shape[0] != target.shape[0]:
                raise VsrkitError(
                    f"{name}: model gave {output.shape[0]} frames for {lr.shape[0]} LR frames; "
                    f"the target has {target.shape[0]}"
                )
            results[name] = prot.score(output, target)
            if temporal:
                scored = tof(output, target)
                results[name].update(tof=scored["tof"], tof_frames=scored["frames"])
            if stage is not None:
                seq_dir = stage / name
                seq_dir.mkdir()
                for i, frame in enumerate(output):
                    write_image(seq_dir / f"{i:08d}.png", frame)
            del hr, lr, target, output
    except BaseException:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        raise
    if stage is not None:
        commit_dir(stage, save_frames)
    n = len(results)
    return {
        "model": _model_label(model),
        "weights": weights_label,
        "degradation": degradation,
        "protocol": protocol,
        "sequences": results,
        "mean": {
            "psnr": sum(r["psnr"] for r in results.values()) / n,
            "ssim": sum(r["ssim"] for r in results.values()) / n,
            **({"tof": sum(r["tof"] for r in results.values()) / n} if temporal else {}),
        },
        "fps": out_frames / model_seconds if model_seconds > 0 else float("inf"),
    }
