"""`vsrkit upscale` keeps what the input carries besides pictures: rotation (display matrix), tags,
timecode, data streams and attachments; it says in one warning line what a container cannot hold;
and a killed run's leftovers never block or leak into the next run."""

from __future__ import annotations

import os
import signal
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from vsrkit.demo import scene, write_sample_video
from vsrkit.engine.upscaler import Upscaler
from vsrkit.errors import VsrkitError
from vsrkit.io.video import VideoInput

FONT = b"OTTO" + bytes(range(256)) * 3


def _make(
    path: Path, *, frames: int = 3, w: int = 32, h: int = 16, rotation: float | None = None, hflip: bool = False,
    timecode: str | None = None, font: bool = False, klv: bool = False,
) -> Path:
    """A tiny H.264 file; what else it carries is what the test asks for."""
    with av.open(str(path), "w") as c:
        c.metadata["title"] = "holiday"
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        if rotation is not None:
            s.set_display_rotation(rotation, hflip=hflip)
        if timecode:
            s.metadata["timecode"] = timecode
        if font:
            c.add_attachment("subs.otf", "font/otf", FONT)
        data = c.add_data_stream("klv") if klv else None
        for i in range(frames):
            # Left half dark, right half bright: a swapped or rotated picture would show.
            img = np.zeros((h, w, 3), np.uint8)
            img[:, w // 2 :] = 200 + i
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            c.mux(s.encode(frame))
            if data is not None:
                packet = av.Packet(b"KLV%03d" % i)
                packet.stream, packet.pts, packet.dts, packet.time_base = data, i * 40, i * 40, Fraction(1, 1000)
                c.mux(packet)
        c.mux(s.encode(None))
    return path


def _first_frame(path: Path) -> tuple[bytes | None, int, np.ndarray]:
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
        matrix = next((bytes(sd) for sd in frame.side_data if sd.type.name == "DISPLAYMATRIX"), None)
        return matrix, frame.rotation, frame.to_ndarray(format="rgb24")


def _upscale(src: Path, dst: Path):
    return Upscaler("bicubic", device="cpu").upscale(src, dst, progress=False)


@pytest.mark.parametrize(("rotation", "hflip", "suffix"), [(90, False, ".mp4"), (-90, True, ".mkv"), (180, False, ".mov")])
def test_rotation_matrix_and_tags_are_kept(tmp_path: Path, rotation: float, hflip: bool, suffix: str) -> None:
    src = _make(tmp_path / "phone.mp4", rotation=rotation, hflip=hflip)
    matrix_in, rot_in, _ = _first_frame(src)
    assert matrix_in is not None and rot_in % 360 == rotation % 360
    with VideoInput(src) as video:
        assert video.info.rotation == rotation % 360

    dst = tmp_path / f"up{suffix}"
    summary = _upscale(src, dst)
    assert summary.warnings == ()
    matrix_out, rot_out, pixels = _first_frame(dst)
    assert matrix_out == matrix_in and rot_out == rot_in
    # Frames stay in coded orientation (players rotate): 32x16 -> 128x64, dark left, bright right.
    assert pixels.shape == (64, 128, 3)
    assert pixels[:, :48].mean() < 30 and pixels[:, 80:].mean() > 170
    with av.open(str(dst)) as c:
        assert c.metadata.get("title") == "holiday"


def test_unrotated_input_gets_no_matrix(tmp_path: Path) -> None:
    src = _make(tmp_path / "plain.mp4")
    dst = tmp_path / "up.mp4"
    assert _upscale(src, dst).warnings == ()
    assert _first_frame(dst)[0] is None


def test_rotation_an_avi_cannot_hold_is_named_in_a_warning(tmp_path: Path) -> None:
    src = _make(tmp_path / "phone.mp4", rotation=90)
    dst = tmp_path / "up.avi"
    summary = _upscale(src, dst)
    assert summary.frames_out == 3 and dst.is_file()
    assert len(summary.warnings) == 1 and "rotation (90 degrees)" in summary.warnings[0]


def test_rotation_into_a_frame_folder_is_named_in_a_warning(tmp_path: Path) -> None:
    src = _make(tmp_path / "phone.mp4", rotation=270)
    summary = _upscale(src, tmp_path / "frames")
    assert len(list((tmp_path / "frames").iterdir())) == 3
    assert len(summary.warnings) == 1 and "rotation (270 degrees)" in summary.warnings[0]


def test_mov_timecode_track_is_rebuilt_and_kept_as_a_tag_in_mkv(tmp_path: Path) -> None:
    src = _make(tmp_path / "cam.mov", timecode="10:20:30:12")
    with av.open(str(src)) as c:
        assert [s.type for s in c.streams] == ["video", "data"]  # the tmcd track
    mov = tmp_path / "up.mov"
    assert _upscale(src, mov).warnings == ()
    with av.open(str(mov)) as c:
        assert [s.type for s in c.streams] == ["video", "data"]
        assert c.streams.data[0].metadata.get("timecode") == "10:20:30:12"
    mkv = tmp_path / "up.mkv"
    assert _upscale(src, mkv).warnings == ()
    with av.open(str(mkv)) as c:
        assert c.streams.video[0].metadata.get("TIMECODE") == "10:20:30:12"


def test_data_stream_is_copied_where_it_fits_and_dropped_with_a_warning_elsewhere(tmp_path: Path) -> None:
    src = _make(tmp_path / "drone.ts", frames=12, klv=True)
    with VideoInput(src) as video:
        assert video.info.extra_streams == ("data stream 1 (klv)",)
    mov = tmp_path / "up.mov"
    summary = _upscale(src, mov)
    assert summary.warnings == () and "data stream 1 (klv)" in summary.copied_streams
    with av.open(str(mov)) as c:
        assert [bytes(p) for p in c.demux(data=0) if p.size] == [b"KLV%03d" % i for i in range(12)]
    mp4 = tmp_path / "up.mp4"
    summary = _upscale(src, mp4)
    assert summary.frames_out == 12
    assert len(summary.warnings) == 1 and "data stream 1 (klv)" in summary.warnings[0]
    with av.open(str(mp4)) as c:
        assert [s.type for s in c.streams] == ["video"]


def test_mp4_cover_art_is_kept_in_mp4_and_named_when_mkv_cannot_hold_it(tmp_path: Path) -> None:
    src = tmp_path / "song.mp4"
    with av.open(str(src), "w") as c:
        film = c.add_stream("libx264", rate=25)
        film.width, film.height, film.pix_fmt = 32, 16, "yuv420p"
        cover = c.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 16, 16, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        picture = av.VideoFrame.from_ndarray(np.full((16, 16, 3), 90, np.uint8), format="rgb24")
        picture = picture.reformat(format="yuvj420p")
        picture.pts = 0
        c.mux([*cover.encode(picture), *cover.encode(None)])
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((16, 32, 3), np.uint8), format="rgb24")
            frame.pts = i
            c.mux(film.encode(frame))
        c.mux(film.encode(None))

    def cover_bytes(path: Path) -> list[bytes]:
        with av.open(str(path)) as c:
            covers = [s for s in c.streams.video if s.disposition & av.stream.Disposition.attached_pic]
            return [bytes(p) for p in c.demux(covers) if p.size] if covers else []

    assert len(cover_bytes(src)) == 1
    mp4 = tmp_path / "up.mp4"
    summary = _upscale(src, mp4)
    # The film, not the cover, is what gets upscaled.
    assert summary.size_out == (64, 128) and summary.warnings == ()
    assert cover_bytes(mp4) == cover_bytes(src)
    summary = _upscale(src, tmp_path / "up.mkv")
    assert len(summary.warnings) == 1 and "cover art" in summary.warnings[0]


