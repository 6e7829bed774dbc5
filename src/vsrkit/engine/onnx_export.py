"""ONNX export of a streaming (recurrent or sliding-window) model as one step, for runtimes outside PyTorch
(onnxruntime, TensorRT, OpenVINO, vs-mlrt).

A recurrent model is a loop, not a graph of fixed length: what a runtime runs is one step, the window of LR frames
``t - radius .. t + radius`` and the state in, frame ``t``'s output and the new state out, and the host loops. Height
and width stay dynamic. Models aligned by DIS optical flow take the two flows (centre frame to previous, centre to
next) as inputs: OpenCV's DIS is not an ONNX operator, so the host computes them (:func:`run_onnx` shows how); the
warping of frames, state and previous output (``grid_sample``) is in the graph, which is where exports of flow-based
VSR models usually fail.

The file's metadata (``metadata_props``, key ``vsrkit``, JSON) says how to run the loop: the scale, radius and
output (``Y`` or ``RGB``), each input and output with its shape, the state's channels and size relative to the LR
frame (it starts as zeros), the flow settings, the size multiple frames are padded to (edge-replicated), and that a
window at a clip's ends repeats the first or last frame. :func:`run_onnx` is that loop on onnxruntime; it is what
:func:`export_onnx` checks the exported file with, against the PyTorch model on a short clip, before writing it.

The graph comes from PyTorch's TorchScript-based exporter (``dynamo=False``), deprecated since torch 2.9 in favour of
the ``torch.export``-based one, which needs ``onnxscript`` and has not been tried with these models.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import __version__
from ..errors import VsrkitError
from ..layers.classical_flow import DISFlow
from ..models.base import StreamingVSRModel, VSRModel

OPSET = 17  # GridSample (the flow warp) needs 16
METADATA_KEY = "vsrkit"
# fp32 through two runtimes' kernels: sums in another order. A wrong export is off by far more (a missing
# input scale, a swapped state: 1e-2 and up).
TOLERANCE = 1e-4


@contextlib.contextmanager
def _native_output_silenced() -> Iterator[None]:
    """Silence what C++ code writes to the process's stdout and stderr: the TorchScript exporter logs the whole
    graph there when an operator cannot be exported (its log switch is always on in torch 2.13: the check reads the
    function, not its result), and the user needs one line."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def _state_tensors(state: Any) -> list[Tensor]:
    if state is None:
        return []
    if isinstance(state, Tensor):
        return [state]
    return list(state)


def _state_like(template: Any, tensors: list[Tensor]) -> Any:
    if template is None:
        return None
    if isinstance(template, Tensor):
        return tensors[0]
    return tuple(tensors)


class _Step(nn.Module):
    """``(window, *state, [flow_prev, flow_next]) -> (output, *new_state)`` with plain tensors, as ONNX wants."""

    def __init__(self, model: StreamingVSRModel, template: Any, aligned: bool) -> None:
        super().__init__()
        self.model, self.template, self.aligned = model, template, aligned

    def forward(self, window: Tensor, *inputs: Tensor) -> tuple[Tensor, ...]:
        n_state = len(_state_tensors(self.template))
        state = _state_like(self.template, list(inputs[:n_state]))
        if self.aligned:
            out, _, new_state = self.model.cell(window, state, tuple(inputs[n_state:]))  # type: ignore[attr-defined]
        else:
            out, new_state = self.model.step(window, state)
        return (out, *_state_tensors(new_state))


def _flow_of(model: VSRModel) -> DISFlow | None:
    flow = getattr(model, "flow", None)
    return flow if isinstance(flow, DISFlow) else None


@dataclass(frozen=True)
class OnnxExport:
    path: Path
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    frames_checked: int
    max_difference: float  # largest |ONNX - PyTorch| over the check clip's outputs


def describe(model: StreamingVSRModel, name: str) -> dict[str, Any]:
    """The loop a host runs, as stored in the file's metadata (see the module's docstring)."""
    probe = torch.zeros(1, 3, 8, 16)
    state = _state_tensors(model.initial_state(probe))
    flow = _flow_of(model)
    n = 2 * model.radius + 1
    return {
        "model": name,
        "vsrkit": __version__,
        "scale": model.scale,
        "radius": model.radius,
        "output": model.output,
        "size_multiple": model.size_multiple,
        "window": {"name": "window", "shape": [1, n, 3, "H", "W"],
                   "content": "RGB in [0, 1], frames t-radius..t+radius; at a clip's ends the first or last frame repeats"},
        "state": [
            {"name": f"state{i}", "channels": s.shape[1], "size": [s.shape[2] / 8, s.shape[3] / 16], "initial": "zeros"}
            for i, s in enumerate(state)
        ],
        "flows": None if flow is None else {
            "names": ["flow_prev", "flow_next"], "shape": [1, 2, "H", "W"],
            "content": "OpenCV DIS flow (on 8-bit 0.299/0.587/0.114 grey) from the centre frame to the previous "
                       "and to the next frame: (dx, dy) in LR pixels, where each centre pixel is found in the other",
            "dis_preset": flow.preset, "dis_finest_scale": flow.finest_scale,
        },
        "outputs": ["output"] + [f"new_state{i}" for i in range(len(state))],
    }


