"""Build a training source of vegetation under motion from Big Buck Bunny: one short segment from each shot
of the film in frames 2400-11756, away from every shot of `foliage_val` (frames 60-329 and 2154-2193 of
this film; `skv_bbb` matches frames ~1145-1276 by thumbnail comparison), and before the end credits.

    python scripts/make_bbb_train.py        # -> data_cache/bbb_train/shot_NNNNN/00000000.png ...

Then in a training config: ``{kind: frames, path: data_cache/bbb_train, weight: ...}``.

Why: every fine-tune of `default`'s cell lost 0.2-0.6 dB on foliage (Vid4 foliage, `foliage_val`) while
gaining on the other validation sets; the corpus has almost no fine, stochastic texture in motion (grass,
leaves, fur), which most of this film is. Same source and treatment as `foliage_val`'s Big Buck Bunny clips
(the moviepy sdist's copy, CC-BY 3.0 Blender Foundation; ×2 bicubic downscale of the low-bitrate 1280×720
H.264 to 640×360), so those clips are no longer out of domain once this set is trained on: judge
`foliage_val`'s real `tree` clip separately.

Shots are found from frame differences (mean absolute difference of 64×36 grey thumbnails above 20);
each shot of at least ``--min-shot`` frames gives the ``--frames`` frames in its middle. Nothing here
looks at any validation or test score.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

# scripts/ is on sys.path when run as a script
from make_foliage_val import _moviepy_film
from make_real_val import _write_clip

from vsrkit.data.corpus import _downscale_uint8, default_cache_dir

FIRST, END = 2400, 11757  # past the last validation shot (2154-2193) and the shot after it (to 2394); credits from 11757


def _shot_segments(path: Path, frames: int, min_shot: int) -> dict[int, np.ndarray]:
    """{first frame: (frames, H, W, 3) RGB} of the middle ``frames`` of each shot of ``min_shot`` or more frames in
    [FIRST, END), in one decoding pass (a shot's frames are held until its end is known: at most ~500 at 720p)."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    segments: dict[int, np.ndarray] = {}
    shot: list[np.ndarray] = []  # frames of the current shot from max(its first frame, FIRST)
    previous, index = None, 0

    def close_shot(end: int) -> None:
        begin = end - len(shot)
        if len(shot) >= min_shot:
            first = begin + (len(shot) - frames) // 2
            segments[first] = np.stack(shot[first - begin:first - begin + frames])
        shot.clear()

    while index < END:
        ok, frame = capture.read()
        if not ok:
            raise SystemExit(f"{path}: ended at frame {index}")
        thumb = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (64, 36), interpolation=cv2.INTER_AREA)
        thumb = thumb.astype(np.float32)
        if previous is not None and np.abs(thumb - previous).mean() > 20:
            close_shot(index)
        if index >= FIRST:
            shot.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        previous, index = thumb, index + 1
    close_shot(END)
    return segments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=default_cache_dir() / "bbb_train")
    parser.add_argument("--frames", type=int, default=32, help="frames per shot")
    parser.add_argument("--min-shot", type=int, default=48, help="shorter shots are skipped")
    args = parser.parse_args()
    film = _moviepy_film(default_cache_dir() / "pypi")
    segments = _shot_segments(film, args.frames, args.min_shot)
    print(f"{film}: {len(segments)} shots of >= {args.min_shot} frames in {FIRST}-{END - 1}")
    for first, frames in segments.items():
        _write_clip(args.out / f"shot_{first:05d}", _downscale_uint8(frames, 2))


if __name__ == "__main__":
    main()
