"""An interrupted video upscale keeps its finished segments, and the same command continues after them
(vsrkit.io.resume): the joined output equals an uninterrupted run's, with the audio and timestamps intact."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
from collections.abc import Iterator
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest
from torch import Tensor

from vsrkit.cli.main import main
from vsrkit.engine import upscaler as upscaler_module
from vsrkit.engine.upscaler import Interrupted, Upscaler
from vsrkit.errors import VsrkitError

FRAMES = 100  # segments close after MIN_SEGMENT_FRAMES (32) frames at the earliest


def _film(path: Path) -> Path:
    """An H.264 film with moving content, variable frame durations and AAC audio over its whole length."""
    rng = np.random.default_rng(0)
    texture = (rng.random((24, 160, 3)) * 255).astype(np.uint8)
    with av.open(str(path), "w") as c:
        video = c.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 32, 24, "yuv420p"
        video.time_base = Fraction(1, 1000)
        sound = c.add_stream("aac", rate=8000)
        sound.layout = "mono"
        pts = 0
        for i in range(FRAMES):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(np.roll(texture, i, axis=1)[:, :32]), format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            c.mux(video.encode(frame))
            pts += 40 if i % 3 else 60  # variable frame rate: the timestamps must survive the join
        c.mux(video.encode(None))
        for i in range(pts * 8 // 1024 + 1):
            tone = np.sin(np.arange(i * 1024, (i + 1) * 1024) * 0.05).astype(np.float32)[None]
            samples = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            samples.sample_rate, samples.pts = 8000, i * 1024
            c.mux(sound.encode(samples))
        c.mux(sound.encode(None))
    return path


class _StopsAfter(Upscaler):
    """Ctrl-C (or ``error``) after ``frames`` outputs, raised where the model runs, as a real Ctrl-C mostly is."""

    def __init__(self, frames: int, error: type[BaseException] | BaseException = KeyboardInterrupt) -> None:
        super().__init__("bicubic", device="cpu")
        self.frames, self.error = frames, error

    def _outputs(self, frames, **kwargs):  # type: ignore[no-untyped-def, override]
        for i, out in enumerate(super()._outputs(frames, **kwargs)):
            if i == self.frames:
                raise self.error
            yield out


def _decoded(path: Path) -> tuple[list[np.ndarray], list[int]]:
    with av.open(str(path)) as c:
        frames = list(c.decode(video=0))
        return [f.to_ndarray(format="yuv420p") for f in frames], [int(f.pts * f.time_base * 1000) for f in frames]


def _audio(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(audio=0) if p.size]


def _upscale(upscaler: Upscaler, src: Path, dst: Path, **options):
    # Lossless, and a segment after every input frame: the joined pictures can be compared exactly.
    return upscaler.upscale(src, dst, progress=False, codec="libx264", crf=0, checkpoint_seconds=0, **options)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_interrupted_run_continues_to_the_uninterrupted_output(tmp_path: Path, suffix: str) -> None:
    src = _film(tmp_path / "film.mp4")
    whole = tmp_path / f"whole{suffix}"
    _upscale(Upscaler("bicubic", device="cpu"), src, whole)

    dst = tmp_path / f"out{suffix}"
    kept = tmp_path / f".out{suffix}.vsrkit-resume"
    with pytest.raises(Interrupted) as stop:
        _upscale(_StopsAfter(70), src, dst)
    # Two segments of 32 frames finished; the third, 6 frames in, is dropped.
    assert stop.value.kept == kept and stop.value.frames_done == 64 and stop.value.total == FRAMES
    assert "64 of 100 input frames are kept" in stop.value.message() and "same command" in stop.value.message()
    assert not dst.exists() and len(list(kept.glob("0*"))) == 2
    # What a SIGKILL during the next segment would have left beside them: not listed, so not used.
    (kept / "00002.mp4").write_bytes(b"half a segment")

    summary = _upscale(Upscaler("bicubic", device="cpu"), src, dst)
    assert (summary.frames_resumed, summary.frames_in, summary.frames_out) == (64, FRAMES, FRAMES)
    assert any("resumed after input frame 64" in note for note in summary.notes)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["film.mp4", whole.name, dst.name])
    pictures, stamps = _decoded(dst)
    whole_pictures, whole_stamps = _decoded(whole)
    source_stamps = _decoded(src)[1]
    assert len({b - a for a, b in pairwise(source_stamps)}) > 1  # the input is VFR
    # (Matroska starts the video where the AAC priming ends, as an uninterrupted run does: the same timeline.)
    assert stamps == whole_stamps and [t - stamps[0] for t in stamps] == [t - source_stamps[0] for t in source_stamps]
    assert all(np.array_equal(a, b) for a, b in zip(pictures, whole_pictures, strict=True))
    assert _audio(dst) == _audio(whole) == _audio(src)


def test_other_settings_are_refused_and_no_resume_starts_over(tmp_path: Path) -> None:
    src = _film(tmp_path / "film.mp4")
    dst = tmp_path / "out.mkv"
    with pytest.raises(Interrupted):
        _upscale(_StopsAfter(40), src, dst)
    kept = tmp_path / ".out.mkv.vsrkit-resume"
    manifest = (kept / "manifest.json").read_text()
    with pytest.raises(VsrkitError, match=r"out\.mkv: an interrupted run with other settings \(crf\) is kept in .*--no-resume"):
        Upscaler("bicubic", device="cpu").upscale(src, dst, progress=False, codec="libx264", crf=10)
    # Refused, the other run's progress is untouched.
    assert not dst.exists() and (kept / "manifest.json").read_text() == manifest and len(list(kept.glob("0*"))) == 1
    # A crash of the run that resumes it keeps what both did; a full disk too, and says so. (The resumed runs
    # start at frame 32 - 16, then 64 - 16: the warm-up.)
    with pytest.raises(MemoryError):
        _upscale(_StopsAfter(50, MemoryError), src, dst)
    assert json.loads((kept / "manifest.json").read_text())["segments"][-1]["frames_in"] == 64
    with pytest.raises(VsrkitError, match=r"out\.mkv: writing failed \(No space left on device\); 96 input frames are kept"):
        _upscale(_StopsAfter(49, OSError(errno.ENOSPC, "No space left on device")), src, dst)
    # An input changed since (another file under the same name) is not continued.
    os.utime(src, ns=(src.stat().st_atime_ns, src.stat().st_mtime_ns + 10**9))
    with pytest.raises(VsrkitError, match=r"other settings \(input_stamp\)"):
        _upscale(Upscaler("bicubic", device="cpu"), src, dst)
    summary = Upscaler("bicubic", device="cpu").upscale(src, dst, progress=False, codec="libx264", crf=10, resume=False)
    assert summary.frames_resumed == 0 and summary.frames_out == FRAMES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.mp4", "out.mkv"]


def test_interrupt_before_any_segment_keeps_nothing(tmp_path: Path) -> None:
    src = _film(tmp_path / "film.mp4")
    with pytest.raises(Interrupted) as stop:
        _StopsAfter(5).upscale(src, tmp_path / "out.mp4", progress=False)  # a segment per minute: none done
    assert stop.value.kept is None and "nothing written" in stop.value.message()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.mp4"]


def test_resumed_run_feeds_the_model_a_warm_up_before_the_kept_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A resumed run gives the model RESUME_WARMUP frames before the first it writes (recurrent state, chunk
    context), and decodes but does not upscale the rest of the kept part."""
    monkeypatch.setattr(upscaler_module, "RESUME_WARMUP", 4)
    src = _film(tmp_path / "film.mp4")
    seen: list[int] = []

    def counted(frames: Iterator[Tensor]) -> Iterator[Tensor]:
        for frame in frames:
            seen.append(1)
            yield frame

    class Counting(Upscaler):
        def _stream_steps(self, source):  # type: ignore[no-untyped-def, override]
            return super()._stream_steps(counted(source))

        def _stream_chunks(self, source):  # type: ignore[no-untyped-def, override]
            return super()._stream_chunks(counted(source))

    with pytest.raises(Interrupted):
        _upscale(_StopsAfter(40), src, tmp_path / "out.mkv")
    _upscale(Counting("bicubic", device="cpu"), src, tmp_path / "out.mkv")
    assert len(seen) == FRAMES - 32 + 4


