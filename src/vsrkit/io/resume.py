"""Progress of a video upscale kept on disk, so that an interrupted run continues where it stopped.

Upscaling a film with a recurrent model on a CPU takes days; users of per-frame tools ask for resuming more than
for anything else (specs/anchors.md, pain point 15), and the fix must not fill the disk with frames. So the video
is encoded in segments, small files of their own in a hidden folder next to the output, with the final encoder
settings: they take the space the output will take, no more. A manifest lists the finished segments and the
settings they were made with. At the end the segments' packets are copied, not re-encoded, into the output, around
the input's audio, subtitles and the rest (:func:`join_segments`); then the folder is removed. A run that finds a
folder for its output with the same settings continues after its last segment. A frame-folder output is kept the
same way, as folders of PNG frames (:class:`SegmentedFrameOutput`).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; two runs over one output are then the user's to avoid
    fcntl = None  # type: ignore[assignment]

from ..errors import VsrkitError
from .frames import remove_stale, write_image
from .video import VideoInput, VideoOutput

MANIFEST = "manifest.json"
LOCK = "lock"
MANIFEST_VERSION = 1


# A segment closes only after this many output frames, so that the encoder's reordering delay (B-frames) is the
# same at both ends of a joint and the decoding timestamps run on across it.
MIN_SEGMENT_FRAMES = 32


# Containers tried for video segments, whatever the output's, in order. MP4 keeps decoding timestamps as encoded
# (Matroska stores none, MPEG-TS shifts them when they start below zero, NUT drops the first ones of reordered
# H.264, AVI counts frames); NUT takes the encoders MP4 refuses (FFV1, WMV, ...). Where the output needs H.264 in
# another form (AVI, MPEG-PS), VideoOutput converts it at the joint.
SEGMENT_FORMATS = ("mp4", "nut")


@dataclass(frozen=True)
class Segment:
    """A finished segment: its file name, and the input and output frames done when it closed (counted from the
    start of the video)."""

    file: str
    frames_in: int
    frames_out: int
    first_pts: int  # of its first frame, in the output's time base: the joint restores it whatever the container did


class ResumeFolder:
    """The hidden folder beside ``output`` that holds a run's finished segments and its manifest.

    ``settings`` is everything that decides the output's pictures and encoding (input file, model, its weights,
    codec, size, ...): a run continues only a folder made with the same settings.
    """

    def __init__(self, output: str | Path, settings: dict[str, Any]) -> None:
        output = Path(output)
        self.output = output
        self.path = output.with_name(f".{output.name}.vsrkit-resume")
        self.settings = json.loads(json.dumps(settings))  # as it reads back from the manifest
        self.segments: list[Segment] = []
        self.segment_format: str | None = None
        self._lock_fd: int | None = None

    @property
    def frames_in(self) -> int:
        return self.segments[-1].frames_in if self.segments else 0

    @property
    def frames_out(self) -> int:
        return self.segments[-1].frames_out if self.segments else 0

    def open(self, *, resume: bool) -> None:
        """Take up the progress a previous run left (``resume``), or start afresh (discarding any). Holds the
        folder's lock until :meth:`release` or :meth:`discard`: a second run over the same output is refused."""
        if self.path.is_dir():
            self._lock()  # before reading or removing anything another run may be writing
        try:
            self._take_up(resume)
        except BaseException:
            self.release()
            raise

    def _take_up(self, resume: bool) -> None:
        manifest_path = self.path / MANIFEST
        if self.path.exists() and resume and manifest_path.is_file():
            try:
                manifest = json.loads(manifest_path.read_text())
                if manifest.get("version") != MANIFEST_VERSION:
                    raise ValueError("another manifest version")
                segments = [Segment(**s) for s in manifest["segments"]]
                kept_settings, segment_format = manifest["settings"], manifest["segment_format"]
            except (OSError, ValueError, KeyError, TypeError):
                segments, kept_settings, segment_format = [], self.settings, None  # unreadable: start over
            if kept_settings != self.settings:
                changed = sorted(k for k in {*kept_settings, *self.settings}
                                 if kept_settings.get(k) != self.settings.get(k))
                raise VsrkitError(
                    f"{self.output}: an interrupted run with other settings ({', '.join(changed)}) is kept in "
                    f"{self.path}; run it again with those settings to continue, or add --no-resume to start over"
                )
            # Only what the manifest lists and is on disk counts; a segment being written when the run was killed is not.
            present = 0
            while present < len(segments) and (self.path / segments[present].file).exists():
                present += 1
            self.segments, self.segment_format = segments[:present], segment_format
            for leftover in self.path.iterdir():
                if leftover.name not in {MANIFEST, LOCK, *(s.file for s in self.segments)}:
                    remove_stale(leftover)
            return
        self.release()
        remove_stale(self.path)
        self.path.mkdir()
        self._lock()
        self._write_manifest()

    def _lock(self) -> None:
        if fcntl is None or self._lock_fd is not None:
            return
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise VsrkitError(f"{self.output}: another run is writing this output now ({self.path} is locked)") from None
        self._lock_fd = fd

    def release(self) -> None:
        """Let another run take the folder up (the process ending does it too)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _write_manifest(self) -> None:
        manifest = {"version": MANIFEST_VERSION, "settings": self.settings, "segment_format": self.segment_format,
                    "segments": [asdict(s) for s in self.segments]}
        staged = self.path / f".{MANIFEST}.tmp"
        with open(staged, "w") as f:
            json.dump(manifest, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        staged.replace(self.path / MANIFEST)  # atomic: a kill leaves the old manifest or the new one

    def next_segment_path(self) -> Path:
        assert self.segment_format is not None
        return self.path / f"{len(self.segments):05d}.{self.segment_format}"

    def add(self, segment: Segment) -> None:
        self.segments.append(segment)
        self._write_manifest()

    def discard(self) -> None:
        self.release()
        remove_stale(self.path)


def _fsync(path: Path) -> None:
    """Flush a file or a folder's entries to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SegmentedVideoOutput:
    """A video-only :class:`~vsrkit.io.video.VideoOutput` split into segments of about ``seconds`` of work each.

    ``make(path, container_format)`` opens one segment, in the first of :data:`SEGMENT_FORMATS` that takes the
    encoder. The writer closes a segment only between input frames (:meth:`end_input_frame`), so that a resumed
    run starts on an input frame. :meth:`abort` drops the segment in progress and keeps the finished ones.
    """

    def __init__(self, folder: ResumeFolder, make: Callable[[Path, str], VideoOutput], *, seconds: float) -> None:
        self.folder = folder
        self._make = make
        self.seconds = seconds
        self._frames_out = folder.frames_out
        self._frames_in = folder.frames_in
        self._current: VideoOutput | None = None
        self._first_pts = 0
        self._opened_at = 0.0
        self._open()  # now: a container that refuses the encoder shows before any work
        assert self._current is not None
        self.codec_name = self._current.codec_name
        self.yuv420_matrix = self._current.yuv420_matrix
        self.full_range = self._current.full_range

    def _open(self) -> None:
        formats = [self.folder.segment_format] if self.folder.segment_format else list(SEGMENT_FORMATS)
        for i, fmt in enumerate(formats):
            self.folder.segment_format = fmt
            try:
                self._current = self._make(self.folder.next_segment_path(), fmt)
                break
            except VsrkitError:
                remove_stale(self.folder.next_segment_path())
                if i == len(formats) - 1:
                    raise
        self._opened_at = time.monotonic()

    def _segment(self, pts: int) -> VideoOutput:
        if self._current is None:
            self._open()
        assert self._current is not None
        if not self._current.frames:
            self._first_pts = pts
        return self._current

    def write(self, rgb: Any, pts: int, duration: int | None = None) -> None:
        self._segment(pts).write(rgb, pts, duration)
        self._frames_out += 1

    def write_yuv420(self, planes: Any, pts: int, duration: int | None = None) -> None:
        self._segment(pts).write_yuv420(planes, pts, duration)
        self._frames_out += 1

    def end_input_frame(self, frames_in: int) -> None:
        """Every output frame of input frames ``..frames_in - 1`` has been written: a segment may close here."""
        self._frames_in = frames_in
        current = self._current
        if current is not None and current.frames >= MIN_SEGMENT_FRAMES and time.monotonic() - self._opened_at >= self.seconds:
            self._close_segment(frames_in)

    def _close_segment(self, frames_in: int) -> None:
        assert self._current is not None
        path = self.folder.next_segment_path()
        self._current.close()
        self._current = None
        _fsync(path)  # on disk before the manifest says it is
        self.folder.add(Segment(path.name, frames_in, self._frames_out, self._first_pts))

    def close(self) -> None:
        """Close the segment in progress (after the last :meth:`end_input_frame`); an empty one is dropped."""
        if self._current is not None and self._current.frames:
            self._close_segment(self._frames_in)
        self.abort()

    def abort(self) -> None:
        if self._current is not None:
            self._current.abort()
            remove_stale(self.folder.next_segment_path())
            self._current = None


