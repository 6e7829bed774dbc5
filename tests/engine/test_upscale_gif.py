"""Animated GIF in and out of `vsrkit upscale`: a palette per frame (dithered, 256 colours), joins of resumable
segments that keep their colours, no audio or subtitles in a GIF (left out, and said), and no colour-matrix note for
RGB input."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import torch

from vsrkit.demo import scene, write_sample_video
from vsrkit.engine.upscaler import Upscaler
from vsrkit.io.frames import read_sequence


def _frames(path: Path) -> torch.Tensor:
    with av.open(str(path)) as c:
        rgb = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])
    return torch.from_numpy(rgb).permute(0, 3, 1, 2).float() / 255


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / (a - b).square().mean()))


def test_video_to_gif_keeps_every_frame_in_colour_across_segment_joins(tmp_path: Path) -> None:
    src = write_sample_video(tmp_path / "clip.mp4", scene(48, 32), frames=40, fps=25)  # with AAC sound
    reference = tmp_path / "frames"
    Upscaler("bicubic", device="cpu").upscale(src, reference, progress=False)
    # A segment every 32 frames: the second segment's first frame is joined after the first segment's last.
    summary = Upscaler("bicubic", device="cpu").upscale(src, tmp_path / "up.gif", progress=False,
                                                         checkpoint_seconds=0.0)
    assert summary.frames_out == 40
    assert "left out (a .gif holds pictures only): audio stream 1 (aac)" in summary.notes
    with av.open(str(tmp_path / "up.gif")) as c:
        assert [s.type for s in c.streams] == ["video"] and c.streams.video[0].codec_context.name == "gif"
        pts = [f.pts for f in c.decode(video=0)]
    assert pts == [4 * i for i in range(40)]  # 25 frames/s as GIF's centiseconds
    gif, png = _frames(tmp_path / "up.gif"), read_sequence(reference)
    per_frame = [_psnr(g, p) for g, p in zip(gif, png, strict=True)]
    # 256 colours per frame, dithered: close to the lossless frames everywhere, the frame after the join included.
    assert min(per_frame) > 35, per_frame


def test_gif_input_upscales_without_a_colour_matrix_note(tmp_path: Path) -> None:
    src = tmp_path / "anim.gif"
    with av.open(str(src), "w") as c:
        s = c.add_stream("gif", rate=10)
        s.width, s.height, s.pix_fmt = 32, 24, "rgb8"
        for i in range(6):
            img = np.zeros((24, 32, 3), np.uint8)
            img[:, 5 * i : 5 * i + 6] = (255, 128, 0)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="rgb8")
            frame.pts = i
            c.mux(s.encode(frame))
        c.mux(s.encode(None))
    summary = Upscaler("bicubic", device="cpu").upscale(src, tmp_path / "up.gif", progress=False)
    assert summary.frames_out == 6 and not any("colour matrix" in n for n in summary.notes)
    out = _frames(tmp_path / "up.gif")
    assert out.shape == (6, 3, 96, 128)
    # The orange bar moves 5 LR pixels a frame: its upscaled centre is orange in every frame.
    for i, frame in enumerate(out):
        centre = frame[:, 48, 4 * (5 * i + 3)]
        assert torch.allclose(centre, torch.tensor([1.0, 0.5, 0.0]), atol=0.08), (i, centre)
