"""PyAV I/O: colour matrices and ranges against the textbook formulas, timestamps, probing errors."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from av.video.reformatter import ColorRange, Colorspace

from vsrkit.demo import combed, flat, write_sample_video
from vsrkit.errors import InputError
from vsrkit.io.video import VideoInput, VideoOutput

# (Kr, Kb) of each matrix.
_K = {Colorspace.ITU709: (0.2126, 0.0722), Colorspace.ITU601: (0.299, 0.114)}


def _write_yuv444(path: Path, yuv: tuple[int, int, int], matrix: Colorspace, full: bool) -> None:
    """A lossless (FFV1) yuv444p clip with one flat YCbCr value, tagged with ``matrix``/range."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("ffv1", rate=25)
        s.width, s.height, s.pix_fmt = 16, 16, "yuv444p"
        s.codec_context.colorspace = 1 if matrix == Colorspace.ITU709 else 6
        s.codec_context.color_range = ColorRange.JPEG if full else ColorRange.MPEG
        for i in range(2):
            planes = np.stack([np.full((16, 16), v, np.uint8) for v in yuv])
            frame = av.VideoFrame.from_ndarray(planes, format="yuv444p")
            frame.colorspace = s.codec_context.colorspace
            frame.color_range = s.codec_context.color_range
            frame.pts = i
            c.mux(s.encode(frame))
        c.mux(s.encode(None))


def _textbook_rgb(yuv: tuple[int, int, int], matrix: Colorspace, full: bool) -> np.ndarray:
    kr, kb = _K[matrix]
    y, u, v = (float(x) for x in yuv)
    if full:
        yn, pb, pr = y / 255, (u - 128) / 255, (v - 128) / 255
    else:
        yn, pb, pr = (y - 16) / 219, (u - 128) / 224, (v - 128) / 224
    r = yn + 2 * (1 - kr) * pr
    b = yn + 2 * (1 - kb) * pb
    g = (yn - kr * r - kb * b) / (1 - kr - kb)
    return np.clip([r, g, b], 0, 1)


@pytest.mark.parametrize("matrix", [Colorspace.ITU709, Colorspace.ITU601])
@pytest.mark.parametrize("full", [False, True])
def test_decode_respects_matrix_and_range(tmp_path: Path, matrix: Colorspace, full: bool) -> None:
    yuv = (120, 90, 170)
    path = tmp_path / "flat.mkv"
    _write_yuv444(path, yuv, matrix, full)
    with VideoInput(path) as video:
        assert video.info.matrix == matrix and video.info.full_range == full
        rgb = next(video.frames())[0]
    got = rgb[:, 8, 8].numpy()
    np.testing.assert_allclose(got, _textbook_rgb(yuv, matrix, full), atol=1.01 / 255)
    # The two matrices really differ for this colour, so a wrong matrix would fail.
    other = Colorspace.ITU601 if matrix == Colorspace.ITU709 else Colorspace.ITU709
    assert np.abs(_textbook_rgb(yuv, other, full) - got).max() > 5 / 255


def test_encode_writes_the_matrix_it_tags(tmp_path: Path) -> None:
    # Write RGB through VideoOutput as BT.709 (no source: the default), read the YUV back raw and
    # compare with the textbook forward transform.
    path = tmp_path / "tagged.mkv"
    out = VideoOutput(path, width=16, height=16, time_base=Fraction(1, 25), rate=Fraction(25), codec="ffv1")
    colour = torch.tensor([0.8, 0.3, 0.1])
    for i in range(2):
        out.write(colour[:, None, None].expand(3, 16, 16), i, 1)
    out.close()
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
        assert frame.colorspace == 1 and frame.color_range == ColorRange.MPEG
        y = np.frombuffer(bytes(frame.planes[0]), np.uint8).reshape(-1, frame.planes[0].line_size)[8, 8]
    kr, kb = _K[Colorspace.ITU709]
    r, g, b = colour.tolist()
    expected_y = 16 + 219 * (kr * r + (1 - kr - kb) * g + kb * b)
    assert abs(int(y) - expected_y) <= 1


