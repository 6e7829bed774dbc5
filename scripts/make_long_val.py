"""Build `long_val`, a held-out validation set of real camera footage in long clips: one segment of
``--frames`` (60) frames from the middle of each clip `scripts/make_real_train.py` draws from, ×2
downscaled as `real_val` is.

    python scripts/make_long_val.py         # -> data_cache/long_val/<clip>/00000000.png ...

Why: a recurrent model's state can drift over horizons it was never trained on (MODEL_CARD.md, "Session
16"), and the other natural sets hold clips of 16-40 frames; Vid4 holds clips of 32-49 frames, and users'
videos are longer still. These are the only other clean real clips in the registries the project knows
of (session 14's survey, `scripts/make_real_train.py`).

Held out for `default` and every candidate for it: none of them trained on these clips. They are *not*
held out for the models session 14 trained on `real_train` (its candidates for `default` were not
shipped). Clips shorter than ``--frames`` are left out (`flowers`, 46 frames). Frames larger than 640x360 after the ×2 keep their centre 640x360, as `real_val`'s `dog`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

# scripts/ is on sys.path when run as a script
from make_real_train import CLIPS, _clip_path
from make_real_val import _centre_crop, _read_frames, _write_clip

from vsrkit.data.corpus import _downscale_uint8, default_cache_dir

MAX_HR = (360, 640)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=default_cache_dir() / "long_val")
    parser.add_argument("--frames", type=int, default=60, help="frames per clip")
    args = parser.parse_args()
    cache = default_cache_dir()
    for name, (source, member, step, _segments) in CLIPS.items():
        frames = _read_frames(_clip_path(cache, source, member), step=step)
        if len(frames) < args.frames:
            print(f"{name}: left out, {len(frames)} frames (fewer than --frames {args.frames})")
            continue
        start = (len(frames) - args.frames) // 2
        _write_clip(args.out / name, _centre_crop(_downscale_uint8(frames[start:start + args.frames], 2), MAX_HR))


if __name__ == "__main__":
    main()
