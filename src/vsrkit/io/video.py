"""Video files through PyAV: probing, streaming decode to RGB, encode with stream copy.

Decoding yields one RGB frame at a time with its presentation timestamp, so nothing holds the whole
video. Audio and subtitle packets met while demuxing are handed to a callback untouched, which the
writer muxes into the output unchanged (stream copy). Colour handling is explicit both ways: the
matrix (BT.601/709/...) and range (limited/full) of the input decide the YUV->RGB conversion, and the
output is converted back with the same matrix and range and tagged with them, so a player shows the
same colours (an untagged HD output of an SD input would otherwise be read as BT.709).

Everything else the input carries is kept where the output container can hold it: the display matrix
(phone rotation; frames stay in coded orientation and players rotate them), container and video-stream
tags (title, creation time, location, language, timecode, which MOV/MP4 turn back into a tmcd track),
data streams and attachments (MKV fonts). What a container refuses is dropped, not fatal, and
:func:`not_kept` lists everything that did not reach a finished output so the caller can say so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple, Self

import av
import av.error
import av.stream
import numpy as np
import torch
from av.bitstream import BitStreamFilterContext
from av.video.reformatter import ColorRange, Colorspace, Interpolation
from torch import Tensor

from ..color import VIDEO_MATRICES, rgb_to_yuv420
from ..errors import InputError, VsrkitError

VIDEO_SUFFIXES = {
    ".mp4", ".m4v", ".mkv", ".mov", ".webm", ".avi", ".ts", ".mts", ".m2ts", ".flv", ".mpg", ".mpeg",
    ".ogv", ".3gp", ".wmv", ".y4m", ".nut", ".gif",
}
# Encoder used when --codec is not given.
DEFAULT_CODECS = {".webm": "libvpx-vp9", ".ogv": "libtheora", ".avi": "mpeg4", ".flv": "flv", ".wmv": "wmv2",
                  ".gif": "gif"}
# Containers that hold pictures only: the input's audio and subtitles are left out (and the summary says so).
PICTURE_ONLY_SUFFIXES = {".gif"}
DEFAULT_CODEC = "libx264"
# For input deeper than 8 bits into these containers: HEVC Main 10 plays on phones, TVs and browsers with hardware
# decoders, where H.264 High 10 mostly does not; x265 also writes HDR10 metadata (x264 cannot). Not .m4v: FFmpeg
# writes it with its iPod muxer, which takes H.264 only.
DEFAULT_DEEP_CODEC = "libx265"
DEEP_CODEC_SUFFIXES = {".mp4", ".mov", ".mkv"}
# Audio a container refuses to take as it is gets re-encoded with these (WebM and Ogg take Opus or Vorbis only).
# Muxers that take H.264/HEVC only with start codes and do not convert it themselves (MPEG-TS does).
_START_CODE_FORMATS = ("avi", "mpeg")
AUDIO_FALLBACK_CODECS = {".webm": "libopus", ".ogv": "libopus", ".avi": "libmp3lame", ".mpg": "mp2", ".mpeg": "mp2"}
AUDIO_FALLBACK_CODEC = "aac"
# x264/x265 speed presets, fastest first. veryfast is the default: at 720x576 it encoded about 8 ms a
# frame here. superfast raises end-to-end throughput (benchmarks/upscale_speed.py alternates the two;
# figures in README) at the cost of larger files for the same CRF.
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
DEFAULT_X264_PRESET = "veryfast"

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
# Muxers that store an attached picture as cover art: Matroska writes it as a one-frame video track,
# MOV drops it.
_COVER_FORMATS = {"mp4", "ipod", "3gp", "3g2"}
# Tags describing the input file or its encoding rather than its content; the muxer writes its own.
_SKIP_TAGS = {
    "encoder", "major_brand", "minor_version", "compatible_brands", "duration", "number_of_frames",
    "number_of_bytes", "bps", "_statistics_tags", "_statistics_writing_app", "_statistics_writing_date_utc",
    "handler_name", "vendor_id",
}


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
    # The first frame's display matrix (nine int32, libavutil/display.h) and its rotation in degrees
    # counterclockwise, as players apply it; None / 0 when the input has none.
    display_matrix: tuple[int, ...] | None = None
    rotation: int = 0
    # HDR10 static metadata of the first frame; kept by HDR10_ENCODERS only.
    hdr: HdrMetadata | None = None
    # "top field first" / "bottom field first" ("interlaced" when only the frames say so); None: progressive.
    field_order: str | None = None
    # Width / height of one pixel as displayed (DVD 16:9: 32/27); None for square pixels.
    sample_aspect_ratio: Fraction | None = None
    # Chapter marks of the container (MKV/MP4/MOV), copied to outputs that hold them.
    chapters: int = 0
    timecode: str | None = None
    # Data streams and attachments, copied when the output container takes them.
    extra_streams: tuple[str, ...] = field(default_factory=tuple)
    # Streams the upscaler never writes (further video tracks, cover art).
    ignored_streams: tuple[str, ...] = field(default_factory=tuple)

    @property
    def matrix_name(self) -> str:
        return _MATRIX_NAMES.get(self.matrix, str(int(self.matrix)))


def _av_error_text(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0] if text else exc.__class__.__name__


def _bit_depth(fmt: av.VideoFormat) -> int:
    return max((c.bits for c in fmt.components), default=8)


def _tag(metadata: dict[str, str], key: str) -> str | None:
    # Matroska upper-cases tag names (TIMECODE), MOV does not.
    return next((v for k, v in metadata.items() if k.lower() == key), None)


def _describe(stream: av.stream.Stream) -> str:
    if stream.type == "attachment":
        return f"attachment {_tag(stream.metadata, 'filename') or stream.index}"
    # Data streams have no codec context; their codec name (klv, bin_data) is the stream's name.
    ctx = stream.codec_context if stream.type != "data" else None
    name = (ctx.name if ctx else getattr(stream, "name", None)) or _tag(stream.metadata, "handler_name") or "unknown"
    if stream.disposition & av.stream.Disposition.attached_pic:
        name = f"{name} cover art"
    return f"{stream.type} stream {stream.index} ({name})"


def _is_timecode_track(stream: av.stream.Stream) -> bool:
    # MOV/MP4 tmcd tracks: the muxer rebuilds them from the video stream's timecode tag.
    return stream.type == "data" and _tag(stream.metadata, "timecode") is not None


def _content_tags(metadata: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in metadata.items() if k.lower() not in _SKIP_TAGS}


@dataclass(frozen=True)
class HdrMetadata:
    """HDR10 static metadata of a stream (SMPTE ST 2086 mastering display, CTA-861.3 light levels).

    Chromaticities are CIE 1931 (x, y); luminances in cd/m². A field the input does not carry is None.
    """

    primaries: tuple[tuple[float, float], tuple[float, float], tuple[float, float]] | None  # R, G, B
    white_point: tuple[float, float] | None
    luminance: tuple[float, float] | None  # (min, max)
    max_cll: int | None
    max_fall: int | None

    @classmethod
    def from_side_data(cls, mastering: bytes | None, light: bytes | None) -> HdrMetadata | None:
        primaries = white = luminance = None
        if mastering is not None and len(mastering) == 88:
            # AVMasteringDisplayMetadata: 3 x 2 + 2 + 2 AVRationals (int32 pairs), has_primaries, has_luminance.
            v = np.frombuffer(mastering, dtype="<i4")
            q = [float(v[i]) / float(v[i + 1]) if v[i + 1] else 0.0 for i in range(0, 20, 2)]
            if v[20]:
                primaries = ((q[0], q[1]), (q[2], q[3]), (q[4], q[5]))
                white = (q[6], q[7])
            if v[21]:
                luminance = (q[8], q[9])
        max_cll = max_fall = None
        if light is not None and len(light) == 8:
            max_cll, max_fall = (int(x) for x in np.frombuffer(light, dtype="<u4"))
        if primaries is None and luminance is None and max_cll is None:
            return None
        return cls(primaries, white, luminance, max_cll, max_fall)

    def describe(self) -> str:
        parts = []
        if self.luminance is not None:
            parts.append(f"mastering display {self.luminance[1]:g}/{self.luminance[0]:g} cd/m²")
        elif self.primaries is not None:
            parts.append("mastering display primaries")
        if self.max_cll is not None:
            parts.append(f"MaxCLL {self.max_cll}, MaxFALL {self.max_fall}")
        return "HDR10 metadata (" + "; ".join(parts) + ")"

    def encoder_options(self, codec: str) -> dict[str, str]:
        """Options that make ``codec`` write this metadata into its bitstream; {} where it cannot."""
        if codec not in HDR10_ENCODERS:
            return {}
        params = []
        if self.primaries is not None and self.white_point is not None and self.luminance is not None:
            (rx, ry), (gx, gy), (bx, by) = self.primaries
            (wx, wy), (lo, hi) = self.white_point, self.luminance
            if codec == "libx265":
                # x265 wants chromaticities in 0.00002 units and luminances in 0.0001 cd/m², green first.
                c = [round(t / 0.00002) for t in (gx, gy, bx, by, rx, ry, wx, wy)]
                params.append(f"master-display=G({c[0]},{c[1]})B({c[2]},{c[3]})R({c[4]},{c[5]})"
                              f"WP({c[6]},{c[7]})L({round(hi / 0.0001)},{round(lo / 0.0001)})")
            else:
                params.append(f"mastering-display=G({gx:.4f},{gy:.4f})B({bx:.4f},{by:.4f})R({rx:.4f},{ry:.4f})"
                              f"WP({wx:.4f},{wy:.4f})L({hi:.4f},{lo:.4f})")
        if self.max_cll is not None:
            light = "max-cll" if codec == "libx265" else "content-light"
            params.append(f"{light}={self.max_cll},{self.max_fall}")
        option = "x265-params" if codec == "libx265" else "svtav1-params"
        return {option: ":".join(params)} if params else {}


# Text subtitle encoders, in the order they are tried for a container that refuses the input's text subtitles:
# MP4/MOV take mov_text only, WebM WebVTT only.
TEXT_SUBTITLE_ENCODERS = ("mov_text", "subrip", "ass", "webvtt")


# Seconds before a part's start (--start) the copy pass reads from, to meet a subtitle cue still on screen then.
SUBTITLE_LOOKBACK = 10.0


def _is_text_subtitle(stream: av.stream.Stream) -> bool:
    try:
        return bool(av.codec.Codec(stream.codec_context.name, "r").text_sub)
    except (av.error.FFmpegError, ValueError):
        return False


# Encoders that can write HDR10 static metadata (HdrMetadata.encoder_options).
HDR10_ENCODERS = ("libx265", "libsvtav1")


class _FirstFrame(NamedTuple):
    display_matrix: tuple[int, ...] | None = None
    hdr: HdrMetadata | None = None
    interlaced: bool = False


def _first_frame_side_data(path: Path, index: int) -> _FirstFrame:
    """The display matrix, HDR10 metadata and interlacing flag FFmpeg attaches to the first decoded frame.

    The installed PyAV exposes them on frames only, and the output header must be written before the
    main decode reaches its first frame (copied audio is muxed first), so a second, short-lived
    demuxer decodes one frame. Any failure here means "none"; the main decode reports errors.
    """
    try:
        with av.open(str(path), mode="r") as container:
            for frame in container.decode(container.streams[index]):
                found = {side.type.name: bytes(side) for side in frame.side_data}
                raw = found.get("DISPLAYMATRIX")
                matrix = tuple(int(v) for v in np.frombuffer(raw, dtype="<i4")) if raw and len(raw) == 36 else None
                hdr = HdrMetadata.from_side_data(found.get("MASTERING_DISPLAY_METADATA"),
                                                 found.get("CONTENT_LIGHT_LEVEL"))
                return _FirstFrame(matrix, hdr, bool(frame.interlaced_frame))
    except (av.error.FFmpegError, ValueError, IndexError, UnicodeDecodeError):
        return _FirstFrame()
    return _FirstFrame()


# AVFieldOrder: 1 progressive; 2 and 5 show the top field first (5: coded bottom first), 3 and 4 the bottom.
_FIELD_ORDERS = {2: "top field first", 5: "top field first", 3: "bottom field first", 4: "bottom field first"}


def _rotation_degrees(matrix: tuple[int, ...] | None, metadata: dict[str, str]) -> int:
    if matrix is not None:
        # av_display_rotation_get: counterclockwise angle from the 16.16 fixed-point entries.
        angle = -np.degrees(np.arctan2(matrix[1] / 65536, matrix[0] / 65536))
        return round(float(angle)) % 360
    tag = _tag(metadata, "rotate")  # FFmpeg < 6 exported the matrix as this (clockwise) tag
    try:
        return (-int(float(tag))) % 360 if tag else 0
    except ValueError:
        return 0


class VideoInput:
    """An open input video: ``info``, then :meth:`frames` streams RGB frames once."""

    def __init__(self, path: str | Path, *, leave_out: frozenset[str] = frozenset()) -> None:
        """``leave_out``: stream kinds (``"audio"``, ``"subtitle"``) not to copy; :attr:`left_out` lists those
        the file has."""
        unknown = set(leave_out) - {"audio", "subtitle"}
        if unknown:
            raise ValueError(f"leave_out takes audio and subtitle, not {sorted(unknown)}")
        self.leave_out = frozenset(leave_out)
        self.path = Path(path)
        self.retimed = 0  # frames whose pts was moved by frames() (repeated or decreasing timestamps)
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
        # Cover art is a video stream too (one still picture); the film is the first other one.
        films = [s for s in streams.video if not s.disposition & av.stream.Disposition.attached_pic]
        stream = (films or list(streams.video))[0]
        ctx = stream.codec_context
        if ctx.width <= 0 or ctx.height <= 0 or ctx.format is None:
            raise InputError(self.path, "video stream has no frame size or pixel format (corrupt or empty?)")
        if stream.frames == 0 and stream.duration in (None, 0) and self.container.duration in (None, 0):
            raise InputError(self.path, "video stream has zero frames")
        self.video = stream
        stream.thread_type = "AUTO"
        self.copy = [s for s in streams if s.type in ("audio", "subtitle") and s.type not in self.leave_out]
        self.left_out = [_describe(s) for s in streams if s.type in self.leave_out]
        self.data = [s for s in streams.data if not _is_timecode_track(s)]
        # Cover art: one still picture, copied like a data stream.
        self.covers = [
            s for s in streams.video
            if s.index != stream.index and s.disposition & av.stream.Disposition.attached_pic
        ]
        self.attachments = list(streams.attachments)
        self.timecode = _tag(stream.metadata, "timecode") or next(
            (_tag(s.metadata, "timecode") for s in streams.data if _is_timecode_track(s)), None
        )
        try:
            self.chapters = list(self.container.chapters())
        except (av.error.FFmpegError, ValueError, AttributeError):
            self.chapters = []
        first = _first_frame_side_data(self.path, stream.index)
        self.display_matrix, hdr = first.display_matrix, first.hdr
        coded_order = int(getattr(ctx, "field_order", 0) or 0)
        field_order = _FIELD_ORDERS.get(coded_order)
        if field_order is None and first.interlaced and coded_order != 1:
            field_order = "interlaced"
        spc = int(ctx.colorspace)
        matrix = _AVCOL_SPC_TO_SWS.get(spc)
        # RGB, palette and grey pictures (GIF, PNG-in-MKV, ...) carry no YCbCr matrix: choosing one for the output is
        # not a guess about the input.
        fmt = ctx.format
        guessed = matrix is None and not (fmt.is_rgb or fmt.has_palette or fmt.name.startswith("gray"))
        if matrix is None:
            matrix = guess_matrix(ctx.height)
        full = int(ctx.color_range) == ColorRange.JPEG or ctx.format.name.startswith("yuvj")
        rate = stream.average_rate or stream.guessed_rate
        sar = stream.sample_aspect_ratio or ctx.sample_aspect_ratio
        sar = Fraction(sar) if sar and Fraction(sar) > 0 and Fraction(sar) != 1 else None
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
            display_matrix=self.display_matrix,
            hdr=hdr,
            field_order=field_order,
            sample_aspect_ratio=sar,
            chapters=len(self.chapters),
            rotation=_rotation_degrees(self.display_matrix, stream.metadata),
            timecode=self.timecode,
            extra_streams=tuple(_describe(s) for s in [*self.data, *self.covers, *self.attachments]),
            ignored_streams=tuple(
                _describe(s) for s in streams.video if s.index != stream.index and s not in self.covers
            ),
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

    def _decoded(self, on_packet: Callable[[av.Packet], None] | None) -> Iterator[av.VideoFrame]:
        """Decoded video frames; other streams' packets go to ``on_packet`` as they are demuxed."""
        streams = [self.video, *self.copy, *self.data, *self.covers]
        for packet in self.container.demux(streams):
            if packet.stream.index != self.video.index:
                self._forward(packet, on_packet)
                continue
            yield from packet.decode()

    def _forward(self, packet: av.Packet, on_packet: Callable[[av.Packet], None] | None) -> None:
        # Flush packets carry no dts; a cover picture may have none either.
        timed = packet.dts is not None or packet.stream in self.covers
        if on_packet is not None and packet.size > 0 and timed:
            on_packet(packet)

    def _seek_before(self, start: float) -> None:
        """To the keyframe at or before ``start`` seconds (the frames between are decoded and dropped)."""
        try:
            self.container.seek(round(start / self.info.time_base), stream=self.video, backward=True)
        except av.error.FFmpegError:
            self.container.seek(0, stream=self.video)

    def packets(self, on_packet: Callable[[av.Packet], None], *, start: float = 0.0, end: float | None = None) -> None:
        """Give ``on_packet`` every packet :meth:`frames` would (with the same ``start`` and ``end``), without
        decoding the video: for a second pass that copies the other streams around video encoded apart."""
        streams = [*self.copy, *self.data, *self.covers]
        if not streams:
            return
        if start > 0:
            # Back far enough to meet a subtitle cue still on screen at the start (kept by _trimmed_packets).
            subtitles = any(s.type == "subtitle" for s in self.copy)
            self._seek_before(max(0.0, start - SUBTITLE_LOOKBACK) if subtitles else start)
        forward = self._trimmed_packets(on_packet, start, end)
        for packet in self.container.demux(streams):
            self._forward(packet, forward)

    def _in_range(
        self, frames: Iterator[av.VideoFrame], start: float, end: float | None, start_ticks: int
    ) -> Iterator[av.VideoFrame]:
        """Frames presented in [start, end), their pts moved ``start_ticks`` earlier."""
        time_base = self.info.time_base
        for frame in frames:
            if frame.pts is not None:
                t = float(frame.pts * time_base)
                if t < start:
                    continue
                if end is not None and t >= end:
                    return
                frame.pts -= start_ticks
            yield frame

    def _deinterlaced(self, frames: Iterator[av.VideoFrame]) -> Iterator[av.VideoFrame]:
        """``frames`` through FFmpeg's bwdif, one progressive frame per input frame at the same pts.

        bwdif (w3fdif's and yadif's successor) fills each missing line from both fields and the neighbouring
        frames; frames not flagged interlaced pass unchanged (``deint=all`` would also treat those).
        """
        graph = av.filter.Graph()
        source = graph.add_buffer(template=self.video)
        bwdif = graph.add("bwdif", "mode=send_frame:parity=auto:deint=interlaced")
        sink = graph.add("buffersink")
        source.link_to(bwdif)
        bwdif.link_to(sink)
        graph.configure()
        time_base = self.info.time_base

        def drain() -> Iterator[av.VideoFrame]:
            while True:
                try:
                    out = graph.pull()
                except (av.error.BlockingIOError, av.error.EOFError):
                    return
                # bwdif halves the time base (it can also emit one frame per field); back to the stream's.
                if out.pts is not None and out.time_base and out.time_base != time_base:
                    out.pts = round(out.pts * out.time_base / time_base)
                    out.duration = round(out.duration * out.time_base / time_base) if out.duration else 0
                    out.time_base = time_base
                yield out

        for frame in frames:
            graph.push(frame)
            yield from drain()
        graph.push(None)
        yield from drain()

    def _trimmed_packets(
        self, on_packet: Callable[[av.Packet], None] | None, start: float, end: float | None
    ) -> Callable[[av.Packet], None] | None:
        """``on_packet`` for a trimmed read: packets outside [start, end) dropped, the rest moved ``start`` earlier;
        a subtitle cue on screen at ``start`` is kept from there, and cues end at ``end``."""
        if on_packet is None or (start <= 0 and end is None):
            return on_packet

        def forward(packet: av.Packet) -> None:
            tb = packet.time_base
            stamp = packet.pts if packet.pts is not None else packet.dts
            if tb and stamp is not None:
                t = float(stamp * tb)
                if t < start and packet.stream.type == "subtitle" and packet.duration \
                        and t + float(packet.duration * tb) > start:
                    # A cue on screen at the start: shown from the part's start for what is left of it.
                    shown_until = stamp + packet.duration
                    packet.pts = packet.dts = stamp = round(start / tb)
                    packet.duration = shown_until - stamp
                    t = start
                if t < start or (end is not None and t >= end):
                    return
                if end is not None and packet.stream.type == "subtitle" and packet.duration:
                    packet.duration = min(packet.duration, round(end / tb) - stamp)  # not past the part's end
                shift = round(start / tb)
                if packet.pts is not None:
                    packet.pts -= shift
                if packet.dts is not None:
                    packet.dts -= shift
            on_packet(packet)

        return forward

    def frames(
        self, on_packet: Callable[[av.Packet], None] | None = None, *, deinterlace: bool = False,
        start: float = 0.0, end: float | None = None,
    ) -> Iterator[tuple[Tensor, int, int]]:
        """Yield ``(rgb (3, H, W) float32, pts, duration)`` in presentation order.

        ``pts`` and ``duration`` are in ``info.time_base`` units. Audio, subtitle and data packets
        go to ``on_packet`` as they are demuxed. A missing pts (some AVI/raw streams) continues from the
        previous frame; a missing duration is taken from the frame rate. A pts not after the previous
        frame's (repeated timestamps of a broken capture or remux) is moved to one tick after it, so
        every frame is kept and MP4/MOV muxers, which refuse such timestamps, accept the output;
        ``retimed`` counts those frames. ``deinterlace`` runs interlaced frames through bwdif (see
        :meth:`_deinterlaced`) first. ``start`` and ``end`` (seconds) keep the frames and packets in [start, end),
        with every timestamp moved ``start`` earlier, so the part starts at 0 as a file of its own.
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
            elif last_pts is not None and pts <= last_pts:
                pts = last_pts + 1
                self.retimed += 1
            if next_pts is not None and next_pts > pts:
                dur = next_pts - pts
            elif next_pts is not None:
                dur = 1  # the next frame repeats this pts and will be moved one tick after it
            else:
                dur = frame.duration or default_dur
            last_pts = pts
            if frame.width != info.width or frame.height != info.height:
                raise InputError(
                    self.path, f"frame {count} is {frame.width}x{frame.height}, the stream is "
                    f"{info.width}x{info.height} (size changes mid-stream are not supported)"
                )
            return self._to_rgb(frame), pts, dur

        trimmed = start > 0 or end is not None
        start_ticks = round(start / info.time_base)
        if start > 0:
            self._seek_before(start)
        decoded = self._decoded(self._trimmed_packets(on_packet, start, end))
        if trimmed:
            decoded = self._in_range(decoded, start, end, start_ticks)
        try:
            for frame in self._deinterlaced(decoded) if deinterlace else decoded:
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
        if count == 0 and trimmed:
            raise InputError(self.path, f"no frames between {start:g} s and {'the end' if end is None else f'{end:g} s'}")
        if count == 0:
            raise InputError(self.path, "video stream has zero decodable frames")
        if info.frames and count < info.frames and not trimmed:
            raise InputError(
                self.path, f"truncated or corrupt: the header lists {info.frames} frames, only {count} decode"
            )

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def default_codec(path: Path, source: VideoInfo | None) -> str:
    """The encoder used when --codec is not given: by suffix, and HEVC for deep input into MP4/MOV/MKV."""
    suffix = path.suffix.lower()
    if source is not None and source.bit_depth > 8 and suffix in DEEP_CODEC_SUFFIXES:
        return DEFAULT_DEEP_CODEC
    return DEFAULT_CODECS.get(suffix, DEFAULT_CODEC)


def _pick_pix_fmt(codec: av.Codec, source: VideoInfo | None, width: int, height: int) -> str:
    supported = [f.name for f in (codec.video_formats or [])]
    if codec.name == "gif":
        return "pal8"  # a palette chosen per frame (_Palettiser), not GIF's fixed 3-3-2 colour cube
    wanted = "yuv420p"
    if source is not None:
        wanted = source.pix_fmt.replace("yuvj", "yuv")
        if wanted not in supported and source.bit_depth > 8:
            wanted = "yuv420p10le"
    if supported and wanted not in supported:
        high = [f for f in supported if f.startswith("yuv420p1")] if source and source.bit_depth > 8 else []
        wanted = high[0] if high else ("yuv420p" if "yuv420p" in supported else supported[0])
    return wanted


def _without_gif_header(packet: av.Packet) -> av.Packet:
    """A GIF encoder writes the file header into its first packet; the muxer drops it from the file's first packet
    only, and a second header met in a joined segment shifts every later frame's delay. This one without it."""
    data = bytes(packet)
    if not data.startswith(b"GIF8") or len(data) < 13:
        return packet
    flags = data[10]
    palette = 3 << ((flags & 7) + 1) if flags & 0x80 else 0  # global colour table after the screen descriptor
    stripped = av.Packet(data[13 + palette :])
    stripped.pts, stripped.dts, stripped.duration = packet.pts, packet.dts, packet.duration
    stripped.time_base, stripped.is_keyframe = packet.time_base, packet.is_keyframe
    return stripped


