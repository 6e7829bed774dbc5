"""Video files through PyAV: probing, streaming decode to RGB, encode with stream copy.

Decoding yields one RGB frame at a time with its presentation timestamp, so nothing holds the whole
video. Audio and subtitle packets met while demuxing are handed to a callback untouched, which the
writer muxes into the output unchanged (stream copy). Colour handling is explicit both ways: the
matrix (BT.601/709/...) and range (limited/full) of the input decide the YUV->RGB conversion, and the
output is converted back with the same matrix and range and tagged with them, so a player shows the
same colours (an untagged HD output of an SD input would otherwise be read as BT.709).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Self

import av
import av.error
import numpy as np
import torch
from av.video.reformatter import ColorRange, Colorspace, Interpolation
from torch import Tensor

from ..errors import InputError, VsrkitError

VIDEO_SUFFIXES = {
    ".mp4", ".m4v", ".mkv", ".mov", ".webm", ".avi", ".ts", ".mts", ".m2ts", ".flv", ".mpg", ".mpeg",
    ".ogv", ".3gp", ".wmv", ".y4m", ".nut",
}
# Encoder used when --codec is not given.
DEFAULT_CODECS = {".webm": "libvpx-vp9", ".ogv": "libtheora", ".avi": "mpeg4", ".flv": "flv", ".wmv": "wmv2"}
DEFAULT_CODEC = "libx264"

# AVColorSpace values (libavutil/pixfmt.h) -> swscale matrix.
_AVCOL_SPC_TO_SWS = {1: Colorspace.ITU709, 4: Colorspace.FCC, 5: Colorspace.ITU601, 6: Colorspace.ITU601,
                     7: Colorspace.SMPTE240M, 9: Colorspace.BT2020, 10: Colorspace.BT2020}
_SWS_TO_AVCOL_SPC = {Colorspace.ITU709: 1, Colorspace.FCC: 4, Colorspace.ITU601: 6, Colorspace.SMPTE240M: 7,
                     Colorspace.BT2020: 9}
_AVCOL_SPC_UNSPECIFIED = 2
_MATRIX_NAMES = {Colorspace.ITU709: "bt709", Colorspace.ITU601: "bt601", Colorspace.FCC: "fcc",
                 Colorspace.SMPTE240M: "smpte240m", Colorspace.BT2020: "bt2020"}
# Accurate rounding and full chroma interpolation: without them swscale's fast path shifts flat
# colours by a level or two.
_SWS_FLAGS = Interpolation.BICUBIC | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT


def is_video_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def guess_matrix(height: int) -> Colorspace:
    """The matrix players assume for untagged video: BT.709 from 720 lines up, else BT.601."""
    return Colorspace.ITU709 if height >= 720 else Colorspace.ITU601


@dataclass(frozen=True)
class VideoInfo:
    """What the upscaler needs to know about an input video."""

    path: Path
    width: int
    height: int
    # From the container header; None when it does not say (common for MKV/WebM).
    frames: int | None
    time_base: Fraction
    # Average frame rate (None if unknown); timestamps, not this, drive the output.
    rate: Fraction | None
    codec: str
    pix_fmt: str
    bit_depth: int
    matrix: Colorspace
    full_range: bool
    # Raw AVColorPrimaries / AVColorTransferCharacteristic, passed through to the output tags.
    color_primaries: int
    color_trc: int
    # Set when the file does not say which matrix it uses and we assumed one from its height.
    matrix_guessed: bool
    duration: float | None
    copy_streams: tuple[str, ...] = field(default_factory=tuple)

    @property
    def matrix_name(self) -> str:
        return _MATRIX_NAMES.get(self.matrix, str(int(self.matrix)))


def _av_error_text(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0] if text else exc.__class__.__name__


def _bit_depth(fmt: av.VideoFormat) -> int:
    return max((c.bits for c in fmt.components), default=8)


class VideoInput:
    """An open input video: ``info``, then :meth:`frames` streams RGB frames once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise InputError(self.path, "file does not exist")
        if not self.path.is_file():
            raise InputError(self.path, "not a file")
        try:
            self.container = av.open(str(self.path), mode="r")
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(self.path, f"not a readable video file ({_av_error_text(exc)})") from None
        try:
            self.info = self._probe()
        except BaseException:
            self.container.close()
            raise

    def _probe(self) -> VideoInfo:
        streams = self.container.streams
        if not streams.video:
            kinds = sorted({s.type for s in streams}) or ["none"]
            raise InputError(self.path, f"no video stream (streams: {', '.join(kinds)})")
        stream = streams.video[0]
        ctx = stream.codec_context
        if ctx.width <= 0 or ctx.height <= 0 or ctx.format is None:
            raise InputError(self.path, "video stream has no frame size or pixel format (corrupt or empty?)")
        if stream.frames == 0 and stream.duration in (None, 0) and self.container.duration in (None, 0):
            raise InputError(self.path, "video stream has zero frames")
        self.video = stream
        stream.thread_type = "AUTO"
        self.copy = [s for s in streams if s.type in ("audio", "subtitle")]
        spc = int(ctx.colorspace)
        matrix = _AVCOL_SPC_TO_SWS.get(spc)
        guessed = matrix is None
        if matrix is None:
            matrix = guess_matrix(ctx.height)
        full = int(ctx.color_range) == ColorRange.JPEG or ctx.format.name.startswith("yuvj")
        rate = stream.average_rate or stream.guessed_rate
        duration = float(self.container.duration) / 1e6 if self.container.duration else None
        return VideoInfo(
            path=self.path,
            width=ctx.width,
            height=ctx.height,
            frames=stream.frames or None,
            time_base=stream.time_base or Fraction(1, 1000),
            rate=Fraction(rate) if rate else None,
            codec=ctx.name,
            pix_fmt=ctx.format.name,
            bit_depth=_bit_depth(ctx.format),
            matrix=matrix,
            full_range=full,
            color_primaries=int(ctx.color_primaries),
            color_trc=int(ctx.color_trc),
            matrix_guessed=guessed,
            duration=duration,
            copy_streams=tuple(f"{s.type}:{s.codec_context.name if s.codec_context else '?'}" for s in self.copy),
        )

    def _to_rgb(self, frame: av.VideoFrame) -> Tensor:
        high = self.info.bit_depth > 8
        arr = frame.to_ndarray(
            format="rgb48le" if high else "rgb24",
            src_colorspace=self.info.matrix,
            src_color_range=ColorRange.JPEG if self.info.full_range else ColorRange.MPEG,
            interpolation=_SWS_FLAGS,
        )
        t = torch.from_numpy(arr.astype(np.int32) if high else arr)
        return t.permute(2, 0, 1).float().div_(65535.0 if high else 255.0)

    def frames(self, on_packet: Callable[[av.Packet], None] | None = None) -> Iterator[tuple[Tensor, int, int]]:
        """Yield ``(rgb (3, H, W) float32, pts, duration)`` in presentation order.

        ``pts`` and ``duration`` are in ``info.time_base`` units. Audio/subtitle packets go to
        ``on_packet`` as they are demuxed. A missing pts (some AVI/raw streams) continues from the
        previous frame; a missing duration is taken from the frame rate.
        """
        info = self.info
        default_dur = 1
        if info.rate:
            default_dur = max(1, round(1 / (info.rate * info.time_base)))
        count = 0
        last_pts: int | None = None
        pending: av.VideoFrame | None = None

        def emit(frame: av.VideoFrame, next_pts: int | None) -> tuple[Tensor, int, int]:
            nonlocal last_pts
            pts = frame.pts
            if pts is None:
                pts = 0 if last_pts is None else last_pts + default_dur
            if next_pts is not None and next_pts > pts:
                dur = next_pts - pts
            else:
                dur = frame.duration or default_dur
            last_pts = pts
            if frame.width != info.width or frame.height != info.height:
                raise InputError(
                    self.path, f"frame {count} is {frame.width}x{frame.height}, the stream is "
                    f"{info.width}x{info.height} (size changes mid-stream are not supported)"
                )
            return self._to_rgb(frame), pts, dur

        streams = [self.video, *self.copy]
        try:
            for packet in self.container.demux(streams):
                if packet.stream.index != self.video.index:
                    if on_packet is not None and packet.size > 0 and packet.dts is not None:
                        on_packet(packet)
                    continue
                for frame in packet.decode():
                    # Hold one frame back: its duration is the gap to the next pts (exact for VFR).
                    if pending is not None:
                        yield emit(pending, frame.pts)
                        count += 1
                    pending = frame
        except av.error.FFmpegError as exc:
            raise InputError(self.path, f"decoding failed after {count} frames ({_av_error_text(exc)})") from None
        if pending is not None:
            yield emit(pending, None)
            count += 1
        if count == 0:
            raise InputError(self.path, "video stream has zero decodable frames")
        if info.frames and count < info.frames:
            raise InputError(
                self.path, f"truncated or corrupt: the header lists {info.frames} frames, only {count} decode"
            )

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pick_pix_fmt(codec: av.Codec, source: VideoInfo | None, width: int, height: int) -> str:
    supported = [f.name for f in (codec.video_formats or [])]
    wanted = "yuv420p"
    if source is not None:
        wanted = source.pix_fmt.replace("yuvj", "yuv")
        if wanted not in supported and source.bit_depth > 8:
            wanted = "yuv420p10le"
    if supported and wanted not in supported:
        high = [f for f in supported if f.startswith("yuv420p1")] if source and source.bit_depth > 8 else []
        wanted = high[0] if high else ("yuv420p" if "yuv420p" in supported else supported[0])
    return wanted


