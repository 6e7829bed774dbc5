"""Build the held-out printed-matter validation set: six pages rendered by ``vsrkit.data.printed``
with fonts no training page uses (``VAL_FONT_PACKAGES``) and seeds no training build uses, each made
into a 16-frame clip by the corpus's synthetic camera motion (hand-held shake included), saved as
8-bit PNG sequence folders. Deterministic.

    python scripts/make_printed_val.py              # -> data_cache/printed_val/page0/00000000.png ...
    vsrkit evaluate --model default --dataset data_cache/printed_val --degradation bi --protocol basicsr-y
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vsrkit.data.corpus import default_cache_dir
from vsrkit.data.motion import MotionRange, synthesize
from vsrkit.data.printed import VAL_FONT_PACKAGES, detail_level, fetch_fonts, render_page
from vsrkit.io.frames import write_uint8_sequence

# Training builds use seed 0 (``prepare_printed``); this one is far from any seed a config would pick.
VAL_SEED = 7_000_001
# The detail_level a validation clip's first frame must reach.
MIN_DETAIL = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=default_cache_dir() / "printed_val")
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=320, help="HR side of each clip (a multiple of 4)")
    args = parser.parse_args()
    fonts = fetch_fonts(default_cache_dir() / "debs", VAL_FONT_PACKAGES)
    for i in range(args.pages):
        page = render_page(fonts, np.random.default_rng([VAL_SEED, i]))
        # The camera's path is redrawn until the clip shows something: a blank stretch of paper
        # would measure nothing but the background.
        for attempt in range(50):
            frames = synthesize(page, np.random.default_rng([VAL_SEED, 1000 + i, attempt]), t_len=args.frames,
                                size=args.size, motion=MotionRange(jitter=2.0))
            if detail_level(frames[0]) >= MIN_DETAIL:
                break
        folder = args.out / f"page{i}"
        write_uint8_sequence(folder, frames)
        print(f"{folder}: {len(frames)} frames of {args.size}x{args.size}")


if __name__ == "__main__":
    main()