class _Palettiser:
    """RGB frames to 256-colour palette frames, a palette per frame (FFmpeg's palettegen + paletteuse, error-diffusion
    dithering): a per-frame palette keeps the output streaming, where one palette for the whole clip needs every
    frame first. Frames come out one behind; :meth:`flush` gives the last."""

    def __init__(self, width: int, height: int, time_base: Fraction) -> None:
        self.graph = av.filter.Graph()
        source = self.graph.add_buffer(width=width, height=height, format="rgb24", time_base=time_base)
        split = self.graph.add("split")
        palette = self.graph.add("palettegen", "stats_mode=single:reserve_transparent=0")
        use = self.graph.add("paletteuse", "new=1:dither=sierra2_4a")
        sink = self.graph.add("buffersink")
        source.link_to(split)
        split.link_to(use, 0, 0)
        split.link_to(palette, 1, 0)
        palette.link_to(use, 0, 1)
        use.link_to(sink)
        self.graph.configure()

    def push(self, frame: av.VideoFrame | None) -> list[av.VideoFrame]:
        self.graph.push(frame)
        out = []
        while True:
            try:
                out.append(self.graph.pull())
            except (av.error.BlockingIOError, av.error.EOFError):
                return out

    def flush(self) -> list[av.VideoFrame]:
        return self.push(None)