class VideoOutput:
    """Encode RGB frames at given timestamps and copy other streams' packets into a new file."""

    def __init__(
        self,
        path: str | Path,
        *,
        width: int,
        height: int,
        time_base: Fraction,
        rate: Fraction | None,
        source: VideoInfo | None = None,
        copy_from: VideoInput | None = None,
        codec: str | None = None,
        crf: int | None = None,
        container_format: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.source = source
        codec_name = codec or DEFAULT_CODECS.get(self.path.suffix.lower(), DEFAULT_CODEC)
        try:
            codec_obj = av.Codec(codec_name, "w")
        except (av.error.FFmpegError, ValueError):
            raise VsrkitError(f"unknown or unavailable video encoder {codec_name!r} (--codec)") from None
        if codec_obj.type != "video":
            raise VsrkitError(f"--codec {codec_name!r} is not a video encoder")
        self.pix_fmt = _pick_pix_fmt(codec_obj, source, width, height)
        fmt = av.VideoFormat(self.pix_fmt)
        subsampled = any(c.width < fmt.width or c.height < fmt.height for c in fmt.components)
        if subsampled and (width % 2 or height % 2):
            raise VsrkitError(f"{self.path}: output size {width}x{height} is odd; {self.pix_fmt} needs even sizes")
        self.bits = _bit_depth(fmt)
        if source is not None:
            self.matrix, self.full_range = source.matrix, source.full_range
        else:
            self.matrix, self.full_range = Colorspace.ITU709, False
        self.time_base = time_base
        try:
            self.container = av.open(str(self.path), mode="w", format=container_format)
        except (av.error.FFmpegError, ValueError) as exc:
            raise InputError(self.path, f"cannot create output ({_av_error_text(exc)})") from None
        try:
            stream = self.container.add_stream(codec_name, rate=rate or Fraction(25))
            stream.width, stream.height, stream.pix_fmt = width, height, self.pix_fmt
            stream.time_base = time_base
            ctx = stream.codec_context
            ctx.time_base = time_base
            ctx.colorspace = _SWS_TO_AVCOL_SPC.get(self.matrix, _AVCOL_SPC_UNSPECIFIED)
            ctx.color_range = ColorRange.JPEG if self.full_range else ColorRange.MPEG
            if source is not None:
                ctx.color_primaries = source.color_primaries
                ctx.color_trc = source.color_trc
            options: dict[str, str] = {}
            if crf is not None:
                options["crf"] = str(crf)
            if codec_name in ("libx264", "libx265"):
                options.setdefault("crf", "18")
                options["preset"] = "veryfast"
            if codec_name == "libvpx-vp9":
                options.setdefault("crf", "30")
                options["b"] = "0"
            stream.options = options
            stream.thread_type = "AUTO"
            self.stream = stream
            self._copy_map: dict[int, Any] = {}
            for s in copy_from.copy if copy_from is not None else []:
                self._copy_map[s.index] = self.container.add_stream_from_template(s)
        except BaseException:
            self.container.close()
            raise
        self.frames = 0
        self._durations: dict[int, int] = {}

    def _encode(self, frame: av.VideoFrame | None) -> None:
        try:
            for packet in self.stream.encode(frame):
                # Encoders with a delay (x264) drop frame durations; without them the muxer
                # guesses the last frame's length and the output's duration drifts.
                duration = self._durations.pop(packet.pts, None)
                if duration and not packet.duration and packet.time_base == self.time_base:
                    packet.duration = duration
                self.container.mux(packet)
        except av.error.FFmpegError as exc:
            raise VsrkitError(f"{self.path}: encoding failed ({_av_error_text(exc)})") from None

    def write(self, rgb: Tensor, pts: int, duration: int | None = None) -> None:
        """Encode one ``(3, H, W)`` float frame in [0, 1] at ``pts`` (``time_base`` units)."""
        high = self.bits > 8
        peak = 65535.0 if high else 255.0
        arr = rgb.detach().float().clamp(0, 1).mul(peak).round_()
        arr = arr.to(torch.int32 if high else torch.uint8).permute(1, 2, 0).cpu().numpy()
        if high:
            arr = arr.astype(np.uint16)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb48le" if high else "rgb24")
        frame = frame.reformat(
            format=self.pix_fmt,
            dst_colorspace=self.matrix,
            dst_color_range=ColorRange.JPEG if self.full_range else ColorRange.MPEG,
            interpolation=_SWS_FLAGS,
        )
        frame.pts = pts
        frame.time_base = self.time_base
        if duration:
            frame.duration = duration
            self._durations[pts] = duration
        self._encode(frame)
        self.frames += 1

    def copy_packet(self, packet: av.Packet) -> None:
        out = self._copy_map.get(packet.stream.index)
        if out is None:
            return
        packet.stream = out
        try:
            self.container.mux(packet)
        except av.error.FFmpegError as exc:
            raise VsrkitError(
                f"{self.path}: cannot copy {out.type} stream ({out.codec_context.name}) into this container "
                f"({_av_error_text(exc)}); try .mkv"
            ) from None

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        try:
            self._encode(None)
        finally:
            self.container.close()

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception:  # noqa: BLE001, S110 - the caller deletes the file anyway
            pass


__all__ = ["DEFAULT_CODEC", "VIDEO_SUFFIXES", "VideoInfo", "VideoInput", "VideoOutput", "guess_matrix", "is_video_path"]
