"""``python -m vsrkit.demo --out DIR``: synthesise a short clip, upscale it with the default model.

The clip is generated procedurally (moving text-like bars, a zone plate, a rotating star, a chirp
tone), so the project ships no media and needs no download. It is rendered at 2x the LR size and
reduced with the project's MATLAB-style bicubic, so it has real fine detail for SR to restore.
Outputs in DIR: ``sample_lr.mp4`` (the input), ``sample_x4.mp4`` (upscaled, audio copied) and
``compare.png`` (bicubic vs model on one frame).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch
from av.video.reformatter import ColorRange, Colorspace

from .layers.resize import imresize

Pattern = Callable[[int], np.ndarray]


def scene(width: int, height: int, *, supersample: int = 2) -> Pattern:
    """Frame ``t`` -> ``(height, width, 3)`` uint8 of the synthetic scene."""
    hh, ww = height * supersample, width * supersample
    yy, xx = torch.meshgrid(
        torch.linspace(-1, 1, hh), torch.linspace(-1, 1, ww), indexing="ij"
    )
    aspect = ww / hh

    def frame(t: int) -> np.ndarray:
        phase = 0.08 * t
        sky = torch.stack([0.35 + 0.25 * yy, 0.55 + 0.2 * yy, 0.85 - 0.1 * yy])
        img = sky.clone()
        # Zone plate in the left half: frequencies up to near the LR Nyquist limit.
        r2 = ((xx + 0.5) * aspect) ** 2 + (yy + 0.1) ** 2
        zone = 0.5 + 0.5 * torch.cos(150.0 * r2 + 4 * phase)
        mask = (r2 < 0.35).float()
        img = img * (1 - mask) + zone.expand(3, -1, -1) * mask
        # Panning "text": rows of thin bars of varying widths.
        xs = (xx * aspect * 40 + 12 * phase) % 7
        bars = ((xs < 1.2) | ((xs > 2.2) & (xs < 2.8)) | ((xs > 4) & (xs < 5.5))).float()
        band = ((yy > 0.45) & (yy < 0.8) & (((yy * 30) % 3) < 2)).float()
        text = bars * band
        img = img * (1 - text) + torch.tensor([0.05, 0.05, 0.1], dtype=torch.float32)[:, None, None] * text
        # Rotating star on the right.
        cx, cy = 0.55 * aspect, -0.25
        ang = torch.atan2(yy - cy, xx * aspect - cx) + phase
        rad = torch.sqrt((xx * aspect - cx) ** 2 + (yy - cy) ** 2)
        star = ((rad < 0.4) & (torch.cos(24 * ang) > 0)).float()
        img = img * (1 - star) + torch.tensor([0.95, 0.8, 0.2], dtype=torch.float32)[:, None, None] * star
        lr = imresize(img, scale=1 / supersample) if supersample > 1 else img
        return (lr.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()

    return frame


def combed(width: int, height: int, *, speed: int = 8) -> Pattern:
    """A bright bar moving right over grey, as an interlaced camera films it: the odd lines are taken half a
    frame after the even ones, so the bar's edges comb. Encode it with ``interlaced=True``."""

    def frame(t: int) -> np.ndarray:
        img = np.full((height, width, 3), 30, np.uint8)
        for first_line, x in ((0, speed * t), (1, speed * t + speed // 2)):
            img[first_line::2, x % width : x % width + width // 4] = 220
        return img

    return frame


def flat(color: Sequence[int], width: int, height: int) -> Pattern:
    arr = np.empty((height, width, 3), np.uint8)
    arr[:] = np.asarray(color, np.uint8)
    return lambda t: arr


def write_sample_video(
    path: str | Path,
    pattern: Pattern,
    *,
    frames: int,
    fps: Fraction | int = 24,
    timestamps: Sequence[int] | None = None,
    time_base: Fraction = Fraction(1, 1000),
    audio: bool = True,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    matrix: Colorspace = Colorspace.ITU709,
    full_range: bool = False,
    interlaced: bool = False,
    sample_aspect_ratio: Fraction | None = None,
) -> Path:
    """Encode ``pattern(t)`` for ``frames`` frames, at ``fps`` or at explicit ``timestamps``
    (``time_base`` units, variable frame rate), with a mono AAC chirp covering the video's duration.
    ``interlaced`` codes it as interlaced H.264, top field first (for :func:`combed`); ``sample_aspect_ratio``
    marks non-square pixels (DVD 16:9: 32/27).
    """
    path = Path(path)
    rate = Fraction(fps)
    if timestamps is None:
        step = 1 / (rate * time_base)
        timestamps = [round(i * step) for i in range(frames + 1)]
    if len(timestamps) < frames + 1:
        # The last entry is where the video ends (the last frame's end).
        timestamps = [*timestamps, timestamps[-1] + (timestamps[-1] - timestamps[-2] if len(timestamps) > 1 else 1)]
    first = pattern(0)
    height, width = first.shape[:2]
    with av.open(str(path), "w") as container:
        video = container.add_stream(codec, rate=rate)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        video.time_base = time_base
        video.codec_context.time_base = time_base
        video.codec_context.colorspace = 1 if matrix == Colorspace.ITU709 else 6
        video.codec_context.color_range = ColorRange.JPEG if full_range else ColorRange.MPEG
        if sample_aspect_ratio is not None:
            video.codec_context.sample_aspect_ratio = sample_aspect_ratio
        if codec in ("libx264", "libx265"):
            video.options = {"crf": "12", "preset": "veryfast"}
        if interlaced:
            if codec != "libx264":
                raise ValueError("interlaced=True needs libx264")
            video.options = {**video.options, "x264-params": "interlaced=1:tff=1"}
        durations: dict[int, int] = {}

        def mux_video(packets: list[av.Packet]) -> None:
            # x264 drops frame durations; without them the last frame's length is guessed.
            for p in packets:
                p.duration = p.duration or durations.pop(p.pts, 0)
            container.mux(packets)

        sound = None
        if audio:
            sound = container.add_stream("aac", rate=48000)
            sound.layout = "mono"
        for t in range(frames):
            frame = av.VideoFrame.from_ndarray(pattern(t), format="rgb24").reformat(
                format=pix_fmt, dst_colorspace=matrix,
                dst_color_range=ColorRange.JPEG if full_range else ColorRange.MPEG,
            )
            frame.pts, frame.time_base = timestamps[t], time_base
            frame.duration = durations[frame.pts] = timestamps[t + 1] - timestamps[t]
            mux_video(video.encode(frame))
        mux_video(video.encode(None))
        if sound is not None:
            total = int(48000 * timestamps[frames] * time_base)
            for s in range(0, total, 1024):
                n = min(1024, total - s)
                tt = np.arange(s, s + n) / 48000.0
                wave = (0.2 * np.sin(2 * math.pi * (220 + 200 * tt) * tt)).astype(np.float32)[None]
                af = av.AudioFrame.from_ndarray(wave, format="fltp", layout="mono")
                af.sample_rate, af.pts, af.time_base = 48000, s, Fraction(1, 48000)
                container.mux(sound.encode(af))
            container.mux(sound.encode(None))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vsrkit.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("demo_output"), help="output folder")
    parser.add_argument("--model", default=None, help="model name (default: the project's default model)")
    parser.add_argument("--frames", type=int, default=48)
    args = parser.parse_args(argv)

    from .engine.upscaler import Upscaler
    from .io.frames import write_image
    from .io.video import VideoInput

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    lr_path = write_sample_video(out / "sample_lr.mp4", scene(180, 144), frames=args.frames, fps=24)
    upscaler = Upscaler(args.model)
    hr_path = out / "sample_x4.mp4"
    summary = upscaler.upscale(lr_path, hr_path, progress=None)
    print(summary.line())

    # One frame side by side: bicubic (left) and the model (right).
    with VideoInput(lr_path) as video:
        lr = next(video.frames())[0]
    with VideoInput(hr_path) as video:
        sr = next(video.frames())[0]
    bicubic = imresize(lr, size=tuple(sr.shape[-2:])).clamp(0, 1)
    write_image(out / "compare.png", torch.cat([bicubic, sr], dim=-1))
    print(f"input:   {lr_path.resolve()}")
    print(f"output:  {hr_path.resolve()}")
    print(f"compare: {(out / 'compare.png').resolve()}  (left bicubic, right {summary.model})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
