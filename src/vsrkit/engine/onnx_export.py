"""ONNX export of a streaming (recurrent or sliding-window) model as one step, and of the bidirectional RLSP
(``default``) as one step per direction, for runtimes outside PyTorch (onnxruntime, TensorRT, OpenVINO, vs-mlrt).

A recurrent model is a loop, not a graph of fixed length: what a runtime runs is one step, the window of LR frames
``t - radius .. t + radius`` and the state in, frame ``t``'s output and the new state out, and the host loops. Height
and width stay dynamic. Models aligned by DIS optical flow take the two flows (centre frame to previous, centre to
next) as inputs: OpenCV's DIS is not an ONNX operator, so the host computes them (:func:`run_onnx` shows how); the
warping of frames, state and previous output (``grid_sample``) is in the graph, which is where exports of flow-based
VSR models usually fail.

A bidirectional RLSP runs two cells, one backward and one forward in time, on temporal chunks as ``vsrkit upscale``
does: two graphs, ``NAME.onnx`` (the forward step, which also mixes in the backward output) and
``NAME.backward.onnx`` (the backward step; the view the backward cell sees the clip in, e.g. turned by 90°, is inside
the graph, so both take the same frames, flows and state shapes). Per chunk, the host runs the backward graph from
the end of the chunk's right context down to its first frame from a zero state, then the forward graph over the
chunk, its state carried from the previous chunk; the metadata's ``chunks`` and ``mix`` say how, and
:func:`run_onnx` does it. Other bidirectional models (HiRN, IART, DAVSR) run whole chunks through attention or
unfolded optimisation and are refused.

The file's metadata (``metadata_props``, key ``vsrkit``, JSON) says how to run the loop: the scale, radius and
output (``Y`` or ``RGB``), each input and output with its shape, the state's channels and size relative to the LR
frame (it starts as zeros), the flow settings, the size multiple frames are padded to (edge-replicated), and that a
window at a clip's ends repeats the first or last frame. :func:`run_onnx` is that loop on onnxruntime; it is what
:func:`export_onnx` checks the exported file with, against the PyTorch model on a short clip (a bidirectional one:
against :class:`~vsrkit.engine.upscaler.Upscaler`'s chunked run, in short chunks), before writing it.

The graph comes from PyTorch's TorchScript-based exporter (``dynamo=False``), deprecated since torch 2.9 in favour of
the ``torch.export``-based one (``onnxscript``). Tried on 2026-12-05 (torch 2.13, onnxscript 0.7.2) with height and
width as ``torch.export.Dim``: the RLSP and RLSP-RGB steps export (4-10 s each) and their looped outputs equal
PyTorch's (1e-7, also at another size); the DIS-aligned RLSP step exports (17-38 s) but its 6-frame loop differs
by 1.4e-3 (the flow warp exported alone is exact; the cause was not found); MRVSR's exact spectral norm
(``aten._linalg_svd``) has no ONNX conversion there. Not switched until the aligned step agrees.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import sys
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
from ..layers.shuffle import depth_to_space_tf, space_to_depth_tf
from ..layers.views import View, flow_to_view, from_view, to_view
from ..models.base import StreamingVSRModel, VSRModel
from ..models.rlsp import RLSP, BidirectionalRLSP
from .upscaler import DEFAULT_CHUNK, Upscaler

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


class _ForwardStep(nn.Module):
    """The forward cell of a bidirectional RLSP at frame ``t``, mixed with the backward cell's output there:
    ``(window, hidden, feedback, [flow_prev, flow_next], backward_output, forward_weight) -> (output, new_hidden,
    new_feedback)``, as :meth:`BidirectionalRLSP._run` mixes them."""

    def __init__(self, cell: RLSP, aligned: bool) -> None:
        super().__init__()
        self.cell, self.aligned = cell, aligned

    def forward(self, window: Tensor, hidden: Tensor, feedback: Tensor, *inputs: Tensor) -> tuple[Tensor, ...]:
        flows = (inputs[0], inputs[1]) if self.aligned else None
        backward_output, forward_weight = inputs[-2:]
        y, _, (new_hidden, new_feedback) = self.cell.cell(window, (hidden, feedback), flows)
        return forward_weight * y + (1 - forward_weight) * backward_output, new_hidden, new_feedback


class _BackwardStep(nn.Module):
    """The backward cell at frame ``t``, with the same inputs as :class:`_ForwardStep`'s first ones (frames
    ``t-1, t, t+1`` and the flows to them, the state in the frame's orientation): the graph reverses the window and
    turns frames, flows and state into the view the cell runs in (``backward_view``), and its outputs back, so the
    host never sees the view. Turning the state is exact: a view is a permutation of pixels, applied to the folded
    previous output (space-to-depth) through the HR image it folds."""

    def __init__(self, cell: RLSP, view: View, aligned: bool) -> None:
        super().__init__()
        self.cell, self.view, self.aligned = cell, view, aligned

    def _fold(self, folded: Tensor, turn: Any) -> Tensor:
        s = self.cell.scale
        return space_to_depth_tf(turn(depth_to_space_tf(folded, s), self.view), s)

    def forward(self, window: Tensor, hidden: Tensor, feedback: Tensor, *flows: Tensor) -> tuple[Tensor, ...]:
        view = self.view
        # Time runs the other way for this cell: its "previous" frame is t+1.
        seen = to_view(window.flip(1), view)
        state = (to_view(hidden, view), self._fold(feedback, to_view))
        turned = (flow_to_view(flows[1], view), flow_to_view(flows[0], view)) if self.aligned else None
        y, _, (new_hidden, new_feedback) = self.cell.cell(seen, state, turned)
        return from_view(y, view), from_view(new_hidden, view), self._fold(new_feedback, from_view)


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
    companions: tuple[Path, ...] = ()  # further graphs written beside ``path`` (a bidirectional model's backward step)


def _flows_info(flow: DISFlow | None) -> dict[str, Any] | None:
    return None if flow is None else {
        "names": ["flow_prev", "flow_next"], "shape": [1, 2, "H", "W"],
        "content": "OpenCV DIS flow (on 8-bit 0.299/0.587/0.114 grey) from the centre frame to the previous "
                   "and to the next frame: (dx, dy) in LR pixels, where each centre pixel is found in the other",
        "dis_preset": flow.preset, "dis_finest_scale": flow.finest_scale,
    }


def _states_info(state: list[Tensor], probe: Tensor) -> list[dict[str, Any]]:
    """Each state tensor for LR frames like ``probe``: its size relative to the frame's."""
    h, w = probe.shape[-2:]
    return [{"name": f"state{i}", "channels": s.shape[1], "size": [s.shape[2] / h, s.shape[3] / w],
             "initial": "zeros"} for i, s in enumerate(state)]