class SegmentedFrameOutput:
    """Output frames as PNG files named by their number in the whole video (``00000042.png``), in segment folders
    of about ``seconds`` of work each (``bits`` per channel: 8 or 16); :func:`gather_frames` moves them into one
    folder at the end. The same interface as :class:`SegmentedVideoOutput`."""

    yuv420_matrix = None  # frames are RGB

    def __init__(self, folder: ResumeFolder, *, bits: int, seconds: float) -> None:
        self.folder = folder
        folder.segment_format = "frames"
        self.bits, self.seconds = bits, seconds
        self._frames_out = folder.frames_out
        self._frames_in = folder.frames_in
        self._current: Path | None = None
        self._written: list[Path] = []
        self._opened_at = 0.0

    def write(self, rgb: Any, pts: int, duration: int | None = None) -> None:
        if self._current is None:
            self._current = self.folder.next_segment_path()
            self._current.mkdir()
            self._opened_at = time.monotonic()
        path = self._current / f"{self._frames_out:08d}.png"
        write_image(path, rgb, bits=self.bits)
        self._written.append(path)
        self._frames_out += 1

    def end_input_frame(self, frames_in: int) -> None:
        self._frames_in = frames_in
        if self._current is not None and time.monotonic() - self._opened_at >= self.seconds:
            self._close_segment()

    def _close_segment(self) -> None:
        assert self._current is not None
        for path in [*self._written, self._current]:  # on disk before the manifest says they are
            _fsync(path)
        self.folder.add(Segment(self._current.name, self._frames_in, self._frames_out, 0))
        self._current, self._written = None, []

    def close(self) -> None:
        if self._current is not None and self._written:
            self._close_segment()
        self.abort()

    def abort(self) -> None:
        if self._current is not None:
            remove_stale(self._current)
            self._current, self._written = None, []