def test_cli_copies_fonts_into_mkv_and_warns_once_for_mp4(tmp_path: Path, vsrkit_cli) -> None:
    src = _make(tmp_path / "anime.mkv", font=True)

    def run(dst: Path) -> tuple[int, str]:
        code, _, err = vsrkit_cli("upscale", src, dst, "--model", "bicubic", "--quiet")
        return code, err

    code, err = run(tmp_path / "up.mkv")
    assert code == 0 and err == ""
    with av.open(str(tmp_path / "up.mkv")) as c:
        (att,) = c.streams.attachments
        assert att.metadata.get("filename") == "subs.otf" and att.mimetype == "font/otf" and att.data == FONT

    code, err = run(tmp_path / "up.mp4")
    assert code == 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: ") and "attachment subs.otf" in lines[0]
    with VideoInput(tmp_path / "up.mp4") as video:
        assert sum(1 for _ in video.frames()) == 3


def test_audio_language_title_and_default_flag_are_kept(tmp_path: Path) -> None:
    src = tmp_path / "dub.mkv"
    with av.open(str(src), "w") as c:
        video = c.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 16, 16, "yuv420p"
        tracks = []
        for lang, title, default in [("deu", "Kommentar", False), ("eng", None, True)]:
            a = c.add_stream("aac", rate=8000)
            a.layout = "mono"
            a.metadata["language"] = lang
            if title:
                a.metadata["title"] = title
            a.disposition = av.stream.Disposition.default if default else av.stream.Disposition(0)
            tracks.append(a)
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
            frame.pts = i
            c.mux(video.encode(frame))
        for a in tracks:
            for i in range(3):
                sound = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
                sound.sample_rate, sound.pts = 8000, i * 1024
                c.mux(a.encode(sound))
            c.mux(a.encode(None))
        c.mux(video.encode(None))

    def tracks_of(path: Path) -> list[tuple[str | None, str | None, bool]]:
        with av.open(str(path)) as c:
            return [(a.language, a.metadata.get("title"), bool(a.disposition & av.stream.Disposition.default))
                    for a in c.streams.audio]

    assert tracks_of(src) == [("deu", "Kommentar", False), ("eng", None, True)]
    dst = tmp_path / "up.mkv"
    assert _upscale(src, dst).warnings == ()
    assert tracks_of(dst) == tracks_of(src)


