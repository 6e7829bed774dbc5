"""tOF, the temporal metric of TecoGAN (Chu et al., "Learning temporal coherence via self-supervision for GAN-based
video generation", ACM TOG 2020): how far the motion between consecutive output frames is from the motion between
the same ground-truth frames. A flickering or drifting output moves where the scene does not; a per-frame PSNR
cannot see that. No VSR toolbox reports it (``../shared/specs/anchors.md``), and the MRVSR authors, asked for it,
had not measured it.

The protocol follows the TecoGAN metric code: both sides in 8 bit; Farnebäck flow from frame ``t-1`` to ``t``
(pyramid scale 0.5, 3 levels, window 15, 3 iterations, poly_n 5, poly_sigma 1.2); the flow fields cropped to the
centre (a multiple of 32 a side, at least 8 pixels off each border); per pixel the Euclidean norm of their
difference, averaged; the 2 frames at each end of a clip left out, so frames ``3 .. T-3`` each score their pair
with the frame before. One difference: the flow runs on BT.601 luma (the ``Y`` our Y-only models output, and the
Y of an RGB output, MATLAB weights) where TecoGAN converts RGB to OpenCV grey (0.299/0.587/0.114 on full range):
the same direction in colour space on another scale, which the flow barely sees. Lower is better; 0 means the
output moves exactly as the ground truth does.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..color import rgb_to_y

SKIP = 2
FARNEBACK = {"pyr_scale": 0.5, "levels": 3, "winsize": 15, "iterations": 3, "poly_n": 5, "poly_sigma": 1.2, "flags": 0}


def _luma8(frames: Tensor) -> np.ndarray:
    """``(T, C, H, W)`` in [0, 1], C 1 (luma already) or 3 (RGB) -> ``(T, H, W)`` uint8 luma."""
    y = frames[:, 0] if frames.shape[1] == 1 else rgb_to_y(frames.clamp(0, 1))[:, 0]
    return (y.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()


def centre_crop(size: int) -> slice:
    """TecoGAN's crop along one axis: a multiple of 32, at least 16 pixels shorter, centred (the whole axis when
    it is too short for that)."""
    kept = size // 32 * 32
    while kept > size - 16:
        kept -= 32
    if kept <= 0:
        return slice(0, size)
    start = (size - kept) // 2
    return slice(start, start + kept)


def _flow(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.calcOpticalFlowFarneback(before, after, None, **FARNEBACK)


def tof(output: Tensor, target: Tensor) -> dict[str, float | list[float]]:
    """tOF of ``output`` ``(T, C, H, W)`` against ``target`` ``(T, 3, H, W)``, both in [0, 1]: ``{"tof": mean,
    "frames": per scored frame}`` (frames ``SKIP + 1 .. T - SKIP - 1``; a clip of fewer than ``2 * SKIP + 2``
    frames has none, and its ``tof`` is NaN)."""
    if output.shape[0] != target.shape[0] or output.shape[-2:] != target.shape[-2:]:
        raise ValueError(f"output {tuple(output.shape)} and target {tuple(target.shape)} differ in frames or size")
    out, tgt = _luma8(output), _luma8(target)
    rows, cols = centre_crop(out.shape[1]), centre_crop(out.shape[2])
    scores = []
    for t in range(SKIP + 1, out.shape[0] - SKIP):
        diff = _flow(out[t - 1], out[t])[rows, cols] - _flow(tgt[t - 1], tgt[t])[rows, cols]
        scores.append(float(np.sqrt((diff * diff).sum(-1)).mean()))
    return {"tof": float(np.mean(scores)) if scores else float("nan"), "frames": scores}
