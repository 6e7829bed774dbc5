"""Training samples: aligned random LR/HR crops of clips and of synthetic-motion photographs.

Sample ``g`` (a global index) is a pure function of ``(seed, g)``: its source, clip, crop,
augmentation and degradation come from ``numpy.random.default_rng([seed, g])``. Iteration ``i``
uses indices ``i * B .. i * B + B - 1`` for a global batch ``B``, split across ranks by
:class:`IterationBatchSampler`. Resuming at iteration ``i`` is therefore exact, independent of the
number of DataLoader workers, and a DDP run sees the same samples as one process with the same global
batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from ..degradations import get_degradation
from ..errors import VsrkitError
from .motion import MotionRange, synthesize
from .sources import ArraySequence, Clip


def degrade(hr: Tensor, name: str, scale: int) -> Tensor:
    """LR frames of HR ``(T, 3, H, W)`` under a registered degradation (``bi``, ``bd``, ``gauss1.5``...).

    Crops are multiples of the scale, so the degradation's mod-crop never changes the target.
    """
    return get_degradation(name).pair(hr, scale)[0]


@dataclass
class Photo:
    """A still image (memory-mapped ``(1, H, W, 3)`` uint8) turned into video by camera motion."""

    image: ArraySequence
    downscale: int = 1


@dataclass
class Source:
    """A weighted group of clips or photographs."""

    name: str
    weight: float
    clips: list[Clip] = field(default_factory=list)
    photos: list[Photo] = field(default_factory=list)
    # Leave out (with a log line) clips and photographs that cannot give a sample of the requested
    # size, instead of failing. For the project's own corpus, whose items the user never listed; a
    # user's own folders stay strict, so a wrong crop or clip length is not silently trained around.
    drop_unfit: bool = False


@dataclass(frozen=True)
class SampleSpec:
    scale: int = 4
    num_frames: int = 10
    lr_crop: int = 40
    degradation: str = "bi"
    flip: bool = True
    transpose: bool = True
    reverse: bool = True
    max_interval: int = 1
    motion: MotionRange = field(default_factory=MotionRange)


class TrainDataset(Dataset):
    """Map-style dataset of infinitely many random samples, indexed by global sample number."""

    def __init__(self, sources: list[Source], spec: SampleSpec, seed: int,
                 log: Callable[[str], None] = print, *, lengths: Sequence[int] = ()) -> None:
        """``lengths``: shorter clip lengths also served (mixed clip lengths, ``(index, num_frames)`` items);
        each is checked on its own, so a clip too short for the longest samples still gives the short ones."""
        if not sources:
            raise VsrkitError("no training sources")
        self.spec = spec
        self.seed = seed
        weights = np.array([s.weight for s in sources], dtype=np.float64)
        if np.any(weights < 0) or weights.sum() <= 0:
            raise VsrkitError(f"source weights must be >= 0 with a positive sum, got {weights.tolist()}")
        self.probs = weights / weights.sum()
        served = sorted(set(lengths) | {spec.num_frames})
        if served[0] < 1 or served[-1] > spec.num_frames:
            raise VsrkitError(f"clip lengths {served} must lie in 1..{spec.num_frames} (the dataset's num_frames)")
        mixed = len(served) > 1
        self._sources_by_length = {
            n: [self._fitting(source, replace(spec, num_frames=n), log, mixed) for source in sources] for n in served}
        self.sources = self._sources_by_length[spec.num_frames]

    def _fitting(self, source: Source, spec: SampleSpec, log: Callable[[str], None], mixed: bool) -> Source:
        """``source`` with what cannot give a ``spec`` sample left out (``drop_unfit``), or an error naming it."""
        scope = f" from {spec.num_frames}-frame samples" if mixed else ""
        kept_clips, kept_photos = [], []
        for item, reason in [(c, self._clip_unfit(c, spec, mixed)) for c in source.clips] + [
                (p, self._photo_unfit(p, spec)) for p in source.photos]:
            if reason is None:
                (kept_clips if isinstance(item, Clip) else kept_photos).append(item)
                continue
            name = f"{source.name}/{(item.hr if isinstance(item, Clip) else item.image).name}"
            if not source.drop_unfit:
                raise VsrkitError(f"{name}: {reason}")
            log(f"data: left out {name}{scope}: {reason}")
        if not kept_clips and not kept_photos:
            raise VsrkitError(f"training source {source.name!r} is empty{scope}"
                              + (" once what does not fit is left out" if source.clips or source.photos else ""))
        return replace(source, clips=kept_clips, photos=kept_photos)

    @staticmethod
    def _clip_unfit(clip: Clip, spec: SampleSpec, mixed: bool) -> str | None:
        hr_crop = spec.lr_crop * spec.scale
        if clip.hr.num_frames < spec.num_frames:
            wanted = f"{spec.num_frames}" if mixed else f"data.num_frames={spec.num_frames}"
            return f"{clip.hr.num_frames} frames, fewer than {wanted}"
        if clip.hr.height < hr_crop or clip.hr.width < hr_crop:
            return (f"frames {clip.hr.height}x{clip.hr.width} smaller than the HR crop {hr_crop} "
                    "(data.lr_crop x data.scale)")
        return None

    @staticmethod
    def _photo_unfit(photo: Photo, spec: SampleSpec) -> str | None:
        hr_crop = spec.lr_crop * spec.scale
        # A frame's footprint (corners at the largest zoom) must fit inside the photograph.
        need = math.ceil(hr_crop * photo.downscale * math.sqrt(2)
                         * math.exp(spec.motion.max_zoom * spec.num_frames)) + 8
        h, w = photo.image.height, photo.image.width
        if min(h, w) < need:
            return f"photograph {h}x{w} too small for synthetic motion with {hr_crop}px HR crops (needs {need}px)"
        return None

    def __len__(self) -> int:
        # Samples are generated from their index; the sampler decides how many are drawn.
        return 2**62

    def _clip_sample(self, clip: Clip, rng: np.random.Generator, spec: SampleSpec) -> tuple[np.ndarray, np.ndarray | None]:
        s, hr_crop = spec.scale, spec.lr_crop * spec.scale
        interval = int(rng.integers(1, spec.max_interval + 1))
        while (spec.num_frames - 1) * interval + 1 > clip.hr.num_frames:
            interval -= 1
        span = (spec.num_frames - 1) * interval + 1
        t0 = int(rng.integers(0, clip.hr.num_frames - span + 1))
        times = list(range(t0, t0 + span, interval))
        # Crops start on multiples of the scale so paired LR crops stay aligned.
        top = int(rng.integers(0, (clip.hr.height - hr_crop) // s + 1)) * s
        left = int(rng.integers(0, (clip.hr.width - hr_crop) // s + 1)) * s
        hr = clip.hr.crop(times, top, left, hr_crop, hr_crop)
        lr = None
        if clip.lr is not None:
            lr = clip.lr.crop(times, top // s, left // s, spec.lr_crop, spec.lr_crop)
        return hr, lr

    def __getitem__(self, index: int | tuple[int, int]) -> dict[str, Tensor]:
        """Sample ``index``; ``(index, num_frames)`` asks for a clip of that many frames (mixed clip lengths,
        :class:`IterationBatchSampler` ``schedule``), one of the lengths the dataset was built for."""
        spec = self.spec
        if isinstance(index, tuple):
            index, frames = index
            if frames not in self._sources_by_length:
                raise VsrkitError(f"a sample of {frames} frames from a dataset built for clip lengths "
                                  f"{sorted(self._sources_by_length)}")
            spec = replace(spec, num_frames=frames)
        sources = self._sources_by_length[spec.num_frames]
        rng = np.random.default_rng([self.seed, int(index)])
        source = sources[int(rng.choice(len(sources), p=self.probs))]
        n_clips, n_photos = len(source.clips), len(source.photos)
        pick = int(rng.integers(0, n_clips + n_photos))
        if pick < n_clips:
            hr, lr = self._clip_sample(source.clips[pick], rng, spec)
        else:
            photo = source.photos[pick - n_clips]
            hr = synthesize(photo.image.frames[0], rng, t_len=spec.num_frames, size=spec.lr_crop * spec.scale,
                            downscale=photo.downscale, motion=spec.motion)
            lr = None
        flips = rng.random(4)
        arrays = [a for a in (hr, lr) if a is not None]
        if spec.flip and flips[0] < 0.5:
            arrays = [a[:, :, ::-1] for a in arrays]
        if spec.flip and flips[1] < 0.5:
            arrays = [a[:, ::-1] for a in arrays]
        if spec.transpose and flips[2] < 0.5:
            arrays = [a.transpose(0, 2, 1, 3) for a in arrays]
        if spec.reverse and flips[3] < 0.5:
            arrays = [a[::-1] for a in arrays]
        tensors = [torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).float().div(255) for a in arrays]
        hr_t = tensors[0]
        lr_t = tensors[1] if lr is not None else degrade(hr_t, spec.degradation, spec.scale)
        return {"lr": lr_t, "hr": hr_t}


class IterationBatchSampler(Sampler[list]):
    """Distributed batch sampler over global sample indices: rank ``r`` of ``w`` takes its slice.

    ``schedule`` (mixed clip lengths): ``[(num_frames, global_batch), ...]``, iteration ``i`` takes entry
    ``i % len(schedule)`` and yields ``(index, num_frames)`` items; indices still run on without gaps or repeats,
    so every sample remains a pure function of the seed and its index, and resuming stays exact.
    """

    def __init__(self, global_batch: int, *, start_iteration: int, iterations: int, rank: int = 0,
                 world_size: int = 1, schedule: list[tuple[int, int]] | None = None) -> None:
        # Without a schedule: one entry of the spec's own length, whose items are plain indices.
        self.schedule: list[tuple[int | None, int]] = list(schedule) if schedule else [(None, global_batch)]
        for _, batch in self.schedule:
            if batch % world_size:
                raise VsrkitError(f"data.batch_size={batch} is not divisible by the world size {world_size}")
        self.world_size = world_size
        self.start = start_iteration
        self.stop = iterations
        self.rank = rank

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __iter__(self) -> Iterator[list]:
        batches = [batch for _, batch in self.schedule]
        for it in range(self.start, self.stop):
            rounds, entry = divmod(it, len(self.schedule))
            frames, batch = self.schedule[entry]
            local = batch // self.world_size
            first = rounds * sum(batches) + sum(batches[:entry]) + self.rank * local
            indices = range(first, first + local)
            yield list(indices) if frames is None else [(g, frames) for g in indices]