def test_stale_temporary_video_of_a_killed_run_is_replaced(tmp_path: Path) -> None:
    src = _make(tmp_path / "in.mp4")
    dst = tmp_path / "out.mp4"
    # What SIGKILL leaves: our half-written temporary file, and another output's (not ours to touch).
    ours = tmp_path / ".out.mp4.vsrkit-part.mp4"
    ours.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"junk" * 500)
    theirs = tmp_path / ".other.mp4.vsrkit-part.mp4"
    theirs.write_bytes(b"someone else's")
    summary = _upscale(src, dst)
    assert not ours.exists() and theirs.read_bytes() == b"someone else's"
    assert summary.frames_out == 3
    with VideoInput(dst) as video:
        assert (video.info.width, video.info.height) == (128, 64)
        assert sum(1 for _ in video.frames()) == 3


def test_stale_temporary_frame_folder_of_a_killed_run_is_replaced(tmp_path: Path) -> None:
    src = _make(tmp_path / "in.mp4")
    ours = tmp_path / ".frames.vsrkit-part"
    (ours / "sub").mkdir(parents=True)
    (ours / "00000007.png").write_bytes(b"half a png")
    theirs = tmp_path / ".frames2.vsrkit-part"
    theirs.mkdir()
    _upscale(src, tmp_path / "frames")
    assert not ours.exists() and theirs.is_dir()
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [f"{i:08d}.png" for i in range(3)]


