"""Frame folders: natural ordering, 8/16-bit PNG, clear errors.

A *sequence* is a folder of image files; a *dataset* is a folder of sequence folders (Vid4 / REDS).
Frames come back as float32 RGB tensors in [0, 1], ``(C, H, W)``; grayscale is expanded to RGB and
RGBA is rejected (an alpha channel has no meaning for video SR and silently dropping it would hide
a wrong input).

16-bit RGB PNGs are decoded through PyAV (ffmpeg, ``rgb48le``) because Pillow reads them as 8-bit RGB,
silently dropping the low byte. 16-bit grayscale PNGs Pillow reads at full depth.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor

from ..errors import InputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
# Files desktops leave in any folder they have shown (Windows thumbnail caches, folder settings), skipped like
# hidden files; any other stray file is an error, since it usually means the wrong folder.
DESKTOP_FILES = {"thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", "desktop.ini"}
# Pillow modes of 16-bit single-channel images (PNG, TIFF).
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I")


def natural_key(name: str) -> list[int | str]:
    """Sort key putting ``Frame 2.png`` before ``Frame 10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def list_frames(folder: str | Path) -> list[Path]:
    """Image files of a sequence folder in natural order; errors if there are none or stray files."""
    folder = Path(folder)
    if not folder.exists():
        raise InputError(folder, "folder does not exist")
    if not folder.is_dir():
        raise InputError(folder, "not a folder")
    entries = [p for p in folder.iterdir() if not p.name.startswith(".") and p.name.lower() not in DESKTOP_FILES]
    files = [p for p in entries if p.is_file()]
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    others = [p for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]
    if others:
        raise InputError(others[0], "not an image file (expected PNG/JPEG/BMP/TIFF/WebP frames)")
    if not images:
        raise InputError(folder, "no image frames found")
    return sorted(images, key=lambda p: natural_key(p.name))


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_depth_and_colour(path: Path) -> tuple[int, int] | None:
    """``(bit depth, colour type)`` from a PNG's IHDR, or None for other files."""
    with open(path, "rb") as f:
        head = f.read(26)
    if len(head) < 26 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
        return None
    return head[24], head[25]


def _read_png_rgb48(path: Path) -> np.ndarray:
    import av

    try:
        with av.open(str(path), format="png_pipe") as container:
            frame = next(container.decode(video=0))
            arr = frame.to_ndarray(format="rgb48le")
    except (av.error.FFmpegError, StopIteration, OSError) as exc:
        raise InputError(path, f"cannot decode 16-bit PNG ({exc.__class__.__name__}: {exc})") from None
    return arr.astype(np.float32) / 65535.0


def image_bit_depth(path: str | Path) -> int:
    """16 for a 16-bit image (PNG, or what Pillow opens as 16-bit, e.g. TIFF), else 8."""
    path = Path(path)
    try:
        png = _png_depth_and_colour(path)
        if png is not None:
            return 16 if png[0] == 16 else 8
        with Image.open(path) as im:
            return 16 if im.mode in _SIXTEEN_BIT_MODES else 8
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(path, f"cannot read image ({exc.__class__.__name__}: {exc})") from None


def probe_image(path: str | Path) -> tuple[int, int]:
    """``(H, W)`` of an image from its header, rejecting unreadable files and alpha channels.

    Cheap (no pixel decoding), so a whole dataset can be validated before any output is written.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            mode = im.mode
            if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in im.info):
                raise InputError(path, f"image has an alpha channel ({mode}); save it as RGB")
            if mode not in ("RGB", "L", "P", *_SIXTEEN_BIT_MODES, "1", "CMYK", "YCbCr"):
                raise InputError(path, f"unsupported image mode {mode}")
            width, height = im.size
    except InputError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(path, f"cannot read image ({exc.__class__.__name__}: {exc})") from None
    return height, width


def read_image(path: str | Path) -> np.ndarray:
    """``(H, W, 3)`` float32 RGB in [0, 1] from an 8- or 16-bit image file."""
    path = Path(path)
    try:
        png = _png_depth_and_colour(path)
    except OSError as exc:
        raise InputError(path, f"cannot read image ({exc.__class__.__name__}: {exc})") from None
    if png is not None and png[0] == 16 and png[1] == 2:
        return _read_png_rgb48(path)
    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
                raise InputError(path, f"image has an alpha channel ({mode}); save it as RGB")
            if mode in _SIXTEEN_BIT_MODES:
                arr = np.asarray(im, dtype=np.float32) / 65535.0
                arr = np.repeat(arr[..., None], 3, axis=2)
            elif mode == "L":
                arr = np.repeat(np.asarray(im, dtype=np.float32)[..., None], 3, axis=2) / 255.0
            else:
                arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    except InputError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InputError(path, f"cannot read image ({exc.__class__.__name__}: {exc})") from None
    if arr.ndim != 3:
        raise InputError(path, f"unsupported image layout {arr.shape}")
    return arr


def to_tensor(arr: np.ndarray) -> Tensor:
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def iter_sequence(folder: str | Path) -> Iterator[tuple[Path, Tensor]]:
    """Yield ``(path, frame)`` lazily, checking that every frame has the first frame's size."""
    size = None
    for path in list_frames(folder):
        frame = to_tensor(read_image(path))
        if size is None:
            size = frame.shape[-2:]
        elif frame.shape[-2:] != size:
            raise InputError(
                path, f"frame size {tuple(frame.shape[-2:])} differs from the sequence's {tuple(size)}"
            )
        yield path, frame