def test_timestamps_and_durations_of_vfr_file(tmp_path: Path) -> None:
    stamps = [0, 33, 100, 133, 300, 333]
    path = write_sample_video(tmp_path / "vfr.mkv", flat((10, 200, 90), 16, 16), frames=5,
                              timestamps=stamps, audio=False)
    with VideoInput(path) as video:
        got = [(float(p * video.info.time_base), float(d * video.info.time_base)) for _, p, d in video.frames()]
    assert [t for t, _ in got] == pytest.approx([s / 1000 for s in stamps[:-1]])
    assert [d for _, d in got] == pytest.approx([(b - a) / 1000 for a, b in itertools.pairwise(stamps)])


def test_repeated_and_decreasing_timestamps_are_moved_after_the_previous_frame(tmp_path: Path) -> None:
    # A broken remux: 40 twice, then 60 after 80. Matroska stores such stamps; MP4 muxers refuse them.
    path = write_sample_video(tmp_path / "dup.mkv", flat((10, 200, 90), 16, 16), frames=5,
                              timestamps=[0, 40, 40, 80, 60, 120], audio=False)
    with VideoInput(path) as video:
        stamps = [(pts, dur) for _, pts, dur in video.frames()]
        retimed = video.retimed
    assert [pts for pts, _ in stamps] == [0, 40, 41, 80, 81]
    assert [dur for _, dur in stamps[:-1]] == [40, 1, 39, 1]
    assert retimed == 2


def _combing(frame: torch.Tensor) -> float:
    """Mean distance of each line from the mean of its neighbours: large where the two fields disagree."""
    y = frame[0] * 255
    return float((y[1:-1] - (y[:-2] + y[2:]) / 2).abs().mean())


def test_interlaced_video_is_found_and_deinterlaced_frame_for_frame(tmp_path: Path) -> None:
    path = write_sample_video(tmp_path / "tv.mp4", combed(64, 48), frames=6, fps=25, audio=False, interlaced=True)
    with VideoInput(path) as video:
        assert video.info.field_order == "top field first"
        raw = list(video.frames())
    with VideoInput(path) as video:
        clean = list(video.frames(deinterlace=True))
    assert [(p, d) for _, p, d in clean] == [(p, d) for _, p, d in raw]
    assert min(_combing(f) for f, _, _ in raw) > 10
    assert max(_combing(f) for f, _, _ in clean) < 0.2 * min(_combing(f) for f, _, _ in raw)
    progressive = write_sample_video(tmp_path / "p.mp4", combed(64, 48), frames=3, fps=25, audio=False)
    with VideoInput(progressive) as video:
        assert video.info.field_order is None


def test_audio_packets_reach_the_callback(tmp_path: Path) -> None:
    path = write_sample_video(tmp_path / "a.mp4", flat((0, 0, 0), 16, 16), frames=5, fps=10, audio=True)
    kinds: list[str] = []
    with VideoInput(path) as video:
        assert video.info.copy_streams == ("audio:aac",)
        # Packets are only valid while the input is open: inspect them inside the callback.
        frames = sum(1 for _ in video.frames(lambda p: kinds.append(p.stream.type)))
    assert frames == 5 and len(kinds) > 5 and set(kinds) == {"audio"}


def test_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("hello, not a video\n" * 50)
    with pytest.raises(InputError, match="notes.mp4: not a readable video file"):
        VideoInput(path)


def test_truncated_file(tmp_path: Path) -> None:
    path = write_sample_video(tmp_path / "full.mp4", flat((1, 2, 3), 32, 32), frames=10, audio=False)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(InputError, match="cut.mp4"), VideoInput(cut) as video:
        list(video.frames())


def test_audio_only_file(tmp_path: Path) -> None:
    path = tmp_path / "sound.m4a"
    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("aac", rate=48000)
        s.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 48000, 0
        c.mux(s.encode(frame))
        c.mux(s.encode(None))
    with pytest.raises(InputError, match="no video stream"):
        VideoInput(path)


def test_zero_frames(tmp_path: Path) -> None:
    path = tmp_path / "empty.mkv"
    with av.open(str(path), "w") as c:
        s = c.add_stream("ffv1", rate=25)
        s.width, s.height, s.pix_fmt = 16, 16, "yuv420p"
        c.mux(s.encode(None))
    with pytest.raises(InputError, match="zero"), VideoInput(path) as video:
        list(video.frames())