def test_run_after_a_sigkilled_run_cleans_up_and_writes_the_output(tmp_path: Path) -> None:
    src = _make(tmp_path / "in.mp4", frames=4)
    dst = tmp_path / "out.mkv"
    # The segment being encoded (a video output is written in segments, joined at the end: vsrkit.io.resume).
    tmp = tmp_path / ".out.mkv.vsrkit-resume" / "00000.mp4"
    # A run that stops for good inside the model loop, after its temporary file exists. Forked, so
    # the child needs no fresh torch import (seconds on a busy machine).
    stuck = Upscaler("bicubic", device="cpu")
    stuck._compose = lambda *a: time.sleep(600)  # type: ignore[method-assign]
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        try:
            stuck.upscale(src, dst, progress=False)
        finally:
            os._exit(1)
    try:
        deadline = time.monotonic() + 60
        while not tmp.exists() and time.monotonic() < deadline and os.waitpid(pid, os.WNOHANG) == (0, 0):
            time.sleep(0.02)
        assert tmp.exists(), "the killed run never started writing"
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert tmp.exists() and not dst.exists()  # what SIGKILL leaves behind

    # The killed run finished no segment: the next run starts over and leaves nothing else behind.
    summary = _upscale(src, dst)
    assert not tmp.exists() and summary.frames_out == 4 and summary.frames_resumed == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "out.mkv"]
    with VideoInput(dst) as video:
        assert sum(1 for _ in video.frames()) == 4


# SMPTE ST 2086 for a P3-D65 display of 1000 cd/m² (x265 units: chromaticity / 0.00002, luminance / 0.0001).
MASTER_DISPLAY = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,50)"


def _make_hdr10(path: Path) -> Path:
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx265", rate=25)
        s.width, s.height, s.pix_fmt = 32, 16, "yuv420p10le"
        s.options = {"x265-params": "log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:"
                                    f"master-display={MASTER_DISPLAY}:max-cll=1000,400"}
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((16, 32, 3), 60 * i, np.uint8), format="rgb24")
            frame.pts = i
            c.mux(s.encode(frame))
        c.mux(s.encode(None))
    return path


def test_hdr10_metadata_is_read_kept_by_x265_and_warned_about_otherwise(tmp_path: Path) -> None:
    src = _make_hdr10(tmp_path / "hdr.mp4")
    with VideoInput(src) as video:
        hdr = video.info.hdr
    assert hdr is not None
    assert hdr.primaries is not None
    assert [c for xy in hdr.primaries for c in xy] == pytest.approx([0.68, 0.32, 0.265, 0.69, 0.15, 0.06])
    assert hdr.white_point == pytest.approx((0.3127, 0.329))
    assert hdr.luminance == pytest.approx((0.005, 1000.0))
    assert (hdr.max_cll, hdr.max_fall) == (1000, 400)

    kept = Upscaler("bicubic", device="cpu").upscale(src, tmp_path / "x265.mp4", codec="libx265", progress=False)
    with VideoInput(tmp_path / "x265.mp4") as video:
        assert video.info.hdr == hdr
        assert video.info.color_trc == 16  # SMPTE ST 2084 (PQ)
    assert not any("HDR10" in w for w in kept.warnings)

    dropped = Upscaler("bicubic", device="cpu").upscale(src, tmp_path / "x264.mp4", codec="libx264", progress=False)
    with VideoInput(tmp_path / "x264.mp4") as video:
        assert video.info.hdr is None
    assert [w for w in dropped.warnings if "HDR10 metadata" in w and "--codec" in w]


def test_hdr10_metadata_kept_by_svt_av1(tmp_path: Path) -> None:
    src = _make_hdr10(tmp_path / "hdr.mp4")
    summary = Upscaler("bicubic", device="cpu").upscale(src, tmp_path / "av1.mkv", codec="libsvtav1", progress=False)
    assert not any("HDR10" in w for w in summary.warnings)
    with VideoInput(src) as video:
        want = video.info.hdr
    with VideoInput(tmp_path / "av1.mkv") as video:
        got = video.info.hdr
    assert want is not None and got is not None and got.primaries is not None and want.primaries is not None
    # AV1 stores chromaticities in 0.16 and luminance in 24.8 / 18.14 fixed point.
    assert [c for xy in got.primaries for c in xy] == pytest.approx([c for xy in want.primaries for c in xy], abs=1e-4)
    assert got.luminance == pytest.approx(want.luminance, rel=1e-3)
    assert (got.max_cll, got.max_fall) == (want.max_cll, want.max_fall)


