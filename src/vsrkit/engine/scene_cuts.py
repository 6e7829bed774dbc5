"""Scene cuts in a stream of LR frames, so that a recurrent or bidirectional model does not carry one shot's state
(aligned by an optical flow that has nothing to follow across the cut) into the next shot.

A cut is scored from two cheap cues between consecutive frames: one minus the correlation of 16x16 thumbnails (what
is where, blind to brightness and contrast) and the histogram distance (which colours), each divided by its scale;
the score is the smaller of the two, so a fast pan (thumbnails change, colours stay) and a flash or fade (colours
change, layout stays) are not cuts, while a cut changes both. Calibrated on frames that are not Vid4 (``python
benchmarks/scene_cuts.py --calibration-only``): over 29 continuous clips (the training clips, Temple, ``reds_000``
and the held-out sets, bicubic LR) the largest score between neighbours was 0.145 (``long_val/seattle``), and over
the 812 joints of two different clips the smallest was 0.520 (``bmx-trees`` to ``market``, two outdoor clips); the
threshold sits between, 2x from each.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor

THUMBNAIL = 16
BINS = 16
THUMBNAIL_SCALE = 0.2
HISTOGRAM_SCALE = 0.3
CUT_SCORE = 0.3


def _cues(frame: Tensor) -> tuple[Tensor, Tensor]:
    """``(3, H, W)`` in [0, 1] -> (thumbnail, per-channel histograms summing to one)."""
    frame = frame.float()
    thumbnail = F.adaptive_avg_pool2d(frame[None], THUMBNAIL)[0]
    hist = torch.stack([torch.histc(channel, bins=BINS, min=0.0, max=1.0) for channel in frame])
    return thumbnail, hist / hist.sum(1, keepdim=True).clamp_min(1)


def cut_score(before: Tensor, after: Tensor) -> float:
    """How much ``after`` looks like the start of another shot than ``before``'s (a cut from :data:`CUT_SCORE`)."""
    (thumb_a, hist_a), (thumb_b, hist_b) = _cues(before), _cues(after)
    a, b = (t.flatten() - t.mean() for t in (thumb_a, thumb_b))
    # One minus the thumbnails' correlation: blind to a brightness or contrast change of the same picture.
    moved = (1 - (a @ b / (a.norm() * b.norm()).clamp_min(1e-8)).item()) / THUMBNAIL_SCALE
    recoloured = (1 - torch.minimum(hist_a, hist_b).sum(1).mean().item()) / HISTOGRAM_SCALE
    return min(moved, recoloured)


def split_shots(frames: Iterator[Tensor]) -> Iterator[Iterator[Tensor]]:
    """The frames as one iterator per shot, in order; each must be used up before the next is taken."""
    pending = next(frames, None)
    while pending is not None:
        first = pending

        def shot(first: Tensor = first) -> Iterator[Tensor]:
            nonlocal pending
            previous = first
            yield first
            pending = next(frames, None)
            while pending is not None and cut_score(previous, pending) < CUT_SCORE:
                previous = pending
                yield previous
                pending = next(frames, None)

        yield shot()
