"""Scene cuts: how well the detector separates cuts from motion, and what running each shot apart gains.

    python benchmarks/scene_cuts.py [--model default] [--frames 24] [--crop 96] [--calibration-only]
        [--film VIDEO [--film-start 183] [--film-seconds 10] [--film-size 640x360] [--film-only]]

Calibration (vsrkit.engine.scene_cuts): continuous clips (training clips, Temple, ``reds_000``, the real street
clip and the held-out sets that ``scripts/make_*_val.py`` built into ``data_cache``, bicubic LR, their first 60
frames; never Vid4) and the joints of every ordered pair of two different clips (the last 3 frames of one, the
first 3 of the other), each seen whole, at half size, and cropped to 64 and 32 pixels at the centre and at two
random places (the same crop through a clip). Printed per view: the pairs in continuous clips marked as cuts
(false cuts) and the joints not marked (missed cuts), with the largest and smallest scores of each. Quality: three
pairs of training clips joined at a cut (``--frames`` of each, a centre LR crop), upscaled through the Upscaler
with and without cut handling; Y-PSNR against the ground truth over the 8 frames on each side of the cut and over
all frames. With ``--film``, the same on a part of a real film with its own cuts (Big Buck Bunny is in the
``moviepy`` sdist: ``data_cache/pypi/moviepy-2.2.1/bbb.mp4`` after ``python scripts/make_foliage_val.py``).
"""

from __future__ import annotations

import argparse
import itertools
import random
from pathlib import Path

import torch
import torch.nn.functional as F

from vsrkit.color import rgb_to_y
from vsrkit.degradations import get_degradation
from vsrkit.engine.scene_cuts import cut_score, mark_shots
from vsrkit.engine.upscaler import Upscaler
from vsrkit.io.frames import read_sequence
from vsrkit.shared import shared_path

PAIRS = (("bedroom", "tennis"), ("market", "judo"), ("car-shadow", "bmx-trees"))
CALIBRATION_FRAMES = 60
JOINT_SIDE = 3


def _continuous_clips() -> dict[str, tuple[Path, bool]]:
    """name -> (folder, whether it is LR already)."""
    clips = {f"train_clips/{d.name}": (d, False) for d in sorted(shared_path("data", "train_clips").iterdir())
             if d.is_dir()}
    clips["temple"] = (shared_path("data", "temple", "GT"), False)
    clips["reds_000"] = (shared_path("data", "lr_only", "reds_000"), True)
    clips["street"] = (shared_path("data", "lr_only", "realworld_street"), True)
    cache = Path("data_cache")
    for name in ("long_val", "real_val", "foliage_val", "photo_val"):
        if (cache / name).is_dir():
            clips.update({f"{name}/{d.name}": (d, False) for d in sorted((cache / name).iterdir()) if d.is_dir()})
    return clips