def test_cli_says_where_the_progress_is_and_exits_130(tmp_path: Path, monkeypatch, capsys) -> None:
    src = _film(tmp_path / "film.mp4")
    original = Upscaler.upscale

    def interrupted(self, *args, **kwargs):
        return original(_StopsAfter(40), *args, **{**kwargs, "checkpoint_seconds": 0.0})

    monkeypatch.setattr(Upscaler, "upscale", interrupted)
    monkeypatch.setattr(sys, "argv", ["vsrkit", "upscale", str(src), str(tmp_path / "out.mp4"), "--model", "bicubic"])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 130
    assert "out.mp4: interrupted; 32 of 100 input frames are kept in" in err and "same command" in err
    assert (tmp_path / ".out.mp4.vsrkit-resume" / "manifest.json").is_file()


@pytest.mark.parametrize("suffix", [".avi", ".ts", ".mov", ".flv"])
def test_many_segments_join_into_what_one_piece_gives(tmp_path: Path, suffix: str) -> None:
    """Segments are MP4 whatever the output (timestamps kept as encoded); the joint restores each segment's start,
    keeps decoding timestamps increasing where a variable-rate encoder's first ones meet the previous segment's
    last, and for AVI turns H.264 into start-code form. Lossless H.264 with B-frames, a VFR input with audio."""
    src = _film(tmp_path / "film.mp4")
    one = tmp_path / f"one{suffix}"
    Upscaler("bicubic", device="cpu").upscale(src, one, progress=False, codec="libx264", crf=0)
    many = tmp_path / f"many{suffix}"
    _upscale(Upscaler("bicubic", device="cpu"), src, many)  # a segment every 32 frames: 4 of them
    pictures, stamps = _decoded(many)
    one_pictures, one_stamps = _decoded(one)
    assert len(stamps) == FRAMES and stamps == one_stamps
    assert all(np.array_equal(a, b) for a, b in zip(pictures, one_pictures, strict=True))
    assert _audio(many) == _audio(one)