def test_size_is_the_displayed_size_of_a_turned_phone_video(tmp_path: Path) -> None:
    src = _make(tmp_path / "phone.mp4", w=32, h=16, rotation=90)  # coded 32x16, shown 16x32
    dst = tmp_path / "up.mp4"
    summary = Upscaler("bicubic", device="cpu").upscale(src, dst, size=(48, -1), progress=False)
    assert summary.size_out == (48, 96)  # coded (height, width): shown 48 wide, 96 tall
    with VideoInput(dst) as video:
        assert (video.info.width, video.info.height, video.info.rotation) == (96, 48, 90)
    plain = Upscaler("bicubic", device="cpu").upscale(_make(tmp_path / "flat.mp4", w=32, h=16), tmp_path / "f.mp4",
                                                      size=(48, -1), progress=False)
    assert plain.size_out == (24, 48)


def test_pixel_aspect_ratio_keeps_the_displayed_shape(tmp_path: Path) -> None:
    from vsrkit.demo import scene, write_sample_video

    dvd = Fraction(32, 27)  # 16:9 DVD pixels
    src = write_sample_video(tmp_path / "dvd.mp4", scene(72, 48), frames=2, audio=False, sample_aspect_ratio=dvd)
    with VideoInput(src) as video:
        assert video.info.sample_aspect_ratio == dvd
    upscaler = Upscaler("bicubic", device="cpu")

    def shown(path: Path) -> tuple[int, int, Fraction | None]:
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            return s.width, s.height, s.sample_aspect_ratio

    assert upscaler.upscale(src, tmp_path / "x4.mp4", progress=False).warnings == ()
    assert shown(tmp_path / "x4.mp4") == (288, 192, dvd)
    # -1 follows the displayed 16:9, so the frames come out with square pixels.
    upscaler.upscale(src, tmp_path / "hd.mp4", size=(-1, 108), progress=False)
    width, height, sar = shown(tmp_path / "hd.mp4")
    assert (width, height) == (192, 108) and sar in (None, Fraction(1))
    frames = upscaler.upscale(src, tmp_path / "frames", progress=False)
    assert [w for w in frames.warnings if "pixel aspect ratio 32:27" in w]
    webm = upscaler.upscale(src, tmp_path / "x4.webm", progress=False)  # VP9 in WebM has nowhere to keep it
    assert [w for w in webm.warnings if "pixel aspect ratio 32:27" in w]


def test_chapters_are_copied_and_named_where_they_cannot_go(tmp_path: Path) -> None:
    src = tmp_path / "film.mkv"
    marks = [("Intro", 0, 500), ("Main", 500, 1000)]
    with av.open(str(src), "w") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 32, 16, "yuv420p"
        c.set_chapters([{"id": i + 1, "start": a, "end": b, "time_base": Fraction(1, 1000), "metadata": {"title": t}}
                        for i, (t, a, b) in enumerate(marks)])
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((16, 32, 3), 20 * i, np.uint8), format="rgb24")
            frame.pts = i
            c.mux(s.encode(frame))
        c.mux(s.encode(None))
    upscaler = Upscaler("bicubic", device="cpu")
    for suffix in (".mp4", ".mkv"):
        dst = tmp_path / f"up{suffix}"
        assert upscaler.upscale(src, dst, progress=False).warnings == ()
        with av.open(str(dst)) as c:
            got = [(ch["metadata"].get("title"), round(float(ch["start"] * ch["time_base"]) * 1000)) for ch in c.chapters()]
        assert got == [(t, a) for t, a, _ in marks]
    ts = upscaler.upscale(src, tmp_path / "up.ts", progress=False)
    assert [w for w in ts.warnings if "2 of 2 chapters" in w]
    frames = upscaler.upscale(src, tmp_path / "frames", progress=False)
    assert [w for w in frames.warnings if "2 chapters" in w]