class VideoOutput:
    """Encode RGB frames at given timestamps and copy other streams' packets into a new file.

    With ``video_from`` (a video stream encoded apart with the same settings, e.g. the segments of a resumable
    run), the video is not encoded here: its packets are copied in by :meth:`mux_video`, with the same tags,
    orientation and chapters an encoded stream gets.
    """

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
        preset: str | None = None,
        container_format: str | None = None,
        name: str | Path | None = None,
        sample_aspect_ratio: Fraction | None = None,
        video_from: av.stream.Stream | None = None,
    ) -> None:
        self.path = Path(path)
        self.video_from = video_from
        self.sample_aspect_ratio = sample_aspect_ratio
        # What error messages call the file: the user's output name when writing to a temporary one.
        self.name = Path(name) if name is not None else self.path
        self.source = source
        codec_name = codec or default_codec(self.path, source)
        self.codec_name = codec_name
        try:
            codec_obj = av.Codec(codec_name, "w")
        except (av.error.FFmpegError, ValueError):
            raise VsrkitError(f"unknown or unavailable video encoder {codec_name!r} (--codec)") from None
        if codec_obj.type != "video":
            raise VsrkitError(f"--codec {codec_name!r} is not a video encoder")
        if preset is not None and (codec_name not in ("libx264", "libx265") or preset not in X264_PRESETS):
            raise VsrkitError(
                f"--preset {preset!r} needs libx264 or libx265 (encoder here: {codec_name}) and one of "
                f"{', '.join(X264_PRESETS)}"
            )
        self.pix_fmt = _pick_pix_fmt(codec_obj, source, width, height)
        fmt = av.VideoFormat(self.pix_fmt, width, height)
        subsampled = any(c.width < fmt.width or c.height < fmt.height for c in fmt.components)
        if subsampled and (width % 2 or height % 2):
            raise VsrkitError(f"{self.name}: output size {width}x{height} is odd; {self.pix_fmt} needs even sizes")
        self.bits = _bit_depth(fmt)
        if source is not None:
            self.matrix, self.full_range = source.matrix, source.full_range
        else:
            self.matrix, self.full_range = Colorspace.ITU709, False
        self.time_base = time_base
        self._settings = (width, height, rate, codec_name, crf, preset, container_format)
        self.copy_from = copy_from
        required: list[av.stream.Stream] = list(copy_from.copy) if copy_from is not None else []
        optional: list[av.stream.Stream] = (
            [*copy_from.data, *copy_from.covers, *copy_from.attachments] if copy_from is not None else []
        )
        # The header is written here, before any work: a stream the container refuses shows now.
        # Audio and subtitles are the content, so refusing one is an error; data streams and
        # attachments are dropped one by one (not_kept() reports them after the run).
        # Input audio stream index -> (output stream, resampler), for audio this container cannot take as it is.
        self._reencode: dict[int, tuple[Any, av.AudioResampler]] = {}
        self._reencode_wanted: set[int] = set()
        # (the input's copy_streams entry, what was done) for each re-encoded stream.
        self.reencoded: list[tuple[str, str]] = []
        # Input subtitle stream index -> the text subtitle encoder it is converted with, for text subtitles this
        # container cannot take as they are (SubRip or ASS from MKV into MP4 is the common case).
        self._subtitle_encoders: dict[int, str] = {}
        failure = self._open([*required, *optional])
        if failure is not None:
            audio = [s for s in required if s.type == "audio"]
            self._reencode_wanted = {s.index for s in audio if self._open([s]) is not None}
            for s in required:
                if s.type == "subtitle" and _is_text_subtitle(s) and self._open([s]) is not None:
                    self._pick_subtitle_encoder(s)
            if self._reencode_wanted or self._subtitle_encoders:
                failure = self._open([*required, *optional])
        if failure is not None and optional:
            accepted: list[av.stream.Stream] = []
            for extra in optional:
                if self._open([*required, *accepted, extra]) is None:
                    accepted.append(extra)
            failure = self._open([*required, *accepted])
        if failure is not None:
            what, exc = failure
            if isinstance(exc, InputError):
                raise exc
            if what == "video":
                raise VsrkitError(f"{self.name}: cannot write {codec_name} video ({_av_error_text(exc)})") from None
            hint = " or leave them out (--no-subtitles)" if "subtitle" in what else ""
            raise VsrkitError(
                f"{self.name}: cannot copy {what} into this container ({_av_error_text(exc)}); try .mkv{hint}"
            ) from None
        self.frames = 0
        self._durations: dict[int, int] = {}
        # Streams given up while muxing (see copy_packet).
        self.lost: list[str] = []
        self._held: dict[int, av.Packet] = {}
        self._palettiser = _Palettiser(width, height, time_base) if self.pix_fmt == "pal8" and video_from is None else None
        self._gaps: dict[int, int] = {}

    def _open(self, extras: list[av.stream.Stream]) -> tuple[str, BaseException] | None:
        """(Re)create the file with the video stream and ``extras``; returns what failed, or None."""
        if getattr(self, "container", None) is not None:
            self.abort()
        width, height, rate, codec_name, crf, preset, container_format = self._settings
        source = self.source
        try:
            self.container = av.open(str(self.path), mode="w", format=container_format)
        except (av.error.FFmpegError, ValueError) as exc:
            self.container = None
            return "video", InputError(self.name, f"cannot create output ({_av_error_text(exc)})")
        what = "video"
        try:
            copy_from = self.copy_from
            if copy_from is not None:
                self.container.metadata.update(_content_tags(copy_from.container.metadata))
                if copy_from.chapters:
                    self.container.set_chapters(copy_from.chapters)
            stream = None
            if self.video_from is not None:
                try:
                    # Codec parameters (size, colours, pixel aspect, HDR side data) come with the encoded stream.
                    stream = self.container.add_stream_from_template(self.video_from)
                except ValueError:
                    # PyAV opens a template's codec by its decoder's name, and this build has no AV1 decoder
                    # (libdav1d): the encoder with the segments' settings describes the same stream instead.
                    stream = None
            templated = stream is not None
            self._annexb = None
            if stream is not None and self.container.format.name in _START_CODE_FORMATS and \
                    self.video_from.codec_context.name in ("h264", "hevc"):
                # These take H.264/HEVC with start codes; the segments (MP4) hold it length-prefixed. Made before
                # the header is written, which then gets the converted parameter sets.
                self._annexb = BitStreamFilterContext(
                    f"{self.video_from.codec_context.name}_mp4toannexb", self.video_from, stream)
            if stream is not None:
                stream.time_base = self.time_base
                ctx = stream.codec_context
                ctx.framerate = rate or Fraction(25)  # MOV's timecode track is built from it
                ctx.codec_tag = "\0\0\0\0"  # not the segments' container's tag: the muxer picks this one's (or hvc1 below)
            else:
                stream = self.container.add_stream(codec_name, rate=rate or Fraction(25))
                stream.width, stream.height, stream.pix_fmt = width, height, self.pix_fmt
                stream.time_base = self.time_base
                ctx = stream.codec_context
                ctx.time_base = self.time_base
                ctx.colorspace = _SWS_TO_AVCOL_SPC.get(self.matrix, _AVCOL_SPC_UNSPECIFIED)
                ctx.color_range = ColorRange.JPEG if self.full_range else ColorRange.MPEG
                if self.sample_aspect_ratio is not None:
                    ctx.sample_aspect_ratio = self.sample_aspect_ratio
                if source is not None:
                    ctx.color_primaries = source.color_primaries
                    ctx.color_trc = source.color_trc
            if copy_from is not None:
                tags = _content_tags(copy_from.video.metadata)
                if copy_from.timecode and _tag(tags, "timecode") is None:
                    tags["timecode"] = copy_from.timecode
                stream.metadata.update(tags)
                stream.disposition = copy_from.video.disposition
                if copy_from.display_matrix is not None:
                    # The frames stay in coded orientation, so the input's matrix applies unchanged.
                    stream.set_display_matrix(list(copy_from.display_matrix))
            options: dict[str, str] = {}
            if crf is not None:
                options["crf"] = str(crf)
            if codec_name in ("libx264", "libx265"):
                options.setdefault("crf", "18")
                options["preset"] = preset or DEFAULT_X264_PRESET
            if source is not None and source.hdr is not None:
                options.update(source.hdr.encoder_options(codec_name))
            if codec_name == "libx265":
                # x265 prints its whole configuration at info level on every run.
                options["x265-params"] = ":".join(p for p in ("log-level=error", options.get("x265-params")) if p)
            if codec_name == "libsvtav1":
                os.environ.setdefault("SVT_LOG", "1")  # errors only; SVT-AV1 reads its log level from here
            if codec_name == "gif":
                # Every frame with its own palette: a frame relying on the header's global palette would take the first
                # segment's colours where segments are joined.
                options["global_palette"] = "0"
            if codec_name == "libvpx-vp9":
                options.setdefault("crf", "30")
                options["b"] = "0"
            if not templated:
                stream.options = options
                stream.thread_type = "AUTO"
            if codec_name == "libx265" and self.container.format.name in ("mp4", "mov"):
                # FFmpeg tags HEVC in MP4 as hev1, which Apple's players refuse; hvc1 plays everywhere.
                ctx.codec_tag = "hvc1"
            self.stream = stream
            self._copy_map: dict[int, Any] = {}
            self._reencode = {}
            self._converted_subtitles: dict[int, Any] = {}
            self.reencoded = []
            for s in extras:
                what = _describe(s)
                if s.type == "video" and self.container.format.name not in _COVER_FORMATS:
                    raise ValueError(f"{self.container.format.name} keeps no cover art")
                if s.type == "attachment":
                    name = _tag(s.metadata, "filename") or f"attachment{s.index}"
                    self.container.add_attachment(name, s.mimetype or "application/octet-stream", s.data)
                else:
                    if s.index in self._reencode_wanted:
                        out = self._add_reencoded_audio(s)
                    elif s.index in self._subtitle_encoders:
                        out = self._add_converted_subtitle(s, self._subtitle_encoders[s.index])
                    else:
                        out = self.container.add_stream_from_template(s)
                    # The template brings codec parameters only: language, title and the
                    # default/forced flags pick the track a player starts with.
                    out.metadata.update(_content_tags(s.metadata))
                    out.disposition = s.disposition
                    self._copy_map[s.index] = out
            what = "video" if not extras else ", ".join(_describe(s) for s in extras)
            self.container.start_encoding()
            self.format_name = self.container.format.name
        except (av.error.FFmpegError, ValueError) as exc:
            self.abort()
            self.container = None
            return what, exc
        except BaseException:
            self.abort()
            raise
        return None

    def mux_video(self, packet: av.Packet | None) -> None:
        """Copy one packet of the ``video_from`` stream (timestamps in its ``time_base``); None ends the stream."""
        time_base = packet.time_base if packet is not None else None
        try:
            if self._annexb is not None:
                packets = list(self._annexb.filter(packet))
            else:
                packets = [] if packet is None else [packet]
            if packets and self.frames and self.video_from.codec_context.name == "gif":
                packets = [_without_gif_header(p) for p in packets]
            for out in packets:
                out.stream = self.stream
                if time_base is not None:
                    out.time_base = time_base
                self.container.mux(out)
        except av.error.FFmpegError as exc:
            raise VsrkitError(f"{self.name}: joining the video failed ({_av_error_text(exc)})") from None
        if packet is not None:
            self.frames += 1

    def _encode(self, frame: av.VideoFrame | None) -> None:
        if self.video_from is not None:
            if frame is None:
                self.mux_video(None)  # what a bitstream filter still holds
            return  # nothing is encoded here
        try:
            for packet in self.stream.encode(frame):
                # Encoders with a delay (x264) drop frame durations; without them the muxer
                # guesses the last frame's length and the output's duration drifts.
                duration = self._durations.pop(packet.pts, None)
                if duration and not packet.duration and packet.time_base == self.time_base:
                    packet.duration = duration
                self.container.mux(packet)
        except av.error.FFmpegError as exc:
            raise VsrkitError(f"{self.name}: encoding failed ({_av_error_text(exc)})") from None

    @property
    def _color_range(self) -> ColorRange:
        return ColorRange.JPEG if self.full_range else ColorRange.MPEG

    @property
    def yuv420_matrix(self) -> tuple[float, float] | None:
        """``(kr, kb)`` of the output matrix when frames can be given to :meth:`write_yuv420`
        (8-bit 4:2:0 with a known matrix), else None."""
        return VIDEO_MATRICES.get(int(self.matrix)) if self.pix_fmt == "yuv420p" else None

    def write_yuv420(self, planes: Tensor, pts: int, duration: int | None = None) -> None:
        """Encode one ready ``yuv420p`` buffer ``(3 H / 2, W)`` uint8 in this output's matrix and range."""
        frame = av.VideoFrame.from_ndarray(planes.cpu().numpy(), format="yuv420p")
        frame.colorspace, frame.color_range = self.matrix, self._color_range
        self._emit(frame, pts, duration)

    def write(self, rgb: Tensor, pts: int, duration: int | None = None) -> None:
        """Encode one ``(3, H, W)`` float frame in [0, 1] at ``pts`` (``time_base`` units)."""
        coefficients = self.yuv420_matrix
        if coefficients is not None:
            # The common case, converted in torch: libswscale's RGB to YUV 4:2:0 (with the
            # accurate-rounding flags) took about 8 ms per 720x576 frame on this machine.
            kr, kb = coefficients
            planes = rgb_to_yuv420(rgb.detach().float(), kr=kr, kb=kb, full_range=self.full_range)
            self.write_yuv420(planes, pts, duration)
            return
        high = self.bits > 8
        peak = 65535.0 if high else 255.0
        arr = rgb.detach().float().clamp(0, 1).mul(peak).round_()
        arr = arr.to(torch.int32 if high else torch.uint8).permute(1, 2, 0).cpu().numpy()
        if high:
            arr = arr.astype(np.uint16)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb48le" if high else "rgb24")
        if self._palettiser is not None:
            self._emit(frame, pts, duration)
            return
        frame = frame.reformat(
            format=self.pix_fmt,
            dst_colorspace=self.matrix,
            dst_color_range=self._color_range,
            interpolation=_SWS_FLAGS,
        )
        self._emit(frame, pts, duration)

    def _emit(self, frame: av.VideoFrame, pts: int, duration: int | None) -> None:
        frame.pts = pts
        frame.time_base = self.time_base
        if duration:
            frame.duration = duration
            self._durations[pts] = duration
        for ready in self._palettiser.push(frame) if self._palettiser is not None else [frame]:
            self._encode(ready)
        self.frames += 1

    def _add_reencoded_audio(self, source: av.stream.Stream) -> Any:
        """An output audio stream in the container's fallback codec, fed by :meth:`copy_packet` decoding ``source``."""
        name = AUDIO_FALLBACK_CODECS.get(self.path.suffix.lower(), AUDIO_FALLBACK_CODEC)
        codec = av.Codec(name, "w")
        rates = list(codec.audio_rates or [])
        rate = source.rate if not rates or source.rate in rates else (48000 if 48000 in rates else max(rates))
        # MP3 holds at most two channels (libmp3lame refuses 5.1); AAC and Opus take surround as it is.
        layout = source.layout.name if source.layout.nb_channels <= 2 or name != "libmp3lame" else "stereo"
        out = self.container.add_stream(name, rate=rate)
        out.layout = layout
        fmt = codec.audio_formats[0].name if codec.audio_formats else "fltp"
        out.format = fmt
        self._reencode[source.index] = (out, av.AudioResampler(format=fmt, layout=layout, rate=rate))
        self.reencoded.append((f"audio:{source.codec_context.name}",
                               f"{_describe(source)} re-encoded as {name} ({self.path.suffix} cannot hold it)"))
        return out

    def _mux_reencoded(self, index: int, frames: list[av.AudioFrame] | None) -> None:
        """Resample, encode and mux decoded ``frames``; None flushes the resampler and the encoder."""
        out, resampler = self._reencode[index]
        for frame in [None] if frames is None else frames:
            for resampled in resampler.resample(frame):
                self.container.mux(out.encode(resampled))
        if frames is None:
            self.container.mux(out.encode(None))

    def _pick_subtitle_encoder(self, source: av.stream.Stream) -> None:
        """The first text subtitle encoder this container takes for ``source``, if any (else it stays refused)."""
        for name in TEXT_SUBTITLE_ENCODERS:
            self._subtitle_encoders[source.index] = name
            if self._open([source]) is None:
                return
        del self._subtitle_encoders[source.index]

    def _add_converted_subtitle(self, source: av.stream.Stream, name: str) -> Any:
        """An output subtitle stream in encoder ``name``, fed by :meth:`copy_packet` decoding ``source``."""
        decoder = source.codec_context
        if not decoder.is_open:
            decoder.open()  # text decoders make their ASS header when opened; the encoder styles from it
        out = self.container.add_stream(name)
        out.codec_context.subtitle_header = decoder.subtitle_header
        out.time_base = out.codec_context.time_base = source.time_base
        self._converted_subtitles[source.index] = out
        self.reencoded.append((f"subtitle:{decoder.name}",
                               (f"{_describe(source)} converted to {name} ({self.path.suffix} cannot hold it; "
                               "text and timing kept, styling may be simplified)")))
        return out

    def _mux_converted_subtitle(self, packet: av.Packet) -> None:
        out = self._converted_subtitles[packet.stream.index]
        if not packet.size:
            return  # an end-of-stream marker, no text
        subtitle = packet.stream.codec_context.decode2(packet)
        if subtitle is None:
            return
        converted = out.codec_context.encode_subtitle(subtitle)
        # The encoder stamps the packet in microseconds; the input packet's own timing is the truth.
        converted.stream = out
        converted.time_base = packet.time_base
        converted.pts, converted.dts, converted.duration = packet.pts, packet.dts, packet.duration
        self.container.mux(converted)

    def copy_packet(self, packet: av.Packet) -> None:
        out = self._copy_map.get(packet.stream.index)
        if out is None:
            return
        index = packet.stream.index
        if index in self._reencode or index in self._converted_subtitles:
            try:
                if index in self._reencode:
                    self._mux_reencoded(index, list(packet.decode()))
                else:
                    self._mux_converted_subtitle(packet)
            except av.error.FFmpegError as exc:
                raise VsrkitError(f"{self.name}: re-encoding {_describe(packet.stream)} failed "
                                  f"({_av_error_text(exc)})") from None
            return
        if out.type == "data":
            # Data packets often carry no duration (KLV in MPEG-TS), and MOV drops a last sample
            # of length zero: hold each back until the next one gives its length.
            held = self._held.pop(index, None)
            if not packet.duration:
                self._held[index] = packet
            if held is not None:
                if packet.dts is not None and held.dts is not None and packet.dts > held.dts:
                    held.duration = packet.dts - held.dts
                    self._gaps[index] = held.duration
                self._mux_copy(index, held)
            if packet.duration:
                self._mux_copy(index, packet)
            return
        self._mux_copy(index, packet)

    def _mux_copy(self, index: int, packet: av.Packet) -> None:
        out = self._copy_map.get(index)
        if out is None:
            return
        packet.stream = out
        try:
            self.container.mux(packet)
        except av.error.FFmpegError as exc:
            if out.type == "data" or out.disposition & av.stream.Disposition.attached_pic:
                # Side information: losing it must not lose the video.
                self._copy_map.pop(index, None)
                self.lost.append(f"{_describe(self.copy_from.container.streams[index])} after its first "
                                 f"packets ({_av_error_text(exc)})" if self.copy_from else out.type)
                return
            raise VsrkitError(
                f"{self.name}: cannot copy {out.type} stream ({out.codec_context.name}) into this container "
                f"({_av_error_text(exc)}); try .mkv"
            ) from None

    def close(self) -> None:
        """Flush the encoder and the held-back data packets, and finish the file."""
        try:
            for ready in self._palettiser.flush() if self._palettiser is not None else []:
                self._encode(ready)
            self._encode(None)
            for index in self._reencode:
                self._mux_reencoded(index, None)
            for index, held in sorted(self._held.items()):
                held.duration = self._gaps.get(index, 1)
                self._mux_copy(index, held)
            self._held.clear()
        finally:
            self.container.close()

    def abort(self) -> None:
        try:
            if self.container is not None:
                self.container.close()
        except Exception:  # noqa: BLE001, S110 - the caller deletes the file anyway
            pass