def test_frame_folder_output_resumes_too(tmp_path: Path) -> None:
    src = _film(tmp_path / "film.mp4")
    whole = tmp_path / "whole"
    Upscaler("bicubic", device="cpu").upscale(src, whole, progress=False)
    dst = tmp_path / "frames"
    with pytest.raises(Interrupted) as stop:
        _StopsAfter(45).upscale(src, dst, progress=False, checkpoint_seconds=0)
    # Frames need no minimum: a segment per input frame here.
    assert stop.value.frames_done == 45 and not dst.exists()
    summary = Upscaler("bicubic", device="cpu").upscale(src, dst, progress=False, checkpoint_seconds=0)
    assert (summary.frames_resumed, summary.frames_out) == (45, FRAMES)
    names = sorted(p.name for p in dst.iterdir())
    assert names == [f"{i:08d}.png" for i in range(FRAMES)] == sorted(p.name for p in whole.iterdir())
    assert all((dst / n).read_bytes() == (whole / n).read_bytes() for n in names)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.mp4", "frames", "whole"]


def test_a_second_run_over_the_same_output_is_refused_while_the_first_writes(tmp_path: Path) -> None:
    from vsrkit.io.resume import ResumeFolder

    src = _film(tmp_path / "film.mp4")
    dst = tmp_path / "out.mkv"
    first = ResumeFolder(dst, {"a": 1})
    first.open(resume=True)  # what a run holds while it writes
    with pytest.raises(VsrkitError, match=r"out\.mkv: another run is writing this output now"):
        Upscaler("bicubic", device="cpu").upscale(src, dst, progress=False)
    assert (first.path / "manifest.json").is_file() and not dst.exists()
    first.release()
    assert Upscaler("bicubic", device="cpu").upscale(src, dst, resume=False, progress=False).frames_out == FRAMES
    assert not first.path.exists()


def test_interrupted_while_joining_keeps_every_segment_and_the_next_run_only_joins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _film(tmp_path / "film.mp4")
    dst = tmp_path / "out.mp4"
    join = upscaler_module.join_segments

    def interrupted_join(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(upscaler_module, "join_segments", interrupted_join)
    with pytest.raises(Interrupted) as stop:
        _upscale(Upscaler("bicubic", device="cpu"), src, dst)
    assert stop.value.frames_done == FRAMES and not dst.exists()
    monkeypatch.setattr(upscaler_module, "join_segments", join)
    summary = _upscale(Upscaler("bicubic", device="cpu"), src, dst)
    assert (summary.frames_resumed, summary.frames_out) == (FRAMES, FRAMES)
    assert len(_decoded(dst)[0]) == FRAMES and _audio(dst) == _audio(src)


def test_cli_refuses_a_kept_run_with_other_settings_in_one_line_and_no_resume_starts_over(
    tmp_path: Path, vsrkit_cli
) -> None:
    src = _film(tmp_path / "film.mp4")
    dst = tmp_path / "out.mp4"
    with pytest.raises(Interrupted):
        _upscale(_StopsAfter(40), src, dst)  # CRF 0: the CLI's default is 18

    def cli(*extra: str) -> tuple[int, str, str]:
        return vsrkit_cli("upscale", src, dst, "--model", "bicubic", "--codec", "libx264", *extra)

    code, _, err = cli()
    assert code == 2 and err.count("\n") == 1 and "other settings (crf)" in err and "--no-resume" in err
    assert not dst.exists()
    code, out, err = cli("--no-resume")
    assert code == 0 and "wrote" in out and "resumed" not in out
    code, out, _ = cli("--crf", "0")  # the output exists now; nothing kept: a fresh run
    assert code == 0 and "resumed" not in out


def test_the_joint_shows_its_progress_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bars: dict[str, list[int | None]] = {}

    @contextlib.contextmanager
    def recording(enabled, total, label, done=0):  # type: ignore[no-untyped-def]
        bars[label] = [total, done]

        def advance() -> None:
            bars[label][1] += 1  # type: ignore[operator]

        yield advance

    monkeypatch.setattr(upscaler_module, "_progress", recording)
    _upscale(Upscaler("bicubic", device="cpu"), _film(tmp_path / "film.mp4"), tmp_path / "out.mkv")
    assert bars == {"film.mp4": [FRAMES, FRAMES], "joining out.mkv": [FRAMES, FRAMES]}