def test_deep_input_is_encoded_as_hevc_tagged_for_apple_players(tmp_path: Path) -> None:
    src = _make_hdr10(tmp_path / "hdr.mp4")
    summary = Upscaler("bicubic", device="cpu").upscale(src, tmp_path / "up.mp4", progress=False)
    assert any("encoded with libx265 (10-bit input" in n for n in summary.notes)
    with av.open(str(tmp_path / "up.mp4")) as c:
        ctx = c.streams.video[0].codec_context
        assert (ctx.name, ctx.codec_tag, ctx.pix_fmt) == ("hevc", "hvc1", "yuv420p10le")
    with VideoInput(tmp_path / "up.mp4") as video:
        assert video.info.hdr is not None  # HDR10 metadata comes along by default now
    # .m4v goes through FFmpeg's iPod muxer, which refuses HEVC: H.264 High 10 there.
    Upscaler("bicubic", device="cpu").upscale(src, tmp_path / "up.m4v", progress=False)
    with av.open(str(tmp_path / "up.m4v")) as c:
        assert (c.streams.video[0].codec_context.name, c.streams.video[0].codec_context.pix_fmt) == ("h264", "yuv420p10le")
    eight = _make(tmp_path / "eight.mp4")
    plain = Upscaler("bicubic", device="cpu").upscale(eight, tmp_path / "eight_up.mp4", progress=False)
    assert not any("encoded with" in n for n in plain.notes)
    with av.open(str(tmp_path / "eight_up.mp4")) as c:
        assert c.streams.video[0].codec_context.name == "h264"


def test_audio_a_container_refuses_is_reencoded_in_sync(tmp_path: Path) -> None:
    src = tmp_path / "cam.mov"
    rate = 44100
    tone = (np.sin(2 * np.pi * 440 * np.arange(rate) / rate) * 8000).astype(np.int16)[None]
    with av.open(str(src), "w") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 32, 16, "yuv420p"
        a = c.add_stream("pcm_s16le", rate=rate)
        a.layout = "mono"
        for i in range(20):
            frame = av.VideoFrame.from_ndarray(np.full((16, 32, 3), 10 * i, np.uint8), format="rgb24")
            frame.pts = i
            c.mux(s.encode(frame))
        c.mux(s.encode(None))
        sound = av.AudioFrame.from_ndarray(tone, format="s16", layout="mono")
        sound.sample_rate, sound.pts, sound.time_base = rate, rate // 2, Fraction(1, rate)  # starts at 0.5 s
        c.mux(a.encode(sound))
        c.mux(a.encode(None))
    summary = Upscaler("bicubic", device="cpu").upscale(src, tmp_path / "up.webm", progress=False)
    assert any("pcm_s16le) re-encoded as libopus" in n for n in summary.notes)
    assert "audio:pcm_s16le" not in summary.copied_streams
    with av.open(str(tmp_path / "up.webm")) as c:
        assert c.streams.audio[0].codec_context.name == "opus"
        frames = list(c.decode(audio=0))
    start = float(frames[0].pts * frames[0].time_base)
    samples = np.concatenate([f.to_ndarray().reshape(-1) for f in frames])
    assert abs(start - 0.5) < 0.02  # still half a second after the picture starts
    assert abs(len(samples) / frames[0].sample_rate - 1.0) < 0.05
    assert 0.2 < float(np.abs(samples).max()) < 0.3  # the tone (8000 / 32768), not silence
    # MP4 takes PCM as it is: copied, not re-encoded.
    copied = Upscaler("bicubic", device="cpu").upscale(src, tmp_path / "up.mp4", progress=False)
    assert "audio:pcm_s16le" in copied.copied_streams and not any("re-encoded" in n for n in copied.notes)