def describe(model: VSRModel, name: str) -> dict[str, Any]:
    """The loop a host runs, as stored in the file's metadata (see the module's docstring)."""
    probe = torch.zeros(1, 3, 8, 16)
    if isinstance(model, BidirectionalRLSP):
        return _describe_bidirectional(model, name, probe)
    assert isinstance(model, StreamingVSRModel)
    state = _state_tensors(model.initial_state(probe))
    n = 2 * model.radius + 1
    return {
        "model": name,
        "vsrkit": __version__,
        "kind": "step",
        "scale": model.scale,
        "radius": model.radius,
        "output": model.output,
        "size_multiple": model.size_multiple,
        "window": {"name": "window", "shape": [1, n, 3, "H", "W"],
                   "content": "RGB in [0, 1], frames t-radius..t+radius; at a clip's ends the first or last frame repeats"},
        "state": _states_info(state, probe),
        "flows": _flows_info(_flow_of(model)),
        "outputs": ["output"] + [f"new_state{i}" for i in range(len(state))],
    }


def _describe_bidirectional(model: BidirectionalRLSP, name: str, probe: Tensor) -> dict[str, Any]:
    states = _states_info(_state_tensors(model.forward_cell.initial_state(probe)), probe)
    flow = _flow_of(model)
    flow_names = ["flow_prev", "flow_next"] if flow is not None else []
    state_names = [s["name"] for s in states]
    return {
        "model": name,
        "vsrkit": __version__,
        "kind": "bidirectional",
        "scale": model.scale,
        "radius": 1,
        "output": model.output,
        "size_multiple": model.size_multiple,
        "graphs": {"forward": None, "backward": None},  # file names, set by the export
        "window": {"name": "window", "shape": [1, 3, 3, "H", "W"],
                   "content": "RGB in [0, 1], frames t-1, t, t+1 (both graphs; neighbours outside the chunk's clip "
                              "repeat its first or last frame)"},
        "state": states,
        "flows": _flows_info(flow),
        "inputs": {
            "backward": ["window", *state_names, *flow_names],
            "forward": ["window", *state_names, *flow_names, "backward_output", "forward_weight"],
        },
        "outputs": ["output"] + [f"new_{n}" for n in state_names],
        "chunks": {
            "chunk": DEFAULT_CHUNK, "left_context": model.chunk_left_context, "right_context": model.chunk_warmup,
            "content": "the video in chunks of `chunk` frames; each chunk's clip also holds `left_context` frames "
                       "before it and `right_context` after it (fewer at the video's ends). The backward graph "
                       "runs from the clip's last frame down to the chunk's first, from zero state; the forward "
                       "graph over the chunk, its state carried from the previous chunk (zeros at the start). "
                       "`vsrkit upscale` also starts afresh (a new video, as far as chunks and state go) at each "
                       "scene cut it finds",
        },
        "mix": {
            "horizon_tau": model.horizon_tau,
            "content": "forward_weight = a / (a + b), a = 1 - exp(-kf / horizon_tau), b = 1 - exp(-kb / "
                       "horizon_tau): kf frames the forward run has seen at t (t + 1 from the video's start), kb "
                       "the backward run (from the clip's last frame down to t); 0.5 if horizon_tau is 0",
        },
    }


