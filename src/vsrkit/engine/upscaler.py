"""The one video upscaler: device, precision, spatial tiling, temporal chunking and streaming I/O.

Temporal handling follows the model's ``kind`` (:mod:`vsrkit.models.base`):

* ``recurrent`` / ``sliding-window`` (:class:`StreamingVSRModel`): frame by frame through ``step``,
  with a look-ahead of ``radius`` frames and boundary frames replicated exactly as ``model(clip)``
  does, so streaming and whole-clip output are the same computation. Memory is flat in the length.
* ``bidirectional``: overlapping temporal chunks. Each chunk of ``chunk`` frames is run with
  ``warmup`` context frames on each side (default ``model.chunk_warmup``) and only its core outputs
  are kept; a model whose temporal receptive field fits in the warm-up gives exactly its whole-clip
  output. Models with ``carries_chunk_state`` (the bidirectional RLSP) hand their forward state on
  to the next chunk instead, which needs only ``chunk_left_context`` frames on the left: their
  forward direction is exactly a whole-clip run and only the backward one warms up.
  ``temporal_scale`` output frames come out per input frame.

Spatial tiling cuts each LR frame into ``tile``-pixel cores padded by ``tile_overlap`` context pixels;
tile outputs are cross-faded with linear ramps over the overlap (weights sum to one everywhere), and a
recurrent model carries one state per tile. Y-only models get their chroma by bicubic upsampling of
the LR Cb/Cr (BT.601, the convention of the Y output), as their papers do.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import __version__
from ..color import LUMA_TO_RGB_GAIN, bt601_to_video_matrix, chroma_to_rgb, rgb_to_ycbcr, ycbcr_to_yuv420
from ..errors import InputError, VsrkitError
from ..io.frames import IMAGE_SUFFIXES, image_bit_depth, iter_sequence, list_frames, remove_stale
from ..io.pipeline import BackgroundWriter
from ..io.resume import (
    ResumeFolder,
    SegmentedFrameOutput,
    SegmentedVideoOutput,
    gather_frames,
    join_segments,
)
from ..io.video import PICTURE_ONLY_SUFFIXES, VideoInput, VideoOutput, default_codec, is_video_path, not_kept
from ..layers.resize import imresize
from ..models import create_model, list_models
from ..models.base import StreamingVSRModel, VSRModel
from .device import PRECISION_DTYPES, resolve_device, slow_precision_warning
from .scene_cuts import split_shots
from .self_ensemble import check_views, with_self_ensemble

Precision = Literal["auto", "fp32", "bf16", "fp16"]

# Y-PSNR cost of bf16 (autocast) against fp32 on Vid4 (dB, fp32 minus bf16), per architecture.
# Reproduce with `python benchmarks/upscale_speed.py --quality`: official RLSP 7-64 weights, BD x4
# ("gauss1.5") LR, RLSP protocol; fp32 26.841 dB, bf16 26.836 dB (2026-11-22). `auto` picks bf16
# only where the cost is at most BF16_MAX_COST_DB; unmeasured architectures stay fp32.
# rlsp-bi: the shipped `default`, `--quality --model default --degradation bi`: 7-48 cells, fp32 and
# bf16 both 25.562 dB (bf16 0.0002 dB higher); 10-64 cells, fp32 and bf16 both 25.730 dB (cost
# 0.0004 dB), 2026-12-02.
BF16_COST_DB: dict[str, float] = {"rlsp": 0.005, "rlsp-bi": 0.0004}
BF16_MAX_COST_DB = 0.02
MIN_INPUT_SIZE = 8
DEFAULT_CHUNK = 16
# The output is written in segments of about this much work each (see vsrkit.io.resume): what an
# interruption can lose, against a keyframe per segment (`default` makes about 84 frames a minute on 2 AVX2 cores;
# with 75-frame segments the output was 2.6 % larger than in one piece: `python benchmarks/resume_join.py --model
# default-fast --frames 600 --segment-seconds 12`).
CHECKPOINT_SECONDS = 60.0
# Input frames a resumed run feeds the model before the first one it writes (bidirectional models: from the chunk
# boundary at or before that), so that recurrent state and chunk context are built up again. Measured with
# `python benchmarks/resume_quality.py` (bedroom, 64x64 LR, resumed after 64 of 72 and 32 of 64 frames): 16 frames
# put the resumed frames within 0.0004 dB of an uninterrupted run, largest difference 1/255, for `default` and
# `default-causal`; with none, down to -0.027 and -0.090 dB, up to 13/255 and 32/255.
RESUME_WARMUP = 16


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during :meth:`Upscaler.upscale`; ``kept`` is the folder with the finished segments
    (None when nothing was kept), ``frames_done`` the input frames they hold."""

    def __init__(self, output: Path, kept: Path | None, frames_done: int, total: int | None) -> None:
        self.output, self.kept, self.frames_done, self.total = output, kept, frames_done, total
        super().__init__(self.message())

    def message(self) -> str:
        if self.kept is None:
            return f"{self.output}: interrupted; nothing written"
        of = f" of {self.total}" if self.total else ""
        return (f"{self.output}: interrupted; {self.frames_done}{of} input frames are kept in {self.kept}: run the "
                "same command again to continue from there (--no-resume starts over)")


def default_model_name() -> str:
    """The project's trained default model once it is registered, bicubic until then."""
    return "default" if "default" in list_models() else "bicubic"


