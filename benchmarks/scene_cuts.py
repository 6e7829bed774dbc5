"""Scene cuts: how well the detector separates cuts from motion, and what running each shot apart gains.

    python benchmarks/scene_cuts.py [--model default] [--frames 24] [--crop 96] [--calibration-only]

Calibration (vsrkit.engine.scene_cuts): the cut score between neighbouring frames of 29 continuous clips (training
clips, Temple, ``reds_000`` and the held-out sets, bicubic LR; never Vid4) and across the joints of every ordered
pair of different clips. Quality: three pairs of training clips joined at a cut (``--frames`` of each, a centre LR
crop), upscaled through the Upscaler with and without cut handling; Y-PSNR against the ground truth over the 8
frames on each side of the cut and over all frames.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import torch

from vsrkit.color import rgb_to_y
from vsrkit.degradations import get_degradation
from vsrkit.engine.scene_cuts import CUT_SCORE, cut_score
from vsrkit.engine.upscaler import Upscaler
from vsrkit.io.frames import read_sequence
from vsrkit.shared import shared_path

PAIRS = (("bedroom", "tennis"), ("market", "judo"), ("car-shadow", "bmx-trees"))


def _continuous_clips() -> dict[str, Path]:
    clips = {f"train_clips/{d.name}": d for d in sorted(shared_path("data", "train_clips").iterdir()) if d.is_dir()}
    clips["temple"] = shared_path("data", "temple", "GT")
    cache = Path("data_cache")
    for name in ("long_val", "real_val", "foliage_val", "photo_val"):
        if (cache / name).is_dir():
            clips.update({f"{name}/{d.name}": d for d in sorted((cache / name).iterdir()) if d.is_dir()})
    return clips


def calibration() -> None:
    bi = get_degradation("bi")
    ends = {}
    largest: list[tuple[float, str]] = []
    clips = _continuous_clips()
    clips["reds_000"] = shared_path("data", "lr_only", "reds_000")
    for name, folder in clips.items():
        frames = read_sequence(folder)
        lr = frames if name == "reds_000" else bi.pair(frames[:80], 4)[0]
        largest.append((max(cut_score(a, b) for a, b in itertools.pairwise(lr)), name))
        ends[name] = (lr[0], lr[-1])
    joints = sorted((cut_score(ends[a][1], ends[b][0]), a, b) for a, b in itertools.permutations(ends, 2))
    top, top_name = max(largest)
    print(f"continuous clips: {len(largest)}, largest score between neighbours {top:.3f} ({top_name})")
    print(f"joints of two clips: {len(joints)}, smallest score {joints[0][0]:.3f} ({joints[0][1]} -> {joints[0][2]}); "
          f"threshold {CUT_SCORE}")


def _y_psnr(out: torch.Tensor, gt: torch.Tensor) -> float:
    err = (rgb_to_y(out.clamp(0, 1)) - rgb_to_y(gt)).square().mean().item()
    return 10 * torch.log10(torch.tensor(1 / err)).item()


def quality(model: str, frames: int, crop: int) -> None:
    bi = get_degradation("bi")
    for first, second in PAIRS:
        parts = []
        for name in (first, second):
            clip = read_sequence(shared_path("data", "train_clips", name))[:frames]
            h, w = clip.shape[-2:]
            top, left = (h // 4 - crop) // 2 * 4, (w // 4 - crop) // 2 * 4
            parts.append(clip[..., top : top + 4 * crop, left : left + 4 * crop])
        hr = torch.cat(parts)
        lr = bi.pair(hr, 4)[0]
        near = list(range(frames - 8, frames + 8))
        row = []
        for cuts in (False, True):
            up = Upscaler(model, device="cpu", precision="fp32", scene_cuts=cuts)
            out = torch.cat(list(up.stream(lr.unbind(0))))
            row.append((sum(_y_psnr(out[i], hr[i]) for i in near) / len(near),
                        sum(_y_psnr(out[i], hr[i]) for i in range(len(hr))) / len(hr)))
        (near_off, all_off), (near_on, all_on) = row
        print(f"{model}, {first} -> {second}: 16 frames at the cut {near_off:.3f} -> {near_on:.3f} dB "
              f"({near_on - near_off:+.3f}); all {2 * frames} frames {all_off:.3f} -> {all_on:.3f} ({all_on - all_off:+.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--crop", type=int, default=96, help="LR crop size (centre)")
    parser.add_argument("--calibration-only", action="store_true")
    args = parser.parse_args()
    calibration()
    if not args.calibration_only:
        quality(args.model, args.frames, args.crop)


if __name__ == "__main__":
    main()