def test_aac_into_mpeg_program_stream_is_reencoded_as_mp2(tmp_path: Path) -> None:
    """MPEG-PS (.mpg) refuses AAC; it was an error ("try .mkv"), it is MPEG-1 Layer II now, as DVD-era players expect."""
    src = write_sample_video(tmp_path / "dub.mkv", scene(32, 16), frames=10, fps=25)  # with AAC sound
    summary = Upscaler("bicubic", device="cpu").upscale(src, tmp_path / "up.mpg", progress=False)
    assert any("(aac) re-encoded as mp2" in n for n in summary.notes) and summary.frames_out == 10
    # H.264 from the segments (MP4) is turned into start-code form, which MPEG-PS needs (else it reads as MP3).
    with av.open(str(tmp_path / "up.mpg")) as c:
        assert [s.codec_context.name for s in c.streams] == ["h264", "mp2"]
        assert sum(1 for _ in c.decode(video=0)) == 10


def _with_subtitles(path: Path, srt: str) -> Path:
    """A tiny H.264 file in ``path``'s container with ``srt`` (SubRip text) as a French subtitle track."""
    cues = path.with_suffix(".srt")
    cues.write_text(srt, encoding="utf-8")
    with av.open(str(cues)) as sub_in, av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 32, 16, "yuv420p"
        track = c.add_stream_from_template(sub_in.streams.subtitles[0])
        track.metadata["language"] = "fra"
        for i in range(20):
            frame = av.VideoFrame.from_ndarray(np.full((16, 32, 3), 10 * i, np.uint8), format="rgb24")
            frame.pts = i
            c.mux(s.encode(frame))
        c.mux(s.encode(None))
        for packet in sub_in.demux(sub_in.streams.subtitles[0]):
            if packet.size:
                packet.stream = track
                c.mux(packet)
    return path


def _cues(path: Path) -> tuple[str, str | None, list[tuple[int, int, str]]]:
    """(codec, language, [(start ms, duration ms, text)]) of the first subtitle track, empty gap-fillers left out."""
    with av.open(str(path)) as c:
        track = c.streams.subtitles[0]
        cues = []
        for packet in c.demux(track):
            texts = [r.dialogue.decode() for r in (packet.decode() if packet.size else [])]
            if any(texts):
                ms = float(packet.time_base * 1000)
                cues.append((round(packet.pts * ms), round(packet.duration * ms), " ".join(texts)))
        return track.codec_context.name, track.metadata.get("language"), cues


SRT = "1\n00:00:00,200 --> 00:00:01,000\nBonjour <i>monde</i>\n\n2\n00:00:01,200 --> 00:00:01,900\nDeux\nlignes\n"


def test_text_subtitles_a_container_refuses_are_converted_with_their_timing(tmp_path: Path) -> None:
    """SubRip from MKV into MP4 was an error ("try .mkv"); MP4 and MOV take mov_text, WebM WebVTT."""
    src = _with_subtitles(tmp_path / "film.mkv", SRT)
    expected = [(200, 800, "Bonjour monde"), (1200, 700, "Deux\nlignes")]
    for suffix, codec in ((".mp4", "mov_text"), (".webm", "webvtt"), (".mkv", "srt")):
        summary = _upscale(src, tmp_path / f"up{suffix}")
        assert summary.frames_out == 20
        name, language, cues = _cues(tmp_path / f"up{suffix}")
        assert (name, language) == (codec, "fra")
        assert [(start, length) for start, length, _ in cues] == [(200, 800), (1200, 700)]
        assert [text.replace("{\\i1}", "").replace("{\\i0}", "") for _, _, text in cues] == [t for _, _, t in expected]
        converted = [n for n in summary.notes if "converted to" in n]
        if suffix == ".mkv":  # taken as it is
            assert not converted and "subtitle:srt" in summary.copied_streams
        else:
            assert converted == [(f"subtitle stream 1 (srt) converted to {codec} ({suffix} cannot hold it; "
                                 "text and timing kept, styling may be simplified)")]
    # Back from mov_text: MKV cannot hold it, SubRip can.
    summary = _upscale(tmp_path / "up.mp4", tmp_path / "back.mkv")
    assert _cues(tmp_path / "back.mkv")[0] == "srt" and any("converted to subrip" in n for n in summary.notes)
    # AVI holds no text subtitles at all: refused before any work, naming the stream, nothing left behind.
    with pytest.raises(VsrkitError, match=r"up\.avi: cannot copy subtitle stream 1 \(srt\) into this container.*try \.mkv"):
        _upscale(src, tmp_path / "up.avi")
    assert not (tmp_path / "up.avi").exists()


