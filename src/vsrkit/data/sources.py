"""Where training frames come from: frame folders, video files, cached arrays, REDS and Vimeo-90K.

A :class:`Sequence` gives random access to crops of its frames as uint8 ``(T, h, w, 3)`` arrays, so
that a sample costs one decode (files) or one memory-mapped slice (cached arrays) per frame. Paired
sequences also carry an LR sequence aligned with the HR one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import InputError, VsrkitError
from ..io.frames import IMAGE_SUFFIXES, list_frames, list_sequences, natural_key

# REDS4: the four training clips BasicSR, EDVR and BasicVSR hold out for testing.
REDS4 = ("000", "011", "015", "020")


class Sequence:
    """Frames of one clip, cropped on read. Subclasses implement ``_read``."""

    name: str
    num_frames: int
    height: int
    width: int

    def _read(self, t: int, box: tuple[int, int, int, int]) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def crop(self, times: list[int], top: int, left: int, height: int, width: int) -> np.ndarray:
        """uint8 ``(len(times), height, width, 3)``."""
        box = (top, left, height, width)
        return np.stack([self._read(t, box) for t in times])


class ArraySequence(Sequence):
    """A ``(T, H, W, 3)`` uint8 array, typically memory-mapped from the corpus cache."""

    def __init__(self, name: str, frames: np.ndarray | Path) -> None:
        self.name = name
        self._path = frames if isinstance(frames, Path) else None
        self._frames = None if isinstance(frames, Path) else frames
        shape = np.load(frames, mmap_mode="r").shape if isinstance(frames, Path) else frames.shape
        if len(shape) != 4 or shape[-1] != 3:
            raise InputError(self._path or name, f"expected (T, H, W, 3) frames, got {shape}")
        self.num_frames, self.height, self.width = shape[0], shape[1], shape[2]

    @property
    def frames(self) -> np.ndarray:
        # Opened lazily so DataLoader workers each get their own memory map after fork.
        if self._frames is None:
            assert self._path is not None
            self._frames = np.load(self._path, mmap_mode="r")
        return self._frames

    def _read(self, t: int, box: tuple[int, int, int, int]) -> np.ndarray:
        top, left, h, w = box
        return np.asarray(self.frames[t, top : top + h, left : left + w])

    def __getstate__(self) -> dict:
        # Never pickle a memory map into worker processes; they reopen the file.
        state = dict(self.__dict__)
        if self._path is not None:
            state["_frames"] = None
        return state


def _read_uint8(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as im:
            if im.mode in ("RGBA", "LA", "PA"):
                raise InputError(path, f"image has an alpha channel ({im.mode}); save it as RGB")
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InputError(path, f"cannot read image ({exc.__class__.__name__}: {exc})") from None


class FolderSequence(Sequence):
    """A folder of image frames, decoded on demand (REDS, Vimeo-90K, user folders)."""

    def __init__(self, folder: str | Path, files: list[Path] | None = None) -> None:
        folder = Path(folder)
        self.name = folder.name
        self.files = files if files is not None else list_frames(folder)
        with Image.open(self.files[0]) as im:
            self.width, self.height = im.size
        self.num_frames = len(self.files)

    def _read(self, t: int, box: tuple[int, int, int, int]) -> np.ndarray:
        top, left, h, w = box
        frame = _read_uint8(self.files[t])
        if frame.shape[0] != self.height or frame.shape[1] != self.width:
            raise InputError(self.files[t], f"frame size {frame.shape[:2]} differs from the sequence's")
        return frame[top : top + h, left : left + w]


@dataclass
class Clip:
    """One training clip: HR frames and, for paired data, the aligned LR frames."""

    hr: Sequence
    lr: Sequence | None = None


def read_video_array(path: str | Path, max_frames: int | None = None) -> np.ndarray:
    """Decode a video file to uint8 ``(T, H, W, 3)`` with PyAV."""
    import av

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "video file does not exist")
    frames = []
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                frames.append(frame.to_ndarray(format="rgb24"))
                if max_frames is not None and len(frames) >= max_frames:
                    break
    except av.FFmpegError as exc:
        raise InputError(path, f"cannot decode video ({exc})") from None
    if not frames:
        raise InputError(path, "video has no frames")
    return np.stack(frames)


def frame_folder_clips(root: str | Path, lr_root: str | Path | None = None) -> list[Clip]:
    """A folder of frames, or a folder of sequence folders; ``lr_root`` mirrors it with LR frames."""
    clips = []
    for folder in list_sequences(root):
        lr = None
        if lr_root is not None:
            lr_folder = Path(lr_root) / folder.relative_to(root) if folder != Path(root) else Path(lr_root)
            lr = FolderSequence(lr_folder)
        clips.append(Clip(FolderSequence(folder), lr))
    return clips


def reds_clips(root: str | Path, split: str = "train", lr_root: str | Path | None = None) -> list[Clip]:
    """REDS ``train_sharp/NNN/XXXXXXXX.png`` (and optionally ``train_sharp_bicubic/X4/NNN``).

    ``split``: ``train`` = every clip but REDS4; ``reds4`` = clips 000, 011, 015, 020; ``all``.
    """
    root = Path(root)
    if split not in ("train", "reds4", "all"):
        raise VsrkitError(f"REDS split must be train, reds4 or all, got {split!r}")
    folders = list_sequences(root)
    if split == "train":
        folders = [f for f in folders if f.name not in REDS4]
    elif split == "reds4":
        folders = [f for f in folders if f.name in REDS4]
        if len(folders) != len(REDS4):
            raise InputError(root, f"REDS4 clips {', '.join(REDS4)} not all present")
    if not folders:
        raise InputError(root, f"no REDS clips for split {split!r}")
    return [
        Clip(FolderSequence(f), FolderSequence(Path(lr_root) / f.name) if lr_root is not None else None)
        for f in folders
    ]


def vimeo_clips(root: str | Path, split: str = "train", lr_root: str | Path | None = None) -> list[Clip]:
    """Vimeo-90K septuplets: ``sequences/XXXXX/YYYY/im1..7.png`` listed in ``sep_{train,test}list.txt``.

    ``root`` is the folder holding ``sequences/`` and the list files; ``lr_root`` (if given) holds the
    LR septuplets under the same ``XXXXX/YYYY`` names (e.g. ``sequences_BIx4``).
    """
    root = Path(root)
    if split not in ("train", "test"):
        raise VsrkitError(f"Vimeo-90K split must be train or test, got {split!r}")
    listing = root / f"sep_{split}list.txt"
    if not listing.is_file():
        raise InputError(listing, "Vimeo-90K list file not found")
    names = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    if not names:
        raise InputError(listing, "empty list")
    clips = []
    for name in names:
        folder = root / "sequences" / name
        files = sorted(
            (p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=lambda p: natural_key(p.name)
        ) if folder.is_dir() else []
        if not files:
            raise InputError(folder, "Vimeo-90K sequence folder missing or empty")
        lr = FolderSequence(Path(lr_root) / name) if lr_root is not None else None
        clips.append(Clip(FolderSequence(folder, files), lr))
    return clips
