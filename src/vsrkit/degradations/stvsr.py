"""``stvsr``: the space-time degradation of DAVSR (specs/architectures.md §2.2).

``Y = (X ⊛ K)↓(5, s, s)``: an exposure blur (temporal box: each LR frame is the mean of 5
consecutive HR frames), a spatial anti-aliasing kernel, then sampling. LR frame ``i`` pairs with
HR frames ``5i .. 5i+4`` (the REDS ``train_orig`` (120 fps) / ``train_blur_bicubic/X4`` (24 fps)
pairing), so a clip of ``T`` HR frames gives ``T // 5`` LR frames; leftover HR frames at the end
are dropped from the target.

Spatial kernel: by default MATLAB ``imresize`` bicubic ×1/s with antialiasing (the kernel REDS
``blur_bicubic`` used; DAVSR's ``ker_x4`` approximates it), with its mirrored borders. Any other
2-D kernel can be given with an anchor, in the convention of :mod:`vsrkit.layers.fourier`:
``lr[i, j] = Σ k[a, b] · x[s·i + a - anchor_h, s·j + b - anchor_w]`` with reflected borders.

Frames are averaged in the stored (gamma-encoded) values, as the DAVSR data pipeline does; REDS
itself averaged through an inverse camera response, which this does not model. The LR result is
rounded to 8 bit by default, like LR frames stored as PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import InputError, VsrkitError
from ..io.frames import list_frames, read_image, to_tensor
from ..layers.resize import imresize
from ..metrics.protocols import Protocol, register_protocol
from ._registry import check_hr, register_degradation

TEMPORAL_SCALE = 5


class STVSRDegradation:
    """Space-time degradation; :meth:`pair` is the interface the evaluation engine calls."""

    name = "stvsr"
    description = "space-time: mean of 5 HR frames, bicubic x1/s, LR frame i <-> HR frames 5i..5i+4"
    temporal_scale = TEMPORAL_SCALE
    # Bit depth of the LR frames it produces.
    bits = 8

    def __init__(
        self,
        *,
        temporal_scale: int = TEMPORAL_SCALE,
        kernel: Tensor | None = None,
        anchor: Sequence[int] | None = None,
        quantize: bool = True,
    ) -> None:
        if temporal_scale < 1:
            raise ValueError(f"temporal_scale must be >= 1, got {temporal_scale}")
        if kernel is not None and kernel.ndim != 2:
            raise ValueError(f"kernel must be 2-D (kh, kw), got shape {tuple(kernel.shape)}")
        self.temporal_scale = temporal_scale
        self.kernel = kernel
        if kernel is not None:
            self.anchor = tuple(anchor) if anchor is not None else ((kernel.shape[0] - 1) // 2, (kernel.shape[1] - 1) // 2)
        else:
            self.anchor = None
        self.quantize = quantize

    def target(self, hr: Tensor, scale: int) -> Tensor:
        """HR frames that have an LR frame (``5 * (T // 5)``), mod-cropped to multiples of ``scale``."""
        _check_clip(hr)
        check_hr(hr, scale)
        n = hr.shape[0] // self.temporal_scale
        if n == 0:
            raise VsrkitError(
                f"stvsr needs at least {self.temporal_scale} HR frames per LR frame, the clip has {hr.shape[0]}"
            )
        h, w = hr.shape[-2] - hr.shape[-2] % scale, hr.shape[-1] - hr.shape[-1] % scale
        if h == 0 or w == 0:
            raise VsrkitError(f"stvsr: frames of {tuple(hr.shape[-2:])} are smaller than the scale {scale}")
        return hr[: n * self.temporal_scale, :, :h, :w]

    def degrade(self, hr: Tensor, scale: int) -> Tensor:
        """LR clip ``(T // 5, 3, H // s, W // s)`` from HR ``(T, 3, H, W)`` in [0, 1]."""
        target = self.target(hr, scale)
        n = target.shape[0] // self.temporal_scale
        exposure = target.reshape(n, self.temporal_scale, *target.shape[1:]).mean(dim=1)
        if self.kernel is None:
            lr = imresize(exposure, scale=1.0 / scale)
        else:
            lr = _correlate_and_sample(exposure, self.kernel.to(exposure), self.anchor, scale)
        if self.quantize:
            lr = (lr.clamp(0, 1) * 255.0).round() / 255.0
        return lr

    def pair(self, hr: Tensor, scale: int) -> tuple[Tensor, Tensor]:
        """``(lr, target)``: LR has ``T // 5`` frames, target the 5 HR frames of each LR frame."""
        return self.degrade(hr, scale), self.target(hr, scale)

    def __repr__(self) -> str:
        kernel = "bicubic" if self.kernel is None else f"kernel{tuple(self.kernel.shape)}@{self.anchor}"
        return f"STVSRDegradation(temporal_scale={self.temporal_scale}, {kernel}, quantize={self.quantize})"


def _check_clip(hr: Tensor) -> None:
    if hr.ndim != 4 or hr.shape[1] != 3:
        raise ValueError(f"expected an HR clip (T, 3, H, W), got {tuple(hr.shape)}")
    if not hr.is_floating_point():
        raise TypeError(f"expected a float clip in [0, 1], got {hr.dtype}")


def _correlate_and_sample(x: Tensor, kernel: Tensor, anchor: tuple[int, ...], scale: int) -> Tensor:
    kh, kw = kernel.shape
    ah, aw = anchor
    pad = (aw, kw - 1 - aw, ah, kh - 1 - ah)  # left, right, top, bottom
    h, w = x.shape[-2:]
    # Reflection needs the pad to be shorter than the frame; tiny frames fall back to replication.
    mode = "reflect" if max(pad[0], pad[1]) < w and max(pad[2], pad[3]) < h else "replicate"
    c = x.shape[1]
    padded = F.pad(x, pad, mode=mode)
    weight = kernel.expand(c, 1, kh, kw)
    return F.conv2d(padded, weight, groups=c)[..., ::scale, ::scale]


register_degradation("stvsr", STVSRDegradation())
# DAVSR's scoring (specs §2.5): mmedit PSNR/SSIM on 8-bit RGB, no border crop, 2 HR frames left out
# at each end of the clip (crop_time_border = 2; they have an LR neighbour on one side only).
register_protocol(
    "davsr",
    Protocol(
        "davsr", channel="rgb", crop=0, skip_start=2, skip_end=2,
        description="DAVSR: 8-bit RGB, crop 0, first/last 2 output frames skipped",
    ),
)


# --- REDS train_orig / train_blur_bicubic -----------------------------------------------------------


def reds_clip_pairs(orig_root: str | Path, lr_root: str | Path) -> list[tuple[str, Path, Path]]:
    """Clips present in both a REDS ``train_orig`` folder and its ``train_blur_bicubic/X4`` folder.

    Returns ``(clip_name, hr_folder, lr_folder)`` sorted by name. Clips present in only one of the
    two roots raise (a half-downloaded dataset would otherwise train on a silent subset).
    """
    orig_root, lr_root = Path(orig_root), Path(lr_root)
    for root in (orig_root, lr_root):
        if not root.is_dir():
            raise InputError(root, "REDS folder does not exist" if not root.exists() else "not a folder")
    hr = {p.name: p for p in orig_root.iterdir() if p.is_dir() and not p.name.startswith(".")}
    lr = {p.name: p for p in lr_root.iterdir() if p.is_dir() and not p.name.startswith(".")}
    if set(hr) != set(lr):
        only = min(set(hr) ^ set(lr))
        where = orig_root if only in hr else lr_root
        raise InputError(where / only, "clip has no counterpart in the other REDS folder")
    if not hr:
        raise InputError(orig_root, "no clip folders found")
    return [(name, hr[name], lr[name]) for name in sorted(hr)]


def load_reds_stvsr(
    hr_folder: str | Path,
    lr_folder: str | Path,
    *,
    start: int = 0,
    num_lr: int | None = None,
    temporal_scale: int = TEMPORAL_SCALE,
) -> tuple[Tensor, Tensor]:
    """LR frames ``start .. start+num_lr-1`` of a REDS clip and their HR frames ``5i .. 5i+4``.

    Only the requested frames are read (a full ``train_orig`` clip is 500 HD frames). Checks that
    the HR folder has exactly ``5×`` the LR frames and that sizes agree with an integer scale.
    Returns ``(lr (n, 3, h, w), target (5n, 3, H, W))``.
    """
    hr_files, lr_files = list_frames(hr_folder), list_frames(lr_folder)
    if len(hr_files) != temporal_scale * len(lr_files):
        raise InputError(
            hr_folder, f"{len(hr_files)} HR frames for {len(lr_files)} LR frames in {lr_folder} "
            f"(expected {temporal_scale}× as many)",
        )
    stop = len(lr_files) if num_lr is None else start + num_lr
    if not 0 <= start < stop <= len(lr_files):
        raise VsrkitError(f"{lr_folder}: frames {start}..{stop - 1} requested, the clip has {len(lr_files)}")
    lr = _read_frames(lr_files[start:stop])
    target = _read_frames(hr_files[start * temporal_scale : stop * temporal_scale])
    (h, w), (hh, ww) = lr.shape[-2:], target.shape[-2:]
    if hh % h or ww % w or hh // h != ww // w:
        raise InputError(hr_folder, f"HR size {hh}x{ww} is not an integer multiple of LR size {h}x{w}")
    return lr, target


def _read_frames(paths: list[Path]) -> Tensor:
    frames = []
    for path in paths:
        frame = to_tensor(read_image(path))
        if frames and frame.shape != frames[0].shape:
            raise InputError(path, f"frame size {tuple(frame.shape[-2:])} differs from {tuple(frames[0].shape[-2:])}")
        frames.append(frame)
    return torch.stack(frames)