def export_onnx(
    model: VSRModel, path: str | Path, *, name: str, opset: int = OPSET, check_frames: int = 6,
    check_size: tuple[int, int] = (40, 56),
) -> OnnxExport:
    """Export ``model``'s step to ``path`` (see the module's docstring), after checking that :func:`run_onnx` on
    the exported graph gives the model's outputs on a ``check_frames`` clip of ``check_size`` within
    :data:`TOLERANCE`. Nothing is written if export or check fails (:class:`VsrkitError`, one line)."""
    onnx = _require("onnx")
    if not isinstance(model, StreamingVSRModel):
        raise VsrkitError(f"{name}: a {model.kind} model runs whole clips or chunks, both ways in time; only "
                          "recurrent and sliding-window models export to ONNX as one step")
    path = Path(path)
    model = copy.deepcopy(model).float().eval()  # the caller's model keeps its dtype and mode
    info = describe(model, name)
    m = model.size_multiple
    h, w = (-(-s // m) * m for s in check_size)
    generator = torch.Generator().manual_seed(0)
    # Smooth content moving a pixel a frame: the flow, the warp and the state all take part.
    coarse = torch.rand(1, 3, h // 4 + 2, (w + check_frames) // 4 + 2, generator=generator)
    big = F.interpolate(coarse, size=(h, w + check_frames), mode="bicubic", align_corners=False)[0].clamp(0, 1)
    clip = torch.stack([big[:, :, i : i + w] for i in range(check_frames)])
    window = clip[None, [min(i, check_frames - 1) for i in range(2 * model.radius + 1)]]
    template = model.initial_state(clip[:1])
    state = _state_tensors(template)
    flow = _flow_of(model)
    if flow is not None and not callable(getattr(model, "cell", None)):
        raise VsrkitError(f"{name}: aligned by DIS flow but has no cell taking the flows as inputs; not exportable")
    flows = [torch.zeros(1, 2, h, w), torch.zeros(1, 2, h, w)] if flow is not None else []
    inputs = ["window", *[s["name"] for s in info["state"]], *(info["flows"]["names"] if flow else [])]
    dynamic = {"window": {3: "H", 4: "W"}, "output": {2: "outH", 3: "outW"}}
    for i in range(len(state)):
        dynamic[f"state{i}"] = dynamic[f"new_state{i}"] = {2: f"state{i}_H", 3: f"state{i}_W"}
    for flow_name in inputs[1 + len(state):]:
        dynamic[flow_name] = {2: "H", 3: "W"}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            with torch.no_grad(), _native_output_silenced(), warnings.catch_warnings():
                # The tracer's notes on Python values it freezes (sizes, the SRNL norm) are expected for one
                # step and checked below by running the graph; the TorchScript exporter's deprecation is ours to
                # track (module docstring), not the user's.
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                # eval(): the exporter puts the wrapper back in the mode it found it in, and a new module is in
                # training mode (SRNL layers would then estimate their norm by power steps).
                torch.onnx.export(_Step(model, template, flow is not None).eval(), (window, *state, *flows), str(tmp),
                                  dynamo=False, opset_version=opset, input_names=inputs,
                                  output_names=info["outputs"], dynamic_axes=dynamic)
        except Exception as exc:  # the exporter raises many types; the user needs its first line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise VsrkitError(f"{name}: the ONNX exporter failed: {first}") from exc
        graph = onnx.load(str(tmp))
        graph.metadata_props.add(key=METADATA_KEY, value=json.dumps(info))
        onnx.save(graph, str(tmp))
        got = run_onnx(tmp, clip)
        with torch.no_grad():
            want = model(clip[None])[0]
        difference = (got - want).abs().max().item()
        if not difference <= TOLERANCE:
            raise VsrkitError(f"{name}: the exported graph's outputs differ from the model's by {difference:.2e} "
                              f"(more than {TOLERANCE:g}); not written")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return OnnxExport(path, tuple(inputs), tuple(info["outputs"]), check_frames, difference)


def _require(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        raise VsrkitError(f"ONNX export needs {module}: pip install 'vsrkit[onnx]'") from None


def run_onnx(path: str | Path, lr: Tensor, *, threads: int | None = None) -> Tensor:
    """Run an exported step over a clip ``(T, 3, H, W)`` RGB in [0, 1] on onnxruntime, as its metadata says:
    ``(T, C, sH, sW)`` (C is 1 for a Y model). The reference for a host written in another language."""
    ort = _require("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if meta is None:
        raise VsrkitError(f"{path}: not an ONNX step exported by vsrkit (no '{METADATA_KEY}' metadata)")
    info = json.loads(meta)
    t_len, _, h, w = lr.shape
    m, r, scale = info["size_multiple"], info["radius"], info["scale"]
    ph, pw = (-h) % m, (-w) % m
    frames = F.pad(lr.float(), (0, pw, 0, ph), mode="replicate") if ph or pw else lr.float()
    hp, wp = frames.shape[-2:]
    state = [torch.zeros(1, s["channels"], round(hp * s["size"][0]), round(wp * s["size"][1])).numpy()
             for s in info["state"]]
    flow = DISFlow(info["flows"]["dis_preset"], finest_scale=info["flows"]["dis_finest_scale"]) if info["flows"] else None
    outputs = []
    for t in range(t_len):
        idx = [min(max(t + k, 0), t_len - 1) for k in range(-r, r + 1)]
        window = frames[idx][None]
        feed = {"window": window.numpy(), **{s["name"]: v for s, v in zip(info["state"], state)}}
        if flow is not None:
            prev, centre, nxt = window[0]
            to_prev, to_next = flow(torch.stack([centre, centre]), torch.stack([prev, nxt])).chunk(2)
            feed.update(flow_prev=to_prev.numpy(), flow_next=to_next.numpy())
        out, *state = session.run(None, feed)
        outputs.append(torch.from_numpy(out[0, :, : h * scale, : w * scale]))
    return torch.stack(outputs)
