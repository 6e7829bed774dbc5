"""``vsrkit upscale``: bad input gives one line on stderr, exit code 2 and no output file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

from vsrkit.cli.main import main
from vsrkit.demo import flat, scene, write_sample_video
from vsrkit.io import video as video_module
from vsrkit.io.video import VideoInput


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["vsrkit", "upscale", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _png(path: Path, w: int, h: int) -> None:
    Image.fromarray(np.full((h, w, 3), 128, np.uint8)).save(path)


def _not_a_video(d: Path) -> Path:
    p = d / "text.mp4"
    p.write_text("definitely not a video\n" * 100)
    return p


def _truncated(d: Path) -> Path:
    full = write_sample_video(d / "full.mp4", flat((9, 9, 9), 32, 32), frames=8, audio=True)
    cut = d / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size * 2 // 3])
    full.unlink()
    return cut


def _zero_frames(d: Path) -> Path:
    p = d / "empty.mkv"
    with av.open(str(p), "w") as c:
        s = c.add_stream("ffv1", rate=25)
        s.width, s.height, s.pix_fmt = 16, 16, "yuv420p"
        c.mux(s.encode(None))
    return p


def _audio_only(d: Path) -> Path:
    p = d / "sound.mkv"
    with av.open(str(p), "w") as c:
        s = c.add_stream("aac", rate=48000)
        s.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 48000, 0
        c.mux(s.encode(frame))
        c.mux(s.encode(None))
    return p


def _mixed_sizes(d: Path) -> Path:
    folder = d / "mixed"
    folder.mkdir()
    _png(folder / "0001.png", 32, 24)
    _png(folder / "0002.png", 31, 24)
    return folder


def _tiny_frames(d: Path) -> Path:
    folder = d / "tiny"
    folder.mkdir()
    for i in range(3):
        _png(folder / f"{i}.png", 1, 1)
    return folder


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_not_a_video, "not a readable video"),
        (_truncated, "cut.mp4"),
        (_zero_frames, "zero"),
        (_audio_only, "no video stream"),
        (_mixed_sizes, "differs from the sequence"),
        (_tiny_frames, "minimum"),
    ],
    ids=["not-a-video", "truncated", "zero-frames", "audio-only", "odd-frame-sizes", "1x1-frames"],
)
def test_bad_input(tmp_path: Path, monkeypatch, capsys, make, message: str) -> None:
    src = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = run(monkeypatch, capsys, str(src), str(tmp_path / "out.mp4"), "--quiet")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    "where", ["missing-folder", "parent-is-a-file", "same-as-input", "unknown-suffix", "unwritable-folder",
              "audio-the-container-refuses"],
)
def test_bad_output(tmp_path: Path, monkeypatch, capsys, where: str) -> None:
    src = write_sample_video(tmp_path / "in.mp4", flat((50, 100, 150), 16, 16), frames=3, audio=True)
    (tmp_path / "file").write_text("x")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    dst = {
        "missing-folder": tmp_path / "no" / "such" / "out.mp4",
        "parent-is-a-file": tmp_path / "file" / "out.mp4",
        "same-as-input": src,
        "unknown-suffix": tmp_path / "out.xyz",
        # Root writes into a 0o555 folder anyway; nobody writes into /proc.
        "unwritable-folder": Path("/proc/out.mp4") if os.geteuid() == 0 else locked / "out.mp4",
        # WebM takes Opus/Vorbis only, and here no Opus encoder to re-encode the AAC with: refused before any frame
        # is upscaled, not after.
        "audio-the-container-refuses": tmp_path / "out.webm",
    }[where]
    if where == "audio-the-container-refuses":
        monkeypatch.setitem(video_module.AUDIO_FALLBACK_CODECS, ".webm", "no-such-encoder")
    before = {p.name: p.stat().st_size for p in tmp_path.iterdir()}
    code, _, err = run(monkeypatch, capsys, str(src), str(dst), "--quiet")
    locked.chmod(0o755)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"error: {dst}")
    assert {p.name: p.stat().st_size for p in tmp_path.iterdir()} == before
    assert list(locked.iterdir()) == []


def test_odd_sized_video_upscales_with_summary(tmp_path: Path, monkeypatch, capsys) -> None:
    src = tmp_path / "odd"
    src.mkdir()
    for i in range(3):
        Image.fromarray(scene(33, 17, supersample=1)(i)).save(src / f"f{i}.png")
    dst = tmp_path / "odd.mkv"
    code, out, err = run(monkeypatch, capsys, str(src), str(dst), "--model", "bicubic", "--fps", "10")
    assert code == 0, err
    assert out.startswith(f"wrote {dst}: 3 frames 33x17 -> 132x68")
    with VideoInput(dst) as video:
        assert (video.info.width, video.info.height, video.info.frames or 3) == (132, 68, 3)
        assert sum(1 for _ in video.frames()) == 3


def test_realworld_street_folder_and_mp4(tmp_path: Path, monkeypatch, capsys, shared) -> None:
    from vsrkit.io.frames import read_image

    street = shared("data", "lr_only", "realworld_street")
    # A few frames keep this fast; `vsrkit upscale` on the whole folder works the same way.
    frames = sorted(street.iterdir())[:3]
    folder = tmp_path / "street"
    folder.mkdir()
    for p in frames:
        (folder / p.name).symlink_to(p)
    out_a = tmp_path / "from_folder.mp4"
    code, _, err = run(monkeypatch, capsys, str(folder), str(out_a), "--quiet")
    assert code == 0, err
    mp4 = write_sample_video(
        tmp_path / "street.mp4", lambda t: (read_image(frames[t]) * 255).round().astype(np.uint8),
        frames=len(frames), fps=25, audio=True,
    )
    out_b = tmp_path / "from_mp4.mkv"
    code, _, err = run(monkeypatch, capsys, str(mp4), str(out_b), "--quiet", "--tile", "200", "--tile-overlap", "8")
    assert code == 0, err
    for path in (out_a, out_b):
        with VideoInput(path) as video:
            assert (video.info.width, video.info.height) == (2560, 1440)
            assert sum(1 for _ in video.frames()) == 3


def test_negative_warmup_is_refused_before_anything_is_written(tmp_path: Path, monkeypatch, capsys) -> None:
    src = write_sample_video(tmp_path / "in.mp4", flat((50, 100, 150), 16, 16), frames=3)
    dst = tmp_path / "out.mp4"
    code, _, err = run(monkeypatch, capsys, str(src), str(dst), "--model", "bicubic", "--warmup", "-1", "--quiet")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "warm-up must be >= 0" in err
    assert not dst.exists()


def test_self_ensemble_size_is_checked_and_used(tmp_path: Path, monkeypatch, capsys) -> None:
    src = write_sample_video(tmp_path / "in.mp4", flat((50, 100, 150), 16, 16), frames=3)
    bad = tmp_path / "bad.mp4"
    code, _, err = run(monkeypatch, capsys, str(src), str(bad), "--model", "bicubic", "--self-ensemble", "3", "--quiet")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "--self-ensemble must be one of 1, 2, 4, 8, got 3" in err
    assert not bad.exists()
    good = tmp_path / "good.mp4"
    code, out, err = run(monkeypatch, capsys, str(src), str(good), "--model", "bicubic", "--self-ensemble", "2")
    assert code == 0, err
    assert "model bicubic x2 self-ensemble" in out + err and good.exists()


def test_encoder_preset_is_used_and_checked(tmp_path: Path, monkeypatch, capsys) -> None:
    src = write_sample_video(tmp_path / "in.mp4", flat((50, 100, 150), 16, 16), frames=3)
    bad = tmp_path / "bad.mp4"
    code, _, err = run(monkeypatch, capsys, str(src), str(bad), "--model", "bicubic", "--preset", "warp9", "--quiet")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--preset 'warp9'" in err
    assert not bad.exists()
    good = tmp_path / "good.mp4"
    code, _, err = run(monkeypatch, capsys, str(src), str(good), "--model", "bicubic", "--preset", "ultrafast", "--quiet")
    assert code == 0, err
    with av.open(str(good)) as container:
        # x264 writes its settings into the stream's SEI; the preset shows as its option values.
        first = next(container.demux(video=0))
        assert b"x264" in bytes(first)
        assert b"subme=0 " in bytes(first)  # ultrafast's subpixel refinement; the default veryfast writes subme=2


def test_slow_precision_is_said_before_the_run(tmp_path: Path, monkeypatch, capsys) -> None:
    import vsrkit.engine.device as device_module

    monkeypatch.setattr(device_module, "onednn_supports", lambda dtype: dtype == torch.float32)
    src = write_sample_video(tmp_path / "in.mp4", flat((50, 100, 150), 16, 16), frames=3)
    dst = tmp_path / "out.mp4"
    code, _, err = run(monkeypatch, capsys, str(src), str(dst), "--model", "default-causal", "--precision", "bf16",
                       "--quiet")
    assert code == 0, err
    assert dst.exists()
    assert err.count("warning: bf16 on this CPU has no native kernels") == 2  # before the run, and in the summary


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--size", "301x200"], "output size 301x200 is odd"),
        (["--scale", "2", "--size", "64x64"], "give --scale or --size, not both"),
        (["--size", "wide"], "--size must be WIDTHxHEIGHT"),
        (["--scale", "-1"], "--scale must be > 0"),
    ],
)
def test_bad_output_size_is_one_line_and_leaves_nothing(
    tmp_path: Path, monkeypatch, capsys, options: list[str], message: str
) -> None:
    src = write_sample_video(tmp_path / "in.mp4", flat((90, 120, 30), 16, 16), frames=2, audio=False)
    dst = tmp_path / "out.mp4"
    code, _, err = run(monkeypatch, capsys, str(src), str(dst), "--model", "bicubic", "--quiet", *options)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_output_size_options_reach_the_file(tmp_path: Path, monkeypatch, capsys) -> None:
    src = write_sample_video(tmp_path / "in.mp4", scene(40, 30), frames=3, audio=False)
    for options, size in ((["--scale", "2"], (80, 60)), (["--size", "100x-1"], (100, 76)), ([], (160, 120))):
        dst = tmp_path / "out.mp4"
        code, out, _ = run(monkeypatch, capsys, str(src), str(dst), "--model", "bicubic", *options)
        assert code == 0 and f"-> {size[0]}x{size[1]}" in out
        with VideoInput(dst) as video:
            assert (video.info.width, video.info.height) == size
        dst.unlink()


@pytest.mark.parametrize(
    ("options", "message"),
    [(["--start", "5"], "--start 5 s is past the end of the video"),
     (["--start", "1:xx"], "--start must be seconds or [HH:]MM:SS"),
     (["--duration", "0"], "--duration > 0")],
)
def test_bad_start_or_duration_is_one_line_and_leaves_nothing(
    tmp_path: Path, monkeypatch, capsys, options: list[str], message: str
) -> None:
    src = write_sample_video(tmp_path / "in.mp4", flat((90, 120, 30), 16, 16), frames=4, audio=False)
    code, _, err = run(monkeypatch, capsys, str(src), str(tmp_path / "out.mp4"), "--model", "bicubic", *options)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]