def _exportable_bidirectional(model: BidirectionalRLSP, name: str) -> None:
    reasons = [why for why, refused in [
        ("a fusion net", model.fusion_out is not None), ("a forward cell that reads the backward run",
                                                         model.backward_guide), ("a pre-roll", model.preroll > 0),
    ] if refused]
    if reasons:
        raise VsrkitError(f"{name}: a bidirectional RLSP with {' and '.join(reasons)} does not export to ONNX; "
                          "two cells mixed by frames seen do")


def export_onnx(
    model: VSRModel, path: str | Path, *, name: str, opset: int = OPSET, check_frames: int = 6,
    check_size: tuple[int, int] = (40, 56),
) -> OnnxExport:
    """Export ``model``'s step to ``path`` (see the module's docstring), after checking that :func:`run_onnx` on
    the exported graph gives the model's outputs on a ``check_frames`` clip of ``check_size`` within
    :data:`TOLERANCE`. A bidirectional RLSP's backward step goes beside it (``NAME.backward.onnx``), checked in
    chunks of 3 frames with 2 of right context on 8 frames. Nothing is written if export or check fails
    (:class:`VsrkitError`, one line)."""
    onnx = _require("onnx")
    bidirectional = isinstance(model, BidirectionalRLSP)
    if not (isinstance(model, StreamingVSRModel) or bidirectional):
        raise VsrkitError(f"{name}: a {model.kind} model runs whole clips or chunks through attention or unfolded "
                          "optimisation; only recurrent and sliding-window models and the bidirectional RLSP "
                          "export to ONNX, as steps")
    if bidirectional:
        _exportable_bidirectional(model, name)
        check_frames = max(check_frames, 8)
    path = Path(path)
    # The caller's model keeps its device, dtype and mode; onnxruntime is checked on the CPU.
    model = copy.deepcopy(model).float().eval().cpu()
    info = describe(model, name)
    m = model.size_multiple
    h, w = (-(-s // m) * m for s in check_size)
    generator = torch.Generator().manual_seed(0)
    # Smooth content moving a pixel a frame: the flow, the warp and the state all take part.
    coarse = torch.rand(1, 3, h // 4 + 2, (w + check_frames) // 4 + 2, generator=generator)
    big = F.interpolate(coarse, size=(h, w + check_frames), mode="bicubic", align_corners=False)[0].clamp(0, 1)
    clip = torch.stack([big[:, :, i : i + w] for i in range(check_frames)])
    window = clip[None, [min(i, check_frames - 1) for i in range(2 * int(info["radius"]) + 1)]]
    flow = _flow_of(model)
    if flow is not None and not bidirectional and not callable(getattr(model, "cell", None)):
        raise VsrkitError(f"{name}: aligned by DIS flow but has no cell taking the flows as inputs; not exportable")
    flows = [torch.zeros(1, 2, h, w), torch.zeros(1, 2, h, w)] if flow is not None else []
    n_state = len(info["state"])
    dynamic = {"window": {3: "H", 4: "W"}, "output": {2: "outH", 3: "outW"}, "backward_output": {2: "outH", 3: "outW"}}
    for i in range(n_state):
        dynamic[f"state{i}"] = dynamic[f"new_state{i}"] = {2: f"state{i}_H", 3: f"state{i}_W"}
    for flow_name in ("flow_prev", "flow_next"):
        dynamic[flow_name] = {2: "H", 3: "W"}
    if bidirectional:
        assert isinstance(model, BidirectionalRLSP)
        state = _state_tensors(model.forward_cell.initial_state(clip[:1]))
        backward_cell = model.forward_cell if model.tied else model.backward_cell
        backward_path = path.with_name(f"{path.stem}.backward.onnx")
        info["graphs"] = {"forward": path.name, "backward": backward_path.name}
        s = model.scale
        graphs = [
            (backward_path, _BackwardStep(backward_cell, model.backward_view, flow is not None),
             (window, *state, *flows), info["inputs"]["backward"]),
            (path, _ForwardStep(model.forward_cell, flow is not None),
             (window, *state, *flows, torch.zeros(1, 1, s * h, s * w), torch.full((1,), 0.5)),
             info["inputs"]["forward"]),
        ]
        inputs = info["inputs"]["forward"]
    else:
        assert isinstance(model, StreamingVSRModel)
        template = model.initial_state(clip[:1])
        state = _state_tensors(template)
        inputs = ["window", *[s["name"] for s in info["state"]], *(info["flows"]["names"] if flow else [])]
        graphs = [(path, _Step(model, template, flow is not None), (window, *state, *flows), inputs)]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporaries: list[Path] = []
    try:
        for dest, step, args, names in graphs:
            # Not mkstemp: its file is private (0600); the output gets the user's usual permissions.
            tmp = dest.with_name(f".{dest.name}.part")
            temporaries.append(tmp)
            _export_graph(step, args, tmp, names, info["outputs"], dynamic, opset, name)
            graph = onnx.load(str(tmp))
            graph.metadata_props.add(key=METADATA_KEY, value=json.dumps(info))
            onnx.save(graph, str(tmp))
        difference = _check(model, temporaries, clip, bidirectional)
        if not difference <= TOLERANCE:
            raise VsrkitError(f"{name}: the exported graph's outputs differ from the model's by {difference:.2e} "
                              f"(more than {TOLERANCE:g}); not written")
        for (dest, *_), tmp in zip(graphs, temporaries):
            tmp.replace(dest)
    finally:
        for tmp in temporaries:
            tmp.unlink(missing_ok=True)
    return OnnxExport(path, tuple(inputs), tuple(info["outputs"]), check_frames, difference,
                      tuple(dest for dest, *_ in graphs[:-1]))


def _export_graph(step: nn.Module, args: tuple[Tensor, ...], dest: Path, inputs: list[str], outputs: list[str],
                  dynamic: dict[str, dict[int, str]], opset: int, name: str) -> None:
    try:
        with torch.no_grad(), _native_output_silenced(), warnings.catch_warnings():
            # The tracer's notes on Python values it freezes (sizes, the SRNL norm) are expected for one
            # step and checked by running the graph; the TorchScript exporter's deprecation is ours to
            # track (module docstring), not the user's.
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            # eval(): the exporter puts the wrapper back in the mode it found it in, and a new module is in
            # training mode (SRNL layers would then estimate their norm by power steps).
            torch.onnx.export(step.eval(), args, str(dest), dynamo=False, opset_version=opset, input_names=inputs,
                              output_names=outputs, dynamic_axes={k: v for k, v in dynamic.items()
                                                                  if k in inputs or k in outputs})
    except Exception as exc:  # the exporter raises many types; the user needs its first line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise VsrkitError(f"{name}: the ONNX exporter failed: {first}") from exc


# A bidirectional export is checked in short chunks, so that a few frames cross chunk borders both ways.
CHECK_CHUNK, CHECK_RIGHT_CONTEXT = 3, 2


def _check(model: VSRModel, graphs: list[Path], clip: Tensor, bidirectional: bool) -> float:
    """Largest difference between the exported graphs, looped by :func:`run_onnx`, and the model on ``clip``."""
    if not bidirectional:
        got = run_onnx(graphs[0], clip)
        with torch.no_grad():
            want = model(clip[None])[0]
        return (got - want).abs().max().item()
    got = run_onnx(graphs[-1], clip, chunk=CHECK_CHUNK, right_context=CHECK_RIGHT_CONTEXT, backward_graph=graphs[0])
    upscaler = Upscaler(model, device="cpu", precision="fp32", chunk=CHECK_CHUNK, warmup=CHECK_RIGHT_CONTEXT,
                        scene_cuts=False)
    with torch.no_grad():
        want = torch.cat([out for _, out, _ in upscaler._outputs(clip.unbind(0))])
    return (got - want).abs().max().item()


def _require(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        raise VsrkitError(f"ONNX export needs {module}: pip install 'vsrkit[onnx]'") from None


def _session(path: str | Path, threads: int | None) -> tuple[Any, dict[str, Any]]:
    ort = _require("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if meta is None:
        raise VsrkitError(f"{path}: not an ONNX step exported by vsrkit (no '{METADATA_KEY}' metadata)")
    return session, json.loads(meta)


def _flows_to_neighbours(flow: DISFlow, clip: Tensor, t: int) -> dict[str, Any]:
    """DIS flows of frame ``t`` to its neighbours in ``clip``, the clip's ends repeating their frame."""
    n = clip.shape[0]
    centre = clip[t]
    to_prev, to_next = flow(torch.stack([centre, centre]), torch.stack([clip[max(t - 1, 0)], clip[min(t + 1, n - 1)]])
                            ).chunk(2)
    return {"flow_prev": to_prev.numpy(), "flow_next": to_next.numpy()}


def run_onnx(
    path: str | Path, lr: Tensor, *, threads: int | None = None, chunk: int | None = None,
    right_context: int | None = None, backward_graph: str | Path | None = None,
) -> Tensor:
    """Run an exported model over a clip ``(T, 3, H, W)`` RGB in [0, 1] on onnxruntime, as its metadata says:
    ``(T, C, sH, sW)`` (C is 1 for a Y model). The reference for a host written in another language.

    A bidirectional export is run in chunks (``chunk`` and ``right_context``: the metadata's, those of ``vsrkit
    upscale``, unless given); its backward graph is the file the metadata names beside ``path`` unless
    ``backward_graph`` is given."""
    session, info = _session(path, threads)
    t_len, _, h, w = lr.shape
    m, r, scale = info["size_multiple"], info["radius"], info["scale"]
    ph, pw = (-h) % m, (-w) % m
    frames = F.pad(lr.float(), (0, pw, 0, ph), mode="replicate") if ph or pw else lr.float()
    hp, wp = frames.shape[-2:]

    def zeros() -> list[Any]:
        return [torch.zeros(1, s["channels"], round(hp * s["size"][0]), round(wp * s["size"][1])).numpy()
                for s in info["state"]]

    flow = DISFlow(info["flows"]["dis_preset"], finest_scale=info["flows"]["dis_finest_scale"]) if info["flows"] else None
    if info.get("kind") == "bidirectional":
        if (chunk is not None and chunk < 1) or (right_context is not None and right_context < 0):
            raise VsrkitError(f"chunk must be >= 1 and right_context >= 0, got {chunk} and {right_context}")
        backward, _ = _session(backward_graph or Path(path).with_name(info["graphs"]["backward"]), threads)
        out = _run_bidirectional(session, backward, info, frames, flow, zeros,
                                 chunk or info["chunks"]["chunk"],
                                 info["chunks"]["right_context"] if right_context is None else right_context)
        return out[..., : h * scale, : w * scale]
    state = zeros()
    outputs = []
    for t in range(t_len):
        idx = [min(max(t + k, 0), t_len - 1) for k in range(-r, r + 1)]
        window = frames[idx][None]
        feed = {"window": window.numpy(), **{s["name"]: v for s, v in zip(info["state"], state)}}
        if flow is not None:
            feed.update(_flows_to_neighbours(flow, window[0], 1))
        out, *state = session.run(None, feed)
        outputs.append(torch.from_numpy(out[0, :, : h * scale, : w * scale]))
    return torch.stack(outputs)


def _run_bidirectional(forward: Any, backward: Any, info: dict[str, Any], frames: Tensor, flow: DISFlow | None,
                       zeros: Any, chunk: int, right_context: int) -> Tensor:
    """The chunk loop of a bidirectional RLSP's two graphs (the metadata's ``chunks`` and ``mix``)."""
    t_len = frames.shape[0]
    left = info["chunks"]["left_context"]
    tau = info["mix"]["horizon_tau"]
    names = [s["name"] for s in info["state"]]

    def trust(seen: int) -> float:
        return -math.expm1(-seen / tau)

    forward_state = zeros()
    outputs = []
    for start in range(0, t_len, chunk):
        end = min(start + chunk, t_len)
        first = max(0, start - left)
        clip = frames[first : min(t_len, end + right_context)]
        n = clip.shape[0]

        flows: dict[int, dict[str, Any]] = {}  # each frame's, for both directions

        def feed(t: int, state: list[Any], clip: Tensor = clip, n: int = n,
                 flows: dict[int, dict[str, Any]] = flows) -> dict[str, Any]:
            window = clip[[max(t - 1, 0), t, min(t + 1, n - 1)]][None]
            inputs = {"window": window.numpy(), **dict(zip(names, state))}
            if flow is not None:
                if t not in flows:
                    flows[t] = _flows_to_neighbours(flow, clip, t)
                inputs.update(flows[t])
            return inputs

        state, backward_outputs = zeros(), {}
        for t in range(n - 1, start - first - 1, -1):
            backward_outputs[t], *state = backward.run(None, feed(t, state))
        for t in range(start - first, end - first):
            seen_forward, seen_backward = first + t + 1, n - t
            weight = 0.5 if tau == 0 else trust(seen_forward) / (trust(seen_forward) + trust(seen_backward))
            inputs = feed(t, forward_state)
            inputs.update(backward_output=backward_outputs[t],
                          forward_weight=torch.tensor([weight], dtype=torch.float32).numpy())
            out, *forward_state = forward.run(None, inputs)
            outputs.append(torch.from_numpy(out[0]))
    return torch.stack(outputs)