def not_kept(
    source: VideoInfo, path: str | Path, container_format: str | None = None, *,
    sample_aspect_ratio: Fraction | None = None,
) -> list[str]:
    """What of ``source``'s rotation, timecode and other streams, and of the pixel aspect ratio the output was
    written with, a finished output lacks.

    Read back from the file rather than trusted from the muxer: some containers accept a display
    matrix or an attachment and silently write nothing (AVI, NUT, MPEG-TS).
    """
    lost: list[str] = []
    try:
        try:
            container = av.open(str(path), mode="r")
        except (av.error.FFmpegError, ValueError):
            if container_format is None:
                raise
            # A short MPEG-TS is too small for FFmpeg to recognise from its content.
            container = av.open(str(path), mode="r", format=container_format)
    except (av.error.FFmpegError, ValueError) as exc:
        if source.display_matrix is None and not source.rotation and not source.timecode and not source.extra_streams \
                and source.hdr is None and sample_aspect_ratio is None \
                and not source.chapters:
            return []
        return [f"unknown, the output cannot be read back to check ({_av_error_text(exc)})"]
    with container:
        streams = container.streams
        video = streams.video[0] if streams.video else None
        first = (_first_frame_side_data(Path(path), video.index)
                 if video is not None and (source.display_matrix is not None or source.rotation or source.hdr is not None)
                 else _FirstFrame())
        if source.display_matrix is not None or source.rotation:
            matrix = first.display_matrix
            if source.display_matrix is not None:
                kept = matrix == source.display_matrix
            else:
                kept = video is not None and _rotation_degrees(matrix, video.metadata) == source.rotation
            if not kept:
                lost.append(f"rotation ({source.rotation} degrees)")
        if sample_aspect_ratio is not None:
            sar = (video.sample_aspect_ratio or video.codec_context.sample_aspect_ratio) if video is not None else None
            if not sar or Fraction(sar) != sample_aspect_ratio:
                lost.append(f"pixel aspect ratio {sample_aspect_ratio.numerator}:{sample_aspect_ratio.denominator} "
                            "(players will show the picture with square pixels)")
        if source.hdr is not None and first.hdr is None:
            codec = video.codec_context.name if video is not None else "?"
            lost.append(f"{source.hdr.describe()}: the {codec} encoder used cannot write it "
                        f"({' and '.join(HDR10_ENCODERS)} can: --codec)")
        if source.chapters:
            try:
                kept = len(container.chapters())
            except (av.error.FFmpegError, ValueError, AttributeError):
                kept = 0
            if kept < source.chapters:
                lost.append(f"{source.chapters - kept} of {source.chapters} chapters")
        if source.timecode is not None and not any(
            _tag(s.metadata, "timecode") == source.timecode for s in streams
        ) and _tag(container.metadata, "timecode") != source.timecode:
            lost.append(f"timecode {source.timecode}")
        for kind in ("audio", "subtitle"):
            wanted = [c for c in source.copy_streams if c.startswith(f"{kind}:")]
            present = [s for s in streams if s.type == kind]
            if len(present) < len(wanted):
                lost.append(f"{len(wanted) - len(present)} of {len(wanted)} {kind} streams")
        names = {_tag(s.metadata, "filename") for s in streams.attachments}
        data_in = [d for d in source.extra_streams if d.startswith("data ")]
        data_out = [s for s in streams.data if not _is_timecode_track(s)]
        if len(data_out) < len(data_in):
            lost.append(", ".join(data_in) if not data_out else f"{len(data_in) - len(data_out)} of {', '.join(data_in)}")
        covers_in = [d for d in source.extra_streams if d.endswith(" cover art)")]
        covers_out = [s for s in streams.video if s.disposition & av.stream.Disposition.attached_pic]
        if len(covers_out) < len(covers_in):
            lost.extend(covers_in[len(covers_out):])
        for desc in source.extra_streams:
            if desc.startswith("attachment ") and desc.removeprefix("attachment ") not in names:
                lost.append(desc)
    return lost


__all__ = ["DEFAULT_CODEC", "VIDEO_SUFFIXES", "VideoInfo", "VideoInput", "VideoOutput", "guess_matrix", "is_video_path",
           "not_kept"]