def cpu_has_native_bf16() -> bool:
    """AMX-BF16 or AVX512-BF16 (Linux /proc/cpuinfo flags); elsewhere assume no."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"amx_bf16", "avx512_bf16"})
    except OSError:
        pass
    return False


def choose_precision(model: VSRModel, device: torch.device, precision: str) -> torch.dtype:
    if precision not in (*PRECISION_DTYPES, "auto"):
        raise VsrkitError(f"unknown precision {precision!r} (auto, fp32, bf16, fp16)")
    if precision != "auto":
        return PRECISION_DTYPES[precision]
    if not any(True for _ in model.parameters()):
        return torch.float32
    cost = BF16_COST_DB.get(model.arch)
    cheap = cost is not None and cost <= BF16_MAX_COST_DB
    if device.type == "cpu":
        return torch.bfloat16 if cheap and cpu_has_native_bf16() else torch.float32
    return torch.float32


@dataclass(frozen=True)
class _Tile:
    # LR crop (core plus overlap) and, for multi-tile layouts, the HR blend weight of that crop as
    # its two 1-D factors: the tiles form a grid, so the weights and their sum are separable. Storing
    # 2-D weights for every tile had a tiled 960x544 -> 4K run peak at 1093 MB instead of 1044 MB.
    y0: int
    y1: int
    x0: int
    x1: int
    weight_y: Tensor | None = None
    weight_x: Tensor | None = None

    @property
    def weight(self) -> Tensor | None:
        """The 2-D HR blend weight ``(1, 1, h, w)``."""
        if self.weight_y is None or self.weight_x is None:
            return None
        return (self.weight_y[:, None] * self.weight_x[None, :])[None, None]


def _spans(n: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    if tile <= 0 or tile >= n:
        return [(0, n)]
    cores = [[s, min(s + tile, n)] for s in range(0, n, tile)]
    # A sliver of a last tile is merged into its neighbour: it would see almost no context.
    if len(cores) > 1 and cores[-1][1] - cores[-1][0] < max(overlap, 8):
        cores[-2][1] = cores.pop()[1]
    return [(a, b) for a, b in cores]


def _ramp(n: int, core: tuple[int, int], ext: tuple[int, int], overlap: int, scale: int) -> Tensor:
    """Blend weight along one axis of a tile, on the HR grid.

    A linear cross-fade of width ``overlap`` centred on each interior core edge; neighbouring ramps
    sum to one. The outer half of the padding gets weight zero: pixels within ``overlap / 2`` of a
    crop edge are the ones disturbed by the missing context (zero padding), and they are never used.
    """
    length = (ext[1] - ext[0]) * scale
    pos = (torch.arange(length, dtype=torch.float64) + 0.5) / scale + ext[0]
    w = torch.ones(length, dtype=torch.float64)
    if overlap > 0:
        half = overlap / 2
        if core[0] > 0:
            w = torch.minimum(w, ((pos - (core[0] - half)) / overlap).clamp(0, 1))
        if core[1] < n:
            w = torch.minimum(w, (((core[1] + half) - pos) / overlap).clamp(0, 1))
    return w


def make_tiles(height: int, width: int, tile: int, overlap: int, scale: int, device: torch.device) -> list[_Tile]:
    ys, xs = _spans(height, tile, overlap), _spans(width, tile, overlap)
    if len(ys) == 1 and len(xs) == 1:
        return [_Tile(0, height, 0, width)]
    def axis(n: int, spans: list[tuple[int, int]]) -> list[tuple[tuple[int, int], Tensor]]:
        """Per span: its extent with overlap and its ramp divided by the sum of all ramps."""
        ramps, total = [], torch.zeros(n * scale, dtype=torch.float64)
        for core in spans:
            ext = (max(0, core[0] - overlap), min(n, core[1] + overlap))
            ramp = _ramp(n, core, ext, overlap, scale)
            total[ext[0] * scale : ext[1] * scale] += ramp
            ramps.append((ext, ramp))
        return [(e, (r / total[e[0] * scale : e[1] * scale]).to(device, torch.float32)) for e, r in ramps]

    return [
        _Tile(ey[0], ey[1], ex[0], ex[1], wy, wx)
        for ey, wy in axis(height, ys)
        for ex, wx in axis(width, xs)
    ]


@dataclass
class UpscaleSummary:
    input: Path
    output: Path
    frames_in: int
    frames_out: int
    size_in: tuple[int, int]
    size_out: tuple[int, int]
    seconds: float
    model: str
    precision: str
    device: str
    copied_streams: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # Input frames an interrupted earlier run had done (this run resumed after them).
    frames_resumed: int = 0
    # Input properties the output could not keep (one line each; the CLI prints them even with -q).
    warnings: tuple[str, ...] = ()

    @property
    def fps(self) -> float:
        """Input frames per second of this run."""
        done = self.frames_in - self.frames_resumed
        return done / self.seconds if self.seconds > 0 else float("inf")

    def line(self) -> str:
        (hi, wi), (ho, wo) = self.size_in, self.size_out
        copied = f", copied {', '.join(self.copied_streams)}" if self.copied_streams else ""
        notes = "".join(f"; {n}" for n in self.notes)
        return (
            f"wrote {self.output}: {self.frames_out} frames {wi}x{hi} -> {wo}x{ho} in {self.seconds:.1f} s "
            f"({self.fps:.1f} frames/s), model {self.model} ({self.precision}, {self.device}){copied}{notes}"
        )


class Upscaler:
    """Runs a VSR model over frame streams, clips, video files and frame folders.

    Args:
        model: a model instance or a registered name (``None``: :func:`default_model_name`).
        weights: weights file for a model given by name.
        device: ``auto`` (an available accelerator, else CPU) or a torch device string.
        precision: ``auto`` (bf16 on CPUs with native bf16 where its measured cost is negligible,
            see :data:`BF16_COST_DB`; else fp32), ``fp32``, ``bf16`` or ``fp16``.
        tile: LR tile core size in pixels (0: no tiling); ``tile_overlap`` context pixels per side.
            The default 32 was measured on Vid4 with official RLSP 7-64 weights, 64-px tiles
            (``python benchmarks/upscale_memory.py --quality``): mean Y-PSNR identical to untiled
            (26.841 dB), largest pixel difference 2.4/255; with 16 it was -0.0002 dB but up to 23/255.
        chunk: input frames per temporal chunk for bidirectional models; ``warmup`` context frames
            per side (default: the model's ``chunk_warmup``).
        self_ensemble: average the model over 1, 2, 4 or 8 flipped/transposed views of the input
            (:mod:`vsrkit.engine.self_ensemble`); costs that many times the model's time.
        scene_cuts: run each shot as a clip of its own (:mod:`vsrkit.engine.scene_cuts`), so that no state or
            chunk context crosses a cut.
    """

    def __init__(
        self,
        model: VSRModel | str | None = None,
        *,
        weights: str | Path | None = None,
        device: str | torch.device = "auto",
        precision: Precision | str = "auto",
        tile: int = 0,
        tile_overlap: int = 32,
        chunk: int = DEFAULT_CHUNK,
        warmup: int | None = None,
        self_ensemble: int = 1,
        scene_cuts: bool = True,
    ) -> None:
        if tile < 0 or tile_overlap < 0:
            raise VsrkitError(f"--tile and --tile-overlap must be >= 0, got {tile} and {tile_overlap}")
        if chunk < 1:
            raise VsrkitError(f"--chunk must be >= 1, got {chunk}")
        check_views(self_ensemble)
        self.device = device if isinstance(device, torch.device) else resolve_device(device)
        if model is None or isinstance(model, str):
            name = model or default_model_name()
            model = create_model(name, weights=weights)
        self.model = model.eval().to(self.device)
        self.dtype = choose_precision(self.model, self.device, str(precision))
        self.precision_warning = slow_precision_warning(self.device, self.dtype, "--precision auto or fp32")
        # Low-precision weights on a copy: the caller's model stays usable at any precision.
        self.cast_weights = self.dtype != torch.float32 and model.low_precision_weights
        if self.cast_weights:
            self.model = copy.deepcopy(self.model).to(self.dtype)
        self.model = with_self_ensemble(self.model, self_ensemble)
        self.self_ensemble = self_ensemble
        self.scene_cuts = scene_cuts
        self.shots = 0  # in the last stream
        self.name = getattr(self.model, "preset_name", model.arch)
        if self.device.type == "cpu":
            # oneDNN convolutions are faster on NHWC: one 48->48 conv at 180x144 ran 1.5x faster
            # in fp32 here (and bf16 needs NHWC for its fast kernels). Moves the given model in place.
            self.model.to(memory_format=torch.channels_last)
        self.tile, self.tile_overlap = tile, tile_overlap
        self.chunk = chunk
        self.warmup = model.chunk_warmup if warmup is None else warmup
        if self.warmup < 0:
            raise VsrkitError(f"warm-up must be >= 0, got {self.warmup}")
        self.scale = int(model.scale)
        self._tiles: list[_Tile] | None = None
        self._tiles_for: tuple[int, int] | None = None

    @property
    def precision(self) -> str:
        return {v: k for k, v in PRECISION_DTYPES.items()}[self.dtype]

    # ------------------------------------------------------------------ model calls
    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.dtype == torch.float32 or self.cast_weights:
            return contextlib.nullcontext()
        # Autocast rather than casting the weights: convolutions run in low precision while
        # additions such as RLSP's LR-luma skip stay fp32 (bf16 keeps 8 significant bits, too few
        # for 0-255 values).
        return torch.autocast(self.device.type, dtype=self.dtype)

    def _pad(self, x: Tensor) -> tuple[Tensor, int, int]:
        m = self.model.size_multiple
        h, w = x.shape[-2:]
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            lead = x.shape[:-3]
            x = F.pad(x.reshape(-1, *x.shape[-3:]), (0, pw, 0, ph), mode="replicate")
            x = x.reshape(*lead, *x.shape[-3:])
        return x, h, w

    def _step(self, window: Tensor, state: Any) -> tuple[Tensor, Any]:
        model = self.model
        assert isinstance(model, StreamingVSRModel)
        window, h, w = self._pad(window)
        if state is None:
            state = model.initial_state(window[:, model.radius])
        with self._autocast():
            out, state = model.step(window, state)
        return out[..., : h * self.scale, : w * self.scale].float(), state

    def _clip(self, clip: Tensor) -> Tensor:
        clip, h, w = self._pad(clip)
        with self._autocast():
            out = self.model(clip)
        return out[..., : h * self.scale, : w * self.scale].float()

    def _chunk(self, clip: Tensor, carry: Any, first: int, stop: int) -> tuple[Tensor, Any]:
        clip, h, w = self._pad(clip)
        with self._autocast():
            out, carry = self.model.run_chunk(clip, carry, first, stop)
        return out[..., : h * self.scale, : w * self.scale].float(), carry

    def _tiles_of(self, h: int, w: int) -> list[_Tile]:
        if self._tiles_for != (h, w):
            self._tiles = make_tiles(h, w, self.tile, self.tile_overlap, self.scale, self.device)
            self._tiles_for = (h, w)
        assert self._tiles is not None
        return self._tiles

    def _tiled(self, x: Tensor, run: Callable[[int, Tensor], Tensor]) -> Tensor:
        """Apply ``run(tile_index, crop)`` to every tile of ``x`` (..., H, W) and blend the outputs."""
        h, w = x.shape[-2:]
        tiles = self._tiles_of(h, w)
        if len(tiles) == 1:
            return run(0, x)
        s = self.scale
        canvas: Tensor | None = None
        for i, t in enumerate(tiles):
            out = run(i, x[..., t.y0 : t.y1, t.x0 : t.x1])
            if canvas is None:
                canvas = out.new_zeros(*out.shape[:-2], h * s, w * s)
            assert t.weight_y is not None and t.weight_x is not None
            canvas[..., t.y0 * s : t.y1 * s, t.x0 * s : t.x1 * s] += out * t.weight_y[:, None] * t.weight_x
        assert canvas is not None
        return canvas

    def _compose(self, out: Tensor, lr: Tensor) -> Tensor:
        """RGB ``(N, 3, sH, sW)`` from model output ``(N, C, sH, sW)`` and the LR frames ``(N, 3, H, W)``."""
        if out.shape[-3] == 3:
            return out.clamp_(0, 1)
        chroma = imresize(chroma_to_rgb(lr), size=tuple(out.shape[-2:]))
        return chroma.add_((out - 16.0 / 255.0) * LUMA_TO_RGB_GAIN).clamp_(0, 1)

    def _yuv420(
        self, y: Tensor, lr: Tensor, luma_from_chroma: Tensor | None, chroma_mix: Tensor, *, full_range: bool
    ) -> list[Tensor]:
        """``yuv420p`` buffers from BT.601 luma ``(N, 1, sH, sW)`` and the LR frames ``(N, 3, H, W)``.

        The change to the video's matrix is linear (:func:`bt601_to_video_matrix`): its row 0 is
        ``(1, a, b)``, so the target luma is the model's plus ``luma_from_chroma = (a, b)`` applied to
        the chroma (None for BT.601, where it is zero), and the target chroma is ``chroma_mix`` applied
        to the BT.601 chroma (luma enters no matrix's chroma). Chroma terms are resampled at LR size,
        so nothing three-channel is computed at output size.
        """
        hr = tuple(y.shape[-2:])
        chroma = rgb_to_ycbcr(lr)[:, 1:] - 128.0 / 255.0
        if luma_from_chroma is not None:
            y = y + imresize(torch.einsum("c,nchw->nhw", luma_from_chroma, chroma)[:, None], size=hr)
        cbcr = torch.einsum("dc,nchw->ndhw", chroma_mix, imresize(chroma, size=(hr[0] // 2, hr[1] // 2)))
        return [ycbcr_to_yuv420(y[j], cbcr[j] + 128.0 / 255.0, full_range=full_range) for j in range(len(y))]

    # ------------------------------------------------------------------ streams
    @torch.inference_mode()
    def stream(self, frames: Iterable[Tensor], *, size: tuple[int, int] | None = None) -> Iterator[Tensor]:
        """Upscale LR frames ``(3, H, W)`` in [0, 1]; yields ``(temporal_scale, 3, sH, sW)`` per input frame,
        or ``(temporal_scale, 3, *size)`` with an output ``size`` ``(height, width)`` (see :meth:`upscale`).

        Frames are pulled lazily: at most ``2 * radius + 1`` (streaming models) or
        ``chunk + 2 * warmup`` (bidirectional models) LR frames are held at a time, and with scene cuts
        :data:`~vsrkit.engine.scene_cuts.NEIGHBOURS` more (the cut test looks ahead).
        """
        for _, out, lr in self._outputs(frames):
            if size is not None and tuple(out.shape[-2:]) != tuple(size):
                out = imresize(out, size=tuple(size))
            yield self._compose(out, lr)

    @torch.inference_mode()
    def _outputs(self, frames: Iterable[Tensor], *, first: int = 0) -> Iterator[tuple[int, Tensor, Tensor]]:
        """Model outputs ``(temporal_scale, C, sH, sW)`` with the index and LR frames ``(temporal_scale, 3, H, W)``
        of their input frame.

        With ``first``, the model starts there instead of at frame 0 (a resumed run's warm-up), or for chunked
        models at the start of the chunk holding it on the chunk grid of its shot: the frames before are read
        only to find the shots, so the shots and chunks are those of a run from the start.
        """
        self._tiles_for = None
        source = (f.to(self.device, torch.float32) for f in frames)
        streaming = isinstance(self.model, StreamingVSRModel)
        index = 0
        self.shots = 0
        for shot in split_shots(source) if self.scene_cuts else iter([source]):
            self.shots += 1
            if index < first:
                begin = first if streaming else index + (first - index) // self.chunk * self.chunk
                passed = sum(1 for _ in itertools.islice(shot, begin - index))
                index += passed
                if index < begin:
                    continue  # the shot ended before the model starts
            for out, lr in self._stream_steps(shot) if streaming else self._stream_chunks(shot):
                yield index, out, lr
                index += 1

    def _stream_steps(self, source: Iterator[Tensor]) -> Iterator[tuple[Tensor, Tensor]]:
        r = self.model.radius  # type: ignore[attr-defined]
        buf: dict[int, Tensor] = {}
        n: int | None = None  # total frames, once the source is exhausted
        states: dict[int, Any] = {}
        read = 0
        t = 0

        def fill(upto: int) -> None:
            nonlocal read, n
            while n is None and read <= upto:
                frame = next(source, None)
                if frame is None:
                    n = read
                    return
                buf[read] = frame
                read += 1

        while True:
            fill(t + r)
            if n is not None and t >= n:
                return
            last = (n if n is not None else read) - 1
            window = torch.stack([buf[min(max(i, 0), last)] for i in range(t - r, t + r + 1)])[None]

            def run(i: int, crop: Tensor) -> Tensor:
                out, states[i] = self._step(crop, states.get(i))
                return out

            out = self._tiled(window, run)
            yield out, window[:, r]
            buf.pop(t - r, None)
            t += 1

    def _stream_chunks(self, source: Iterator[Tensor]) -> Iterator[tuple[Tensor, Tensor]]:
        k = int(self.model.temporal_scale)
        # Models that carry their forward state from chunk to chunk need only a short look-back on
        # the left (and their forward direction is then exactly a whole-clip run).
        carrying = self.model.carries_chunk_state
        left = self.model.chunk_left_context if carrying else self.warmup
        carries: dict[int, Any] = {}
        buf: dict[int, Tensor] = {}
        n: int | None = None
        read = 0
        start = 0
        while True:
            want = start + self.chunk + self.warmup
            while n is None and read < want:
                frame = next(source, None)
                if frame is None:
                    n = read
                    break
                buf[read] = frame
                read += 1
            if n is not None and start >= n:
                return
            end = min(start + self.chunk, read)
            a, b = max(0, start - left), min(read, want)
            clip = torch.stack([buf[i] for i in range(a, b)])[None]
            if carrying:

                def run(i: int, crop: Tensor, first: int = start - a, stop: int = end - a) -> Tensor:
                    out, carries[i] = self._chunk(crop, carries.get(i), first, stop)
                    return out

                out = self._tiled(clip, run)[0]
                first_out = start
            else:
                out = self._tiled(clip, lambda _i, crop: self._clip(crop))[0]
                first_out = a
            for t in range(start, end):
                frames = out[(t - first_out) * k : (t - first_out + 1) * k]
                yield frames, buf[t][None].expand(k, -1, -1, -1)
            for i in range(a, end - left):
                buf.pop(i, None)
            start = end

    def upscale_clip(self, lr: Tensor) -> Tensor:
        """``(T, 3, H, W)`` LR clip -> ``(T * temporal_scale, 3, sH, sW)`` RGB, through :meth:`stream`."""
        if lr.ndim != 4 or lr.shape[1] != 3:
            raise ValueError(f"expected (T, 3, H, W), got {tuple(lr.shape)}")
        return torch.cat(list(self.stream(lr.unbind(0))))

    # ------------------------------------------------------------------ files
    def _resume_settings(self, src: Path, frame_files: list[Path] | None, **options: Any) -> dict[str, Any]:
        """What decides the output's pictures and encoding: a run resumes only a kept run with the same.
        ``frame_files``: the input folder's frames (None for a video file)."""
        digest = hashlib.sha256()
        for name, tensor in sorted(self.model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
        digest.update(json.dumps(getattr(self.model, "hparams", None), sort_keys=True, default=str).encode())
        if frame_files is not None:
            stats = [f.stat() for f in frame_files]
            stamp = [len(stats), sum(s.st_size for s in stats), max(s.st_mtime_ns for s in stats)]
        else:
            stat = src.stat()
            stamp = [stat.st_size, stat.st_mtime_ns]
        return {
            "input": str(src.resolve()), "input_stamp": stamp, "model": self.name, "model_digest": digest.hexdigest(),
            "precision": self.precision, "device": self.device.type, "tile": [self.tile, self.tile_overlap],
            "chunk": [self.chunk, self.warmup], "self_ensemble": self.self_ensemble, "scene_cuts": self.scene_cuts,
            "vsrkit": __version__,
            **options,
        }

    def upscale(
        self,
        input: str | Path,
        output: str | Path,
        *,
        codec: str | None = None,
        crf: int | None = None,
        preset: str | None = None,
        fps: float = 25.0,
        progress: bool | None = None,
        scale: float | None = None,
        size: tuple[int, int] | None = None,
        deinterlace: bool | None = None,
        start: float = 0.0,
        duration: float | None = None,
        resume: bool = True,
        checkpoint_seconds: float = CHECKPOINT_SECONDS,
        leave_out: Collection[str] = (),
    ) -> UpscaleSummary:
        """Upscale a video file or frame folder into a video file or frame folder.

        Output goes to a hidden temporary name next to ``output`` and is renamed at the end, so an
        interruption or error leaves nothing at ``output``; what a SIGKILL leaves at that name is
        deleted by the next run over the same ``output``. ``fps`` is used for frame-folder input.
        Rotation, tags, timecode, data streams and attachments the output container cannot hold
        are listed in the summary's ``warnings``. ``scale`` (a multiple of the input size) or ``size``
        (``(width, height)`` as displayed, rotation applied; see :func:`output_size`) set another output size
        than the model's: its output is
        resized (MATLAB bicubic, antialiased when shrinking) before the chroma is added and the frame encoded.
        Interlaced video is deinterlaced first (FFmpeg's bwdif, one frame per frame) unless ``deinterlace`` is
        False; None decides from the stream's field order. ``start`` and ``duration`` (seconds; video input)
        upscale that part only, as a file of its own that starts at 0 (a preview before a long run).

        The output is written in segments of about ``checkpoint_seconds`` of work (encoded video, or PNG frames),
        kept in a hidden folder beside ``output`` (:mod:`vsrkit.io.resume`) and joined at the end. Interrupted
        (Ctrl-C, SIGTERM; raises :class:`Interrupted`) or stopped by a write error, a run keeps the finished
        segments, and the next run over the same ``output`` with the same settings continues after them
        (``resume``; False starts over), feeding the model :data:`RESUME_WARMUP` frames before the first it writes.
        ``leave_out`` (``"audio"``, ``"subtitle"``): stream kinds not to copy; they join the segments only at the
        end, so a resumed run may choose differently.
        """
        src, dst = Path(input), Path(output)
        out_is_video = _check_paths(src, dst)
        pictures_only = dst.suffix.lower() in PICTURE_ONLY_SUFFIXES
        if pictures_only:
            leave_out = {*leave_out, "audio", "subtitle"}
        if start < 0 or (duration is not None and duration <= 0):
            raise VsrkitError(f"--start must be >= 0 and --duration > 0, got {start} and {duration}")
        trimmed = start > 0 or duration is not None
        if trimmed and src.is_dir():
            raise InputError(src, "--start and --duration need a video file, not a frame folder")
        started = time.perf_counter()
        video_in: VideoInput | None = None
        join_in: VideoInput | None = None
        tmp: Path | None = None
        sink: BackgroundWriter | None = None
        folder: ResumeFolder | None = None
        total: int | None = None
        paths: list[Path] | None = None
        try:
            if src.is_dir():
                paths = list_frames(src)
                first = next(iter_sequence(src))[1]
                h, w = first.shape[-2:]
                total = len(paths)
                time_base, rate = Fraction(1, 1) / Fraction(fps).limit_denominator(1001), Fraction(fps).limit_denominator(1001)
                frames: Iterator[tuple[Tensor, int, int]] = (
                    (f, i, 1) for i, (_, f) in enumerate(iter_sequence(src))
                )
                info = None
                frame_bits = image_bit_depth(paths[0])
            else:
                video_in = VideoInput(src, leave_out=frozenset(leave_out))
                info = video_in.info
                h, w, total = info.height, info.width, info.frames
                if trimmed:
                    if info.duration is not None and start >= info.duration:
                        raise InputError(src, f"--start {start:g} s is past the end of the video ({info.duration:.2f} s)")
                    left = (info.duration - start) if info.duration is not None else None
                    spans = [x for x in (left, duration) if x is not None]
                    total = round(min(spans) * info.rate) if spans and info.rate else None
                    if info.chapters:
                        # Marks of the whole film would point past or before this part.
                        video_in.chapters = []
                        info = dataclasses.replace(info, chapters=0)
                time_base, rate = info.time_base, info.rate
                if deinterlace is None:
                    deinterlace = info.field_order is not None
                # Audio, subtitles and the rest are copied when the encoded segments are joined.
                frames = video_in.frames(deinterlace=deinterlace, start=start,
                                         end=start + duration if duration is not None else None)
                frame_bits = 16 if info.bit_depth > 8 else 8
            if h < MIN_INPUT_SIZE or w < MIN_INPUT_SIZE:
                raise InputError(src, f"frames are {w}x{h}; the minimum is {MIN_INPUT_SIZE}x{MIN_INPUT_SIZE}")
            k = int(self.model.temporal_scale)
            s = self.scale
            pixel_aspect = info.sample_aspect_ratio if info is not None and info.sample_aspect_ratio else Fraction(1)
            if size is not None and info is not None and info.rotation in (90, 270):
                # --size is what the viewer sees; frames stay in coded orientation, turned by the player.
                oh, ow = reversed(output_size(w, h, model_scale=s, size=size, pixel_aspect=1 / pixel_aspect))
            else:
                oh, ow = output_size(h, w, model_scale=s, scale=scale, size=size, pixel_aspect=pixel_aspect)
            # Pixels as wide as keeps the picture's displayed shape (the input's own at the model's scale).
            sar_out = pixel_aspect * Fraction(w, h) * Fraction(oh, ow)
            # Within 1 % of square (even-rounded sizes of a -1 side) is square: nobody sees that, players skip it.
            sar_out = sar_out.limit_denominator(65535) if abs(sar_out - 1) > Fraction(1, 100) else None
            resize = (oh, ow) if (oh, ow) != (h * s, w * s) else None
            # Hidden temporary name keeping the suffix, from which FFmpeg picks the container.
            tmp = dst.with_name(f".{dst.name}.vsrkit-part{dst.suffix if out_is_video else ''}")
            remove_stale(tmp)  # left by a killed run over the same output
            out_rate = (rate * k) if rate else None

            def video_output(path: Path, **kwargs: Any) -> VideoOutput:
                kwargs.setdefault("codec", codec)
                return VideoOutput(path, width=ow, height=oh, time_base=time_base / k, rate=out_rate, source=info,
                                   crf=crf, preset=preset, name=dst, sample_aspect_ratio=sar_out, **kwargs)

            encoding = {"codec": codec, "crf": crf, "preset": preset} if out_is_video else {"bits": frame_bits}
            kept_run = ResumeFolder(dst, self._resume_settings(
                src, paths, **encoding, size=(ow, oh), deinterlace=deinterlace, start=start, duration=duration, fps=fps))
            kept_run.open(resume=resume)  # raises, touching nothing, if it was made with other settings
            folder = kept_run
            if out_is_video:
                # The output's header now, not after the run: a stream its container refuses shows before any work.
                header = video_output(tmp, copy_from=video_in)
                header.abort()
                _remove(tmp)
                sink = BackgroundWriter(SegmentedVideoOutput(
                    # The encoder the output's name chose, not the one a segment's name would.
                    folder, lambda path, fmt: video_output(path, container_format=fmt, codec=header.codec_name),
                    seconds=checkpoint_seconds))
            else:
                sink = BackgroundWriter(SegmentedFrameOutput(folder, bits=frame_bits, seconds=checkpoint_seconds))
            done_before = folder.frames_in
            timing: deque[tuple[int, int, int]] = deque()

            def lr_frames() -> Iterator[Tensor]:
                for i, (frame, pts, dur) in enumerate(frames):
                    timing.append((i, pts, dur))
                    yield frame

            # Y-only model into 8-bit 4:2:0 video: planes straight from the model's luma and the LR
            # chroma, with no RGB frame at output size and no RGB-to-YUV conversion of it.
            matrix = sink.yuv420_matrix if self.model.output == "Y" else None
            if matrix is not None:
                to_video = bt601_to_video_matrix(*matrix).to(self.device, torch.float32)
                luma_from_chroma = to_video[0, 1:] if to_video[0, 1:].abs().max() > 1e-6 else None
            with _progress(progress, total, src.name, done=done_before) as advance, torch.inference_mode():
                # A resumed run: the model starts RESUME_WARMUP frames before the first it writes (on the uninterrupted
                # run's shots and chunk grid, so only the carried state can differ), the frames before are in the
                # kept segments.
                for index, out, lr in self._outputs(lr_frames(), first=max(0, done_before - RESUME_WARMUP)):
                    while timing[0][0] < index:
                        timing.popleft()
                    _, pts, dur = timing.popleft()
                    if index < done_before:
                        continue
                    if resize is not None:
                        out = imresize(out, size=resize)
                    if matrix is not None:
                        planes = self._yuv420(out, lr, luma_from_chroma, to_video[1:, 1:], full_range=sink.full_range)
                    else:
                        out = self._compose(out, lr)
                    for j in range(out.shape[0]):
                        if matrix is not None:
                            sink.write_yuv420(planes[j], pts * k + j * dur, dur)
                        else:
                            sink.write(out[j], pts * k + j * dur, dur)
                    sink.end_input_frame(index + 1)
                    advance()
            lost: list[str] = []
            encoder = sink.codec_name if out_is_video else None
            reencoded: list[tuple[str, str]] = []
            if video_in is not None:
                video_in.close()
            sink.close()
            sink = None
            if out_is_video:
                if video_in is not None:
                    join_in = VideoInput(src, leave_out=frozenset(leave_out))
                    join_in.chapters = video_in.chapters
                # A film's joint copies gigabytes (about 2,000 frames a second here): a bar, not a silent minute.
                with _progress(progress, folder.frames_out, f"joining {dst.name}") as advance:
                    final = join_segments(folder,
                                          lambda stream: video_output(tmp, copy_from=join_in, video_from=stream),
                                          join_in, start=start, end=start + duration if duration is not None else None,
                                          on_video_packet=advance)
                reencoded = list(final.reencoded)
                lost = [*final.lost, *not_kept(info, tmp, final.format_name, sample_aspect_ratio=sar_out)] if info is not None else []
                if join_in is not None:
                    join_in.close()
            else:
                tmp.mkdir()
                gather_frames(folder, tmp)
            if not out_is_video and dst.is_dir():
                dst.rmdir()  # checked empty up front
            tmp.replace(dst)
            tmp = None
            folder.discard()
        except BaseException as exc:
            if sink is not None:
                sink.abort()
            for opened in (video_in, join_in):
                if opened is not None:
                    opened.close()
            if tmp is not None:
                _remove(tmp)
            if folder is not None:
                # Finished segments survive anything but an input that cannot be read to its end (a later run
                # could not finish it either): Ctrl-C, a full disk, a bad option given to the next run, a crash.
                kept = bool(folder.segments) and not isinstance(exc, InputError)
                if kept:
                    folder.release()
                else:
                    folder.discard()
                if isinstance(exc, KeyboardInterrupt):
                    raise Interrupted(dst, folder.path if kept else None, folder.frames_in, total) from None
                where = f"{folder.frames_in} input frames are kept in {folder.path}: run again to continue"
                if kept and isinstance(exc, VsrkitError):
                    raise VsrkitError(f"{exc}; {where}") from None
                if kept and isinstance(exc, OSError):
                    raise VsrkitError(f"{dst}: writing failed ({exc.strerror or exc}); {where}") from exc
            raise
        seconds = time.perf_counter() - started
        notes = []
        if trimmed:
            notes.append(f"from {start:g} s" + (f" for {duration:g} s" if duration is not None else ""))
        if encoder is not None and codec is None and info is not None and encoder != default_codec(Path(dst.name), None):
            notes.append(f"encoded with {encoder} ({info.bit_depth}-bit input; --codec to choose)")
        if info is not None and info.field_order is not None and deinterlace:
            notes.append(f"deinterlaced ({info.field_order}, bwdif)")
        if video_in is not None and video_in.left_out:
            why = f"a {dst.suffix} holds pictures only" if pictures_only else "as asked"
            notes.append(f"left out ({why}): {', '.join(video_in.left_out)}")
        if info is not None and info.matrix_guessed:
            notes.append(f"input colour matrix untagged, assumed {info.matrix_name}")
        if info is not None and info.copy_streams and not out_is_video:
            notes.append(f"not written to a frame folder: {', '.join(info.copy_streams)}")
        warnings = [self.precision_warning] if self.precision_warning else []
        copied: tuple[str, ...] = ()
        if info is not None and out_is_video:
            kept = list(info.copy_streams)
            for key, what in reencoded:
                kept.remove(key)
                notes.append(what)
            copied = (*kept, *(d for d in info.extra_streams if not any(d in x for x in lost)))
            if lost:
                warnings.append(f"{dst}: dropped what the {dst.suffix} output cannot hold: {'; '.join(lost)}")
        elif info is not None:
            dropped = list(info.extra_streams)
            if info.chapters:
                dropped.insert(0, f"{info.chapters} chapters")
            if sar_out is not None:
                dropped.insert(0, f"pixel aspect ratio {sar_out.numerator}:{sar_out.denominator} (frames are stored "
                                  "with square pixels; --size WIDTHx-1 makes square-pixel frames of the right shape)")
            if info.timecode:
                dropped.insert(0, f"timecode {info.timecode}")
            if info.rotation:
                dropped.insert(0, f"rotation ({info.rotation} degrees)")
            if dropped:
                warnings.append(f"{dst}: not kept in a frame folder (frames are in coded orientation): "
                                f"{'; '.join(dropped)}")
        if info is not None and info.field_order is not None and not deinterlace:
            warnings.append(f"{src}: interlaced ({info.field_order}) but upscaled as progressive frames, which "
                            "magnifies combing (leave out --no-deinterlace)")
        if video_in is not None and video_in.retimed:
            warnings.append(f"{src}: {video_in.retimed} frame(s) had a timestamp not after the previous frame's; "
                            "each was moved one time-base tick later")
        if info is not None and info.ignored_streams:
            warnings.append(f"{src}: only the first video stream is upscaled; dropped {', '.join(info.ignored_streams)}")
        if self.shots > 1:
            notes.append(f"{self.shots - 1} scene cut(s): each shot upscaled as a clip of its own")
        if done_before:
            notes.append(f"resumed after input frame {done_before} (kept from an interrupted run)")
        return UpscaleSummary(
            input=src, output=dst, frames_in=folder.frames_in, frames_out=folder.frames_out,
            frames_resumed=done_before, size_in=(h, w),
            size_out=(oh, ow), seconds=seconds, model=self.name, precision=self.precision,
            device=str(self.device), copied_streams=copied, notes=tuple(notes), warnings=tuple(warnings),
        )


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def parse_time(text: str, option: str) -> float:
    """Seconds from ``"90"``, ``"1:30"`` or ``"0:01:30.5"``."""
    try:
        parts = [float(p) for p in text.split(":")]
        if not 1 <= len(parts) <= 3 or any(p < 0 for p in parts):
            raise ValueError
    except ValueError:
        raise VsrkitError(f"{option} must be seconds or [HH:]MM:SS[.frac], got {text!r}") from None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def parse_size(text: str) -> tuple[int, int]:
    """``"1920x1080"`` -> ``(1920, 1080)`` (width, height); one side may be -1 (keep the aspect ratio)."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise VsrkitError(f"--size must be WIDTHxHEIGHT such as 1920x1080 (one side may be -1), got {text!r}") from None
    if (width == -1 and height == -1) or min(width, height) < -1 or 0 in (width, height):
        raise VsrkitError(f"--size needs a positive width and height (one may be -1), got {text!r}")
    return width, height


def output_size(h: int, w: int, *, model_scale: int, scale: float | None = None,
                size: tuple[int, int] | None = None, pixel_aspect: Fraction = Fraction(1)) -> tuple[int, int]:
    """``(height, width)`` of the output for an ``h`` x ``w`` input whose pixels are ``pixel_aspect`` wide.

    ``scale`` multiplies the input size (rounded to even numbers, which 4:2:0 video needs); ``size`` is an exact
    ``(width, height)`` where a -1 side follows the displayed aspect ratio (so a 16:9 DVD, 720x480 with 32:27
    pixels, at ``(-1, 1080)`` gives 1920x1080; rounded to even). Neither: the model's scale.
    """
    if scale is not None and size is not None:
        raise VsrkitError("give --scale or --size, not both")
    if scale is not None:
        if not scale > 0:
            raise VsrkitError(f"--scale must be > 0, got {scale}")
        return max(2, 2 * round(h * scale / 2)), max(2, 2 * round(w * scale / 2))
    if size is not None:
        width, height = size
        display_aspect = w * pixel_aspect / h
        if width == -1:
            width = max(2, 2 * round(height * display_aspect / 2))
        if height == -1:
            height = max(2, 2 * round(width / display_aspect / 2))
        return height, width
    return h * model_scale, w * model_scale


def _check_paths(src: Path, dst: Path) -> bool:
    """Validate input/output paths before any work; returns True for a video output."""
    if not src.exists():
        raise InputError(src, "input does not exist")
    if src.is_file() and not is_video_path(src) and src.suffix.lower() in IMAGE_SUFFIXES:
        raise InputError(src, "a single image is not a video; pass the folder of frames")
    try:
        same = src.resolve() == dst.resolve() or (dst.exists() and os.path.samefile(src, dst))
    except OSError:
        same = False
    if same:
        raise InputError(dst, "output is the same as the input")
    if is_video_path(dst):
        if dst.is_dir():
            raise InputError(dst, "output is an existing folder but its name looks like a video file")
        out_is_video = True
    elif dst.is_dir() or dst.suffix == "":
        if dst.is_dir() and any(dst.iterdir()):
            raise InputError(dst, "output folder exists and is not empty")
        out_is_video = False
    else:
        raise InputError(dst, f"unknown output type {dst.suffix!r}: use a video suffix (.mp4, .mkv, ...) or a folder")
    parent = dst.absolute().parent
    if not parent.is_dir():
        raise InputError(dst, f"output folder {parent} does not exist")
    try:
        # Create a file rather than ask os.access: root passes access() on read-only mounts.
        tempfile.TemporaryFile(dir=parent).close()
    except OSError:
        raise InputError(dst, f"output folder {parent} is not writable") from None
    if src.is_dir() and dst.absolute().parent.resolve() == src.resolve():
        raise InputError(dst, "output must not be inside the input frame folder")
    return out_is_video


@contextlib.contextmanager
def _progress(enabled: bool | None, total: int | None, label: str, done: int = 0) -> Iterator[Callable[[], None]]:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[fps]} frames/s"),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    # ``done``: frames an earlier, interrupted run did; the rate counts this run's only.
    task = progress.add_task(label, total=total, completed=done, fps="-")
    start = time.perf_counter()
    this_run = 0

    def advance() -> None:
        nonlocal this_run
        this_run += 1
        elapsed = time.perf_counter() - start
        progress.update(task, advance=1, fps=f"{this_run / elapsed:.1f}" if elapsed > 0 else "-")

    with progress:
        yield advance
