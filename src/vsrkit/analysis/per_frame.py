"""Per-frame scores on long sequences, streamed in flat memory, and ΔPSNR against a reference (Fig. 3).

A 1000-frame HR sequence does not fit in memory as one tensor, so frames are read, degraded,
super-resolved (through :meth:`StreamingVSRModel.step`, boundary frames replicated as in
``forward``) and scored one at a time. Scores use a registered protocol's conventions (colour,
rounding, crop) for *every* frame; which frames count is left to the aggregation
(:mod:`vsrkit.metrics.long_sequence`). Sources: a frame folder, a video file, or any iterator of
``(3, H, W)`` frames (e.g. :func:`vsrkit.data.quasistatic.quasistatic_frames`).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..degradations import get_degradation
from ..errors import InputError, VsrkitError
from ..metrics import get_protocol
from ..models.base import StreamingVSRModel, VSRModel
from .plot import line_plot

OutputHook = Callable[[int, Tensor, Tensor], None]


def iter_source(source: str | Path) -> Iterator[Tensor]:
    """HR frames ``(3, H, W)`` in [0, 1] from a frame folder or a video file."""
    source = Path(source)
    if source.is_dir():
        from ..io.frames import iter_sequence

        for _, frame in iter_sequence(source):
            yield frame
    elif source.is_file():
        from ..io.video import VideoInput

        with VideoInput(source) as video:
            for frame, _, _ in video.frames():
                yield frame
    else:
        raise InputError(source, "no such frame folder or video file")


def stream_outputs(model: StreamingVSRModel, lr_frames: Iterable[Tensor]) -> Iterator[tuple[int, Tensor]]:
    """``(t, output (C, sH, sW))`` for LR frames ``(3, h, w)`` streamed through ``model.step``."""
    if not isinstance(model, StreamingVSRModel):
        raise VsrkitError(f"model {model.arch!r} is not a streaming model; per-frame streaming needs one")
    r = model.radius
    buf: deque[Tensor] = deque()
    state: Any = None
    t_out = 0
    first = True
    with torch.inference_mode():
        for frame in lr_frames:
            frame = frame[None]
            if first:
                state = model.initial_state(frame)
                buf.extend([frame] * r)  # replicated left boundary
                first = False
            buf.append(frame)
            if len(buf) == 2 * r + 1:
                out, state = model.step(torch.stack(list(buf), 1), state)
                yield t_out, out[0]
                t_out += 1
                buf.popleft()
        if first:
            return
        for _ in range(r):  # replicated right boundary
            buf.append(buf[-1])
            out, state = model.step(torch.stack(list(buf), 1), state)
            yield t_out, out[0]
            t_out += 1
            buf.popleft()


def per_frame_scores(
    model: VSRModel,
    frames: Iterable[Tensor],
    *,
    degradation: str = "mrvsr",
    protocol: str = "mrvsr",
    device: str | torch.device = "cpu",
    max_frames: int | None = None,
    on_output: OutputHook | None = None,
) -> list[dict[str, float]]:
    """``[{"psnr", "ssim"}]`` for every frame of the sequence (protocol conventions, no frame skip).

    ``on_output(t, output, target)`` sees every output frame (CPU), e.g. for temporal profiles.
    """
    deg = get_degradation(degradation)
    prot = get_protocol(protocol)
    if dataclasses.is_dataclass(prot):
        prot = dataclasses.replace(prot, skip_start=0, skip_end=0)
    dev = torch.device(device)
    model = model.to(dev).eval()
    targets: deque[Tensor] = deque()
    scores: list[dict[str, float]] = []

    def lr_stream() -> Iterator[Tensor]:
        for i, hr in enumerate(frames):
            if max_frames is not None and i >= max_frames:
                return
            lr, target = deg.pair(hr[None], model.scale)
            targets.append(target[0])
            yield lr[0].to(dev)

    for t, out in stream_outputs(model, lr_stream()):
        out = out.to("cpu", torch.float32)
        target = targets.popleft()
        s = prot.score(out[None], target[None])
        scores.append({"psnr": float(s["psnr"]), "ssim": float(s["ssim"])})
        if on_output is not None:
            on_output(t, out, target)
    return scores


def delta_psnr(scores: dict[str, list[dict[str, float]]], reference: str) -> dict[str, list[float]]:
    """Per-frame PSNR minus the reference model's, for every model (the reference gives zeros)."""
    if reference not in scores:
        raise VsrkitError(f"reference {reference!r} is not among the models: {', '.join(scores)}")
    ref = [f["psnr"] for f in scores[reference]]
    out = {}
    for name, frames in scores.items():
        if len(frames) != len(ref):
            raise VsrkitError(f"{name}: {len(frames)} frames scored, the reference has {len(ref)}")
        out[name] = [f["psnr"] - r for f, r in zip(frames, ref)]
    return out


def plot_delta(delta: dict[str, list[float]], path: str | Path, *, reference: str, start: int = 0,
               ylim: tuple[float, float] | None = None, title: str = "") -> Path:
    series = {name: (list(range(start, start + len(v))), v) for name, v in delta.items()}
    return line_plot(series, path, title=title or f"per-frame PSNR minus {reference}",
                     xlabel="frame", ylabel="dPSNR dB", ylim=ylim, hlines=(0.0,))