def gather_frames(folder: ResumeFolder, stage: Path) -> None:
    """Move the frames of every finished segment into ``stage`` (renames: the same file system)."""
    for segment in folder.segments:
        for frame in sorted((folder.path / segment.file).iterdir()):
            frame.replace(stage / frame.name)


def _rescaled(value: int, ratio: Fraction) -> int:
    """``value * ratio`` rounded as FFmpeg's muxers rescale timestamps (to nearest, halves away from zero)."""
    x = value * ratio
    return math.floor(x + Fraction(1, 2)) if x >= 0 else -math.floor(-x + Fraction(1, 2))


def _segment_packets(folder: ResumeFolder, time_base: Fraction, stream_time_base: Fraction) -> Iterator[av.Packet]:
    """The segments' video packets in order, with timestamps in ``time_base`` (the output's, in which the segments
    were encoded; the muxer converts from it to ``stream_time_base`` as it does for encoded frames): each segment
    moved so that its first frame is at its recorded ``first_pts``, and decoding timestamps increasing across
    joints, also once the muxer has converted them. (With variable frame durations an encoder's first decoding
    timestamps are guesses, which can meet the previous segment's last.)"""
    to_stream = time_base / stream_time_base
    last_dts: int | None = None
    for segment in folder.segments:
        with av.open(str(folder.path / segment.file)) as container:
            shift: Fraction | None = None
            for packet in container.demux(container.streams.video[0]):
                if packet.size == 0:
                    continue
                if shift is None:  # the segment's first packet is its first frame, a keyframe
                    shift = segment.first_pts - Fraction(packet.pts or 0) * packet.time_base / time_base

                def moved(stamp: int | None, packet: av.Packet = packet, shift: Fraction = shift) -> int | None:
                    return None if stamp is None else round(stamp * packet.time_base / time_base + shift)

                pts, dts = moved(packet.pts), moved(packet.dts)
                if dts is not None and last_dts is not None and _rescaled(dts, to_stream) <= _rescaled(last_dts, to_stream):
                    dts = last_dts + 1
                    while _rescaled(dts, to_stream) <= _rescaled(last_dts, to_stream):
                        dts += 1
                    if pts is not None and dts > pts:
                        raise VsrkitError(f"{folder.output}: cannot join the segments: decoding order breaks at "
                                          f"{float(pts * time_base):.3f} s")
                last_dts = dts if dts is not None else last_dts
                duration = round(packet.duration * packet.time_base / time_base) if packet.duration else 0
                packet.pts, packet.dts, packet.duration = pts, dts, duration
                packet.time_base = time_base  # a relabel: the values are already in it
                yield packet


def _seconds(packet: av.Packet) -> float:
    stamp = packet.dts if packet.dts is not None else packet.pts
    return float(stamp * packet.time_base) if stamp is not None and packet.time_base else float("-inf")


def join_segments(
    folder: ResumeFolder, make: Callable[[av.stream.Stream], VideoOutput], source: VideoInput | None, *,
    start: float = 0.0, end: float | None = None, on_video_packet: Callable[[], None] | None = None,
) -> VideoOutput:
    """Copy the segments' video, in order, and ``source``'s other streams (the part in [start, end)) into the
    output that ``make(video_stream)`` opens, interleaved by time; returns it closed. ``on_video_packet`` is
    called after each video packet (a frame) is written."""
    paths = [folder.path / s.file for s in folder.segments]
    if not paths:
        raise VsrkitError(f"{folder.output}: no video was encoded")
    first = av.open(str(paths[0]))
    try:
        output = make(first.streams.video[0])
    except BaseException:
        first.close()
        raise
    try:
        video = _segment_packets(folder, output.time_base, output.stream.time_base)
        pending = next(video, None)

        def write_pending() -> None:
            nonlocal pending
            assert pending is not None
            output.mux_video(pending)
            pending = next(video, None)
            if on_video_packet is not None:
                on_video_packet()

        def copy(packet: av.Packet) -> None:
            t = _seconds(packet)
            while pending is not None and _seconds(pending) <= t:
                write_pending()
            output.copy_packet(packet)

        if source is not None:
            source.packets(copy, start=start, end=end)
        while pending is not None:
            write_pending()
        output.close()
    except BaseException:
        output.abort()
        raise
    finally:
        first.close()
    return output