def test_cli_leaves_subtitles_or_audio_out_when_asked(tmp_path: Path, vsrkit_cli) -> None:
    """AVI holds no subtitles: refused with a hint (exit 2, nothing written); --no-subtitles then writes the video
    with its sound and says what it left out; --no-audio leaves the sound out and keeps the subtitles."""
    src = _with_subtitles(tmp_path / "film.mkv", SRT)
    with av.open(str(src)) as c, av.open(str(tmp_path / "dub.mkv"), "w") as out:  # the same with a sound track
        streams = {s.index: out.add_stream_from_template(s) for s in c.streams}
        sound = out.add_stream("aac", rate=16000)
        sound.layout = "mono"
        for packet in c.demux():
            if packet.size:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
        tone = av.AudioFrame.from_ndarray(np.zeros((1, 16000), np.float32), format="fltp", layout="mono")
        tone.sample_rate, tone.pts = 16000, 0
        out.mux(sound.encode(tone))
        out.mux(sound.encode(None))
    src = tmp_path / "dub.mkv"

    def run(dst: Path, *flags: str) -> tuple[int, str, str]:
        return vsrkit_cli("upscale", src, dst, "--model", "bicubic", *flags)

    code, _, err = run(tmp_path / "up.avi")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--no-subtitles" in err
    assert not (tmp_path / "up.avi").exists()

    code, out, err = run(tmp_path / "up.avi", "--no-subtitles")
    assert code == 0 and "left out (as asked): subtitle stream 1 (srt)" in out
    with av.open(str(tmp_path / "up.avi")) as c:
        assert [s.type for s in c.streams] == ["video", "audio"]

    code, out, err = run(tmp_path / "up.mkv", "--no-audio")
    assert code == 0 and "left out (as asked): audio stream 2 (aac)" in out
    with av.open(str(tmp_path / "up.mkv")) as c:
        assert [s.type for s in c.streams] == ["video", "subtitle"]
    assert _cues(tmp_path / "up.mkv")[2][0] == (200, 800, "Bonjour {\\i1}monde{\\i0}")


def test_a_part_keeps_the_subtitle_on_screen_at_its_start_and_ends_cues_with_it(tmp_path: Path) -> None:
    """--start 0.5 falls inside the first cue (0.2-1.0 s): it is shown from 0 for the 0.5 s left; --duration 0.6 ends
    the second cue (1.2-1.9 s, at 0.7 s into the part) with the part. Before, a cue begun before the start was lost."""
    src = _with_subtitles(tmp_path / "film.mkv", SRT)
    for suffix in (".mkv", ".mp4"):
        Upscaler("bicubic", device="cpu").upscale(src, tmp_path / f"part{suffix}", progress=False, start=0.5,
                                                  duration=1.0)
        timing = [(begin, length) for begin, length, _ in _cues(tmp_path / f"part{suffix}")[2]]
        assert timing == [(0, 500), (700, 300)], suffix
