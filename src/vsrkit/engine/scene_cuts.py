"""Scene cuts in a stream of LR frames, so that a recurrent or bidirectional model does not carry one shot's state
(aligned by an optical flow that has nothing to follow across the cut) into the next shot.

Each pair of neighbouring frames gets a score from two cheap cues: one minus the correlation of 16x16 thumbnails
(what is where, blind to brightness and contrast) and the histogram distance (which colours), each divided by its
scale; the score is the smaller of the two, so a fast pan (thumbnails change, colours stay) and a flash or fade
(colours change, layout stays) score low, while a cut changes both. A cut needs the score to be high on its own
(:data:`CUT_SCORE`) **and** a spike, :data:`SPIKE_RATIO` times the mean score of the :data:`NEIGHBOURS` pairs on
each side: on small or fast-moving frames every pair scores high, and only a cut stands out from its neighbours.

Calibrated on frames that are not Vid4 (``python benchmarks/scene_cuts.py --calibration-only``): 30 continuous clips
(the training clips, Temple, ``reds_000``, the real street clip and the held-out sets, bicubic LR) against the joints
of every ordered pair of two different clips, each seen whole, at half size, and cropped to 64 and 32 pixels at the
centre and at two random places. The score alone cannot separate them below full size (neighbours in a continuous clip
reach 1.0 at 64 pixels and 1.35 at 32, joints go down to 0.6); with the spike as well, none of 7,889 continuous pairs
is a cut, and 1 of 12,132 joints is missed (at 32 pixels). A scratch run with other random crops found one false cut
in 2,072 pairs at 32 pixels (a car entering a 32x32 crop of the street clip), none larger. Over the whole of Big Buck
Bunny (14,315 frames) it marks 133 cuts, the same at 160x90 and 640x360, each a change of shot by eye; what it misses
there is a cut next to fast motion or to another cut (a spike among high neighbours). A missed cut costs little (the
model carries a stale state for a few frames, as without detection); a false cut restarts the model in mid-shot, so
the test leans towards missing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor

THUMBNAIL = 16
BINS = 16
HISTOGRAM_GRID = 128
THUMBNAIL_SCALE = 0.2
HISTOGRAM_SCALE = 0.3
CUT_SCORE = 0.3
SPIKE_RATIO = 3.0
NEIGHBOURS = 2
# Added to the neighbours' mean so that a still shot (scores near zero) does not make every flicker a spike.
STILL_SCORE = 0.02

Cues = tuple[Tensor, Tensor]


def _cues(frame: Tensor) -> Cues:
    """``(3, H, W)`` in [0, 1] -> (centred thumbnail, per-channel histograms summing to one)."""
    frame = frame.float()
    thumbnail = F.adaptive_avg_pool2d(frame[None], THUMBNAIL)[0].flatten()
    # Every pixel's colour is not needed to tell the colours of a shot: on a grid of at least HISTOGRAM_GRID
    # pixels a side the histograms cost the same at any size (a 1080p frame took 72 ms whole, 8 ms so).
    step = max(1, min(frame.shape[-2:]) // HISTOGRAM_GRID)
    hist = torch.stack([torch.histc(channel, bins=BINS, min=0.0, max=1.0) for channel in frame[:, ::step, ::step]])
    return thumbnail - thumbnail.mean(), hist / hist.sum(1, keepdim=True).clamp_min(1)


def _score(before: Cues, after: Cues) -> float:
    (a, hist_a), (b, hist_b) = before, after
    # One minus the thumbnails' correlation: blind to a brightness or contrast change of the same picture.
    moved = (1 - (a @ b / (a.norm() * b.norm()).clamp_min(1e-8)).item()) / THUMBNAIL_SCALE
    recoloured = (1 - torch.minimum(hist_a, hist_b).sum(1).mean().item()) / HISTOGRAM_SCALE
    return min(moved, recoloured)


def cut_score(before: Tensor, after: Tensor) -> float:
    """How different ``after`` is from ``before`` as a new shot would be (one condition of a cut, :data:`CUT_SCORE`)."""
    return _score(_cues(before), _cues(after))


def is_cut(score: float, around: list[float]) -> bool:
    """Whether a pair scoring ``score``, with ``around`` the scores of the pairs near it (up to
    :data:`NEIGHBOURS` on each side, fewer at the ends of the stream), is a cut."""
    base = sum(around) / len(around) if around else 0.0
    return score >= CUT_SCORE and score >= SPIKE_RATIO * (base + STILL_SCORE)


def mark_shots(frames: Iterable[Tensor]) -> Iterator[tuple[Tensor, bool]]:
    """Each frame with whether it starts a shot (the first one does), given :data:`NEIGHBOURS` frames after it is
    read: the test looks at the pairs that follow."""
    held: deque[Tensor] = deque()
    scores: dict[int, float] = {}  # index of a frame -> score of the pair it ends
    previous: Cues | None = None
    given = 0

    def starts_shot(i: int) -> bool:
        if i == 0:
            return True
        around = [scores[j] for j in range(i - NEIGHBOURS, i + NEIGHBOURS + 1) if j != i and j in scores]
        return is_cut(scores[i], around)

    for read, frame in enumerate(frames):
        cues = _cues(frame)
        if previous is not None:
            scores[read] = _score(previous, cues)
        previous = cues
        held.append(frame)
        while given + NEIGHBOURS <= read:
            yield held.popleft(), starts_shot(given)
            scores.pop(given - NEIGHBOURS, None)
            given += 1
    while held:
        yield held.popleft(), starts_shot(given)
        given += 1


def split_shots(frames: Iterable[Tensor]) -> Iterator[Iterator[Tensor]]:
    """The frames as one iterator per shot, in order; each must be used up before the next is taken."""
    marked = mark_shots(frames)
    pending = next(marked, None)
    while pending is not None:
        first, pending = pending[0], None

        def shot(first: Tensor = first) -> Iterator[Tensor]:
            nonlocal pending
            yield first
            for frame, starts in marked:
                if starts:
                    pending = (frame, starts)
                    return
                yield frame

        yield shot()
        if pending is None:
            return
