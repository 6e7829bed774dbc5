"""Build the held-out photo validation set: six camera photographs of Debian's
``plasma-workspace-wallpapers`` that no corpus version trains on (``vsrkit.data.corpus``), each made
into a 16-frame clip by the corpus's own synthetic camera motion (hand-held shake included), saved as
8-bit PNG sequence folders. Deterministic: the same seed gives the same frames.

    python scripts/make_photo_val.py                # -> data_cache/photo_val/<Name>/00000000.png ...
    vsrkit evaluate --model default --dataset data_cache/photo_val --degradation bi --protocol basicsr-y

Used as a validation path next to ``lr_only/reds_000`` (configs/default_grow.yaml): reds_000 has
little motion (mean DIS flow 0.09 LR px per frame); these clips move 1-6 HR px per frame.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vsrkit.data.corpus import DEBIAN_PHOTOS, _photo_array, debian_package, default_cache_dir
from vsrkit.data.motion import MotionRange, synthesize
from vsrkit.io.frames import write_uint8_sequence

PACKAGE = "plasma-workspace-wallpapers"
HELD_OUT = ("Autumn", "Path", "FallenLeaf", "BytheWater", "ColdRipple", "Kite")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=default_cache_dir() / "photo_val")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=320, help="HR side of each clip (a multiple of 4)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    root = debian_package(default_cache_dir() / "debs", PACKAGE) / DEBIAN_PHOTOS[PACKAGE][0]
    motion = MotionRange(jitter=2.0)
    for i, name in enumerate(HELD_OUT):
        # Stored like the corpus's photographs: downscaled x2, then moved over at that size.
        photo = _photo_array(root / name / "contents/images/2560x1600.jpg", 2)
        frames = synthesize(photo, np.random.default_rng([args.seed, i]), t_len=args.frames, size=args.size,
                            motion=motion)
        folder = args.out / name
        write_uint8_sequence(folder, frames)
        print(f"{folder}: {len(frames)} frames of {args.size}x{args.size}")


if __name__ == "__main__":
    main()