def _views(clip: torch.Tensor, rng: random.Random) -> dict[str, torch.Tensor]:
    h, w = clip.shape[-2:]
    views = {"whole": clip, "half": F.avg_pool2d(clip, 2)}
    for size in (64, 32):
        if h >= size and w >= size:
            places = [((h - size) // 2, (w - size) // 2)]
            places += [(rng.randrange(h - size + 1), rng.randrange(w - size + 1)) for _ in range(2)]
            for k, (top, left) in enumerate(places):
                views[f"{size}px/{'centre' if k == 0 else f'random{k}'}"] = clip[..., top : top + size, left : left + size]
    return views


def calibration() -> None:
    bi = get_degradation("bi")
    rng = random.Random(0)
    seen: dict[str, dict[str, torch.Tensor]] = {}
    for name, (folder, is_lr) in _continuous_clips().items():
        frames = read_sequence(folder)[:CALIBRATION_FRAMES]
        lr = frames if is_lr else bi.pair(frames, 4)[0]
        for view, clip in _views(lr, rng).items():
            seen.setdefault(view.split("/")[0], {})[f"{name} {view}"] = clip
    print(f"{len(_continuous_clips())} continuous clips")
    for view, clips in seen.items():
        pairs = false_cuts = 0
        largest = (0.0, "")
        for name, clip in clips.items():
            flags = [flag for _, flag in mark_shots(clip)]
            pairs += len(clip) - 1
            false_cuts += sum(flags[1:])
            largest = max(largest, (max(cut_score(a, b) for a, b in itertools.pairwise(clip)), name))
        joints = missed = 0
        smallest = (float("inf"), "")
        for (a, first), (b, second) in itertools.permutations(clips.items(), 2):
            if a.split()[0] == b.split()[0] or first.shape[-2:] != second.shape[-2:]:
                continue
            joined = torch.cat([first[-JOINT_SIDE:], second[:JOINT_SIDE]])
            joints += 1
            missed += not [flag for _, flag in mark_shots(joined)][JOINT_SIDE]
            smallest = min(smallest, (cut_score(first[-1], second[0]), f"{a} -> {b}"))
        print(f"{view:>5}: false cuts {false_cuts} of {pairs} pairs (largest score {largest[0]:.3f}, {largest[1]}); "
              f"missed cuts {missed} of {joints} joints (smallest score {smallest[0]:.3f}, {smallest[1]})")


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


def film(model: str, path: Path, start: float, seconds: float, size: tuple[int, int]) -> None:
    """A part of a real film with its own cuts: HR frames at ``size`` (width, height), bicubic LR, upscaled with and
    without cut handling; Y-PSNR over the frames within 8 of a cut the detector found, and over all frames."""
    import av

    hr_frames = []
    with av.open(str(path)) as container:
        container.seek(int(start * av.time_base))
        for frame in container.decode(video=0):
            t = float(frame.pts * frame.time_base)
            if t < start:
                continue
            if t >= start + seconds:
                break
            rgb = frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
            hr_frames.append(torch.from_numpy(rgb).permute(2, 0, 1).float() / 255)
    hr = torch.stack(hr_frames)
    lr = get_degradation("bi").pair(hr, 4)[0]
    cuts = [i for i, (_, starts) in enumerate(mark_shots(lr)) if starts and i]
    near = sorted({i for c in cuts for i in range(c - 8, c + 8) if 0 <= i < len(hr)})
    scores = []
    for with_cuts in (False, True):
        up = Upscaler(model, device="cpu", precision="fp32", scene_cuts=with_cuts)
        out = torch.cat(list(up.stream(lr.unbind(0))))
        psnr = [_y_psnr(out[i], hr[i]) for i in range(len(hr))]
        scores.append((sum(psnr[i] for i in near) / max(len(near), 1), sum(psnr) / len(psnr)))
    (near_off, all_off), (near_on, all_on) = scores
    print(f"{model}, {path.name} {start:g}-{start + seconds:g} s at {size[0]}x{size[1]} ({len(hr)} frames, cuts at "
          f"{cuts}): {len(near)} frames near a cut {near_off:.3f} -> {near_on:.3f} dB ({near_on - near_off:+.3f}); "
          f"all frames {all_off:.3f} -> {all_on:.3f} ({all_on - all_off:+.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--crop", type=int, default=96, help="LR crop size (centre)")
    parser.add_argument("--calibration-only", action="store_true")
    parser.add_argument("--film", type=Path, help="also a part of this video, with its own cuts, as ground truth")
    parser.add_argument("--film-start", type=float, default=183.0)
    parser.add_argument("--film-seconds", type=float, default=10.0)
    parser.add_argument("--film-size", default="640x360", help="HR size WxH the film is decoded at")
    parser.add_argument("--film-only", action="store_true", help="with --film: only the film")
    args = parser.parse_args()
    if not args.film_only:
        calibration()
        if not args.calibration_only:
            quality(args.model, args.frames, args.crop)
    if args.film is not None and not args.calibration_only:
        width, height = (int(v) for v in args.film_size.split("x"))
        film(args.model, args.film, args.film_start, args.film_seconds, (width, height))


if __name__ == "__main__":
    main()