def read_sequence(folder: str | Path) -> Tensor:
    """Whole sequence as ``(T, 3, H, W)`` float32 in [0, 1]."""
    return torch.stack([frame for _, frame in iter_sequence(folder)])


def check_sequence(folder: str | Path) -> tuple[list[Path], tuple[int, int]]:
    """Validate a sequence from file headers only: frames exist, are readable RGB/gray without
    alpha, and all have one size. Returns the ordered frame paths and ``(H, W)``."""
    frames = list_frames(folder)
    size = probe_image(frames[0])
    for path in frames[1:]:
        other = probe_image(path)
        if other != size:
            raise InputError(path, f"frame size {other} differs from the sequence's {size}")
    return frames, size


def list_sequences(dataset: str | Path) -> list[Path]:
    """Sequence folders of a dataset folder, naturally sorted; a folder of frames is its own dataset."""
    dataset = Path(dataset)
    if not dataset.is_dir():
        raise InputError(dataset, "dataset folder does not exist" if not dataset.exists() else "not a folder")
    subdirs = sorted((p for p in dataset.iterdir() if p.is_dir() and not p.name.startswith(".")),
                     key=lambda p: natural_key(p.name))
    files = [p for p in dataset.iterdir() if p.is_file() and not p.name.startswith(".")]
    if subdirs:
        # Frames next to sequence folders would be silently ignored: refuse the ambiguous layout.
        images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
        if images:
            raise InputError(images[0], "image file next to sequence folders; expected only folders")
        return subdirs
    if any(p.suffix.lower() in IMAGE_SUFFIXES for p in files):
        return [dataset]
    raise InputError(dataset, "empty dataset: no sequence folders or frames")


def to_uint8(frame: Tensor) -> np.ndarray:
    """``(C, H, W)`` float in [0, 1] -> ``(H, W, C)`` uint8, clamped and rounded (half to even)."""
    arr = (frame.detach().float().clamp(0, 1) * 255.0).round().to(torch.uint8)
    return arr.permute(1, 2, 0).cpu().numpy()


def write_uint8_sequence(folder: str | Path, frames: np.ndarray) -> None:
    """Write uint8 ``(T, H, W, 3)`` frames as ``folder/00000000.png`` ... (the folder is created)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for t, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"{t:08d}.png")


def write_image(path: str | Path, frame: Tensor, *, bits: int = 8) -> None:
    """Write a PNG of a ``(1|3, H, W)`` frame in [0, 1] (grayscale for one channel).

    ``bits=16`` keeps 16-bit data (for example the MRVSR degradation's LR frames); 16-bit RGB is
    encoded through PyAV because Pillow cannot write it.
    """
    if bits == 8:
        arr = to_uint8(frame)
        image = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
        image.save(path, format="PNG")
        return
    if bits != 16:
        raise ValueError(f"bits must be 8 or 16, got {bits}")
    arr16 = (frame.detach().double().clamp(0, 1) * 65535.0).round().to(torch.int32)
    arr16 = arr16.permute(1, 2, 0).cpu().numpy().astype(np.uint16)
    if arr16.shape[2] == 1:
        Image.fromarray(np.ascontiguousarray(arr16[..., 0])).save(path, format="PNG")
        return
    import av

    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height = arr16.shape[1], arr16.shape[0]
    codec.pix_fmt = "rgb48be"
    video = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr16), format="rgb48le")
    video = video.reformat(format="rgb48be")
    data = b"".join(bytes(p) for p in [*codec.encode(video), *codec.encode(None)])
    Path(path).write_bytes(data)


def remove_stale(path: str | Path) -> None:
    """Delete what a killed run (SIGKILL, power loss) left at a temporary name, or say why not.

    Only ever called on a name derived from this run's own output, so it cannot touch other files;
    a symlink is removed itself, never followed.
    """
    path = Path(path)
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.is_symlink() or path.exists():
            path.unlink()
    except OSError as exc:
        raise InputError(path, f"leftover of an earlier run cannot be removed ({exc.strerror or exc})") from None


def staging_dir(final: str | Path) -> Path:
    """A fresh hidden sibling folder to build ``final`` in, so a failure never leaves partial output.

    A staging folder left by a killed run for the same ``final`` is deleted first.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    stage = final.parent / f".{final.name}.part"
    remove_stale(stage)
    stage.mkdir()
    return stage


def commit_dir(stage: Path, final: str | Path) -> None:
    """Move everything in ``stage`` into ``final`` (replacing same-named entries) and drop ``stage``."""
    final = Path(final)
    if not final.exists():
        stage.replace(final)
        return
    if not final.is_dir():
        shutil.rmtree(stage)
        raise InputError(final, "output exists and is not a folder")
    for entry in sorted(stage.iterdir()):
        target = final / entry.name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        entry.replace(target)
    stage.rmdir()
