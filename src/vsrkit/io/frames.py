"""Frame folders: natural ordering, 8/16-bit PNG, clear errors.

A *sequence* is a folder of image files; a *dataset* is a folder of sequence folders (Vid4 / REDS).
Frames come back as float32 RGB tensors in [0, 1], ``(C, H, W)``; grayscale is expanded to RGB and
RGBA is rejected (an alpha channel has no meaning for video SR and silently dropping it would hide
a wrong input).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor

from ..errors import InputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


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
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    files = [p for p in entries if p.is_file()]
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    others = [p for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]
    if others:
        raise InputError(others[0], "not an image file (expected PNG/JPEG/BMP/TIFF/WebP frames)")
    if not images:
        raise InputError(folder, "no image frames found")
    return sorted(images, key=lambda p: natural_key(p.name))


def read_image(path: str | Path) -> np.ndarray:
    """``(H, W, 3)`` float32 RGB in [0, 1] from an 8- or 16-bit image file."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
                raise InputError(path, f"image has an alpha channel ({mode}); save it as RGB")
            if mode in ("I;16", "I;16B", "I;16L", "I"):
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


def list_sequences(dataset: str | Path) -> list[Path]:
    """Sequence folders of a dataset folder, naturally sorted; a folder of frames is its own dataset."""
    dataset = Path(dataset)
    if not dataset.is_dir():
        raise InputError(dataset, "dataset folder does not exist" if not dataset.exists() else "not a folder")
    subdirs = sorted((p for p in dataset.iterdir() if p.is_dir() and not p.name.startswith(".")),
                     key=lambda p: natural_key(p.name))
    if subdirs:
        return subdirs
    if any(p.suffix.lower() in IMAGE_SUFFIXES for p in dataset.iterdir()):
        return [dataset]
    raise InputError(dataset, "empty dataset: no sequence folders or frames")


def to_uint8(frame: Tensor) -> np.ndarray:
    """``(C, H, W)`` float in [0, 1] -> ``(H, W, C)`` uint8, clamped and rounded (half to even)."""
    arr = (frame.detach().float().clamp(0, 1) * 255.0).round().to(torch.uint8)
    return arr.permute(1, 2, 0).cpu().numpy()


def write_image(path: str | Path, frame: Tensor) -> None:
    """Write an 8-bit PNG of a ``(1|3, H, W)`` frame in [0, 1] (grayscale for one channel)."""
    arr = to_uint8(frame)
    image = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
    image.save(path)
