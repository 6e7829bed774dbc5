"""What resuming an interrupted `vsrkit upscale` costs in quality, for each warm-up length.

    python benchmarks/resume_quality.py [--model default] [--clip train_clips/bedroom] [--frames 72]
        [--crop 64] [--stop-after 70] [--warmups 0 4 8 16 32]

A resumed run cannot have the recurrent state the interrupted run had at the point it stopped; it feeds the
model ``RESUME_WARMUP`` frames before the first one it writes (vsrkit.engine.upscaler). This makes a short LR
video from a clip with ground truth (``bi``, a centre LR crop of ``--crop`` pixels, written losslessly), upscales
it whole, then interrupts a run after ``--stop-after`` frames (it keeps the segments finished by then, 32 frames
each here) and resumes it with each warm-up, writing losslessly (x264 CRF 0). It prints, over the resumed frames, the Y-PSNR against the ground truth of both runs, their
difference, and the largest luma difference between them. The clip is not Vid4 (a test set).
"""

from __future__ import annotations

import argparse
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

from vsrkit.color import rgb_to_y
from vsrkit.degradations import get_degradation
from vsrkit.engine import upscaler as upscaler_module
from vsrkit.engine.upscaler import Interrupted, Upscaler
from vsrkit.io.frames import read_sequence
from vsrkit.shared import shared_path


class _StopsAfter(Upscaler):
    """Stands for Ctrl-C after ``stop`` model outputs."""

    def __init__(self, model: str, stop: int) -> None:
        super().__init__(model, device="cpu", precision="fp32")
        self.stop = stop

    def _outputs(self, frames, **kwargs):  # type: ignore[no-untyped-def, override]
        for i, out in enumerate(super()._outputs(frames, **kwargs)):
            if i == self.stop:
                raise KeyboardInterrupt
            yield out


def _write_lossless(frames: torch.Tensor, path: Path) -> None:
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264rgb", rate=25)
        s.width, s.height, s.pix_fmt = frames.shape[-1], frames.shape[-2], "rgb24"
        s.options = {"crf": "0"}
        for i, frame in enumerate(frames):
            arr = (frame.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")
            picture.pts, picture.time_base = i, Fraction(1, 25)
            c.mux(s.encode(picture))
        c.mux(s.encode(None))


def _luma(path: Path) -> np.ndarray:
    """BT.601 luma (0-255) of the decoded RGB frames, as the ground truth's is computed."""
    with av.open(str(path)) as c:
        rgb = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])
    return (rgb_to_y(torch.from_numpy(rgb).permute(0, 3, 1, 2).double() / 255) * 255).squeeze(1).numpy()


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([10 * np.log10(255**2 / np.mean((x - y) ** 2)) for x, y in zip(a, b, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--clip", default="train_clips/bedroom", help="a folder of HR frames under the shared data")
    parser.add_argument("--frames", type=int, default=72)
    parser.add_argument("--crop", type=int, default=64, help="LR crop size (centre)")
    parser.add_argument("--stop-after", type=int, default=70)
    parser.add_argument("--warmups", type=int, nargs="+", default=[0, 4, 8, 16, 32])
    args = parser.parse_args()

    hr = read_sequence(shared_path("data", *args.clip.split("/")))[: args.frames]
    lr, _ = get_degradation("bi").pair(hr, 4)
    h, w = lr.shape[-2:]
    top, left = (h - args.crop) // 2, (w - args.crop) // 2
    lr = lr[..., top : top + args.crop, left : left + args.crop]
    crop_hr = hr[..., 4 * top : 4 * (top + args.crop), 4 * left : 4 * (left + args.crop)]
    gt = (rgb_to_y(crop_hr) * 255).double().squeeze(1).numpy()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        src = tmp / "lr.mkv"
        _write_lossless(lr, src)

        whole = tmp / "whole.mkv"
        Upscaler(args.model, device="cpu", precision="fp32").upscale(src, whole, progress=False, codec="libx264", crf=0)
        whole_luma = _luma(whole)
        for warmup in args.warmups:
            upscaler_module.RESUME_WARMUP = warmup
            resumed = tmp / f"resumed_{warmup}.mkv"
            kept = 0
            try:
                _StopsAfter(args.model, args.stop_after).upscale(src, resumed, progress=False, codec="libx264", crf=0,
                                                                  checkpoint_seconds=0)
            except Interrupted as stop:
                kept = stop.frames_done  # whole segments only (vsrkit.io.resume.MIN_SEGMENT_FRAMES)
            if not kept:
                raise SystemExit(f"nothing was kept after {args.stop_after} frames: stop later")
            Upscaler(args.model, device="cpu", precision="fp32").upscale(src, resumed, progress=False, codec="libx264",
                                                                         crf=0, checkpoint_seconds=0)
            if warmup == args.warmups[0]:
                reference, truth = whole_luma[kept:], gt[kept:]
                print(f"{args.model}, {args.clip}: {len(lr)} frames of {args.crop}x{args.crop} LR, interrupted after "
                      f"{args.stop_after}, {kept} kept; over the {len(truth)} resumed frames")
                print(f"uninterrupted: Y-PSNR {_psnr(reference, truth):.4f} dB against the ground truth")
            got = _luma(resumed)[kept:]
            first = np.abs(got[0] - reference[0]).max()
            print(f"warm-up {warmup:>3}: Y-PSNR {_psnr(got, truth):.4f} dB ({_psnr(got, truth) - _psnr(reference, truth):+.4f}), "
                  f"largest luma difference {np.abs(got - reference).max():.0f}/255 (first resumed frame {first:.0f}/255)")


if __name__ == "__main__":
    main()
