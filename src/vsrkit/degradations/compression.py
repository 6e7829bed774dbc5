"""``bi-x264-<CRF>``: ``bi``, then the LR clip through H.264 (libx264, 4:2:0, preset medium) at that CRF and back.

Users' videos are compressed; the shipped models are trained on clean LR, and compression takes most of their gain
(``benchmarks/compressed_input.py``). These degradations measure that with ``vsrkit evaluate`` and let a training
config learn on it. The whole clip is one video (inter-frame coding, as in a real file); an odd LR side is padded by
repeating its last row or column for the encoder (4:2:0 needs even sizes) and cropped off after decoding. x264 is
deterministic: the same frames give the same LR.

``bi-x264-mix`` is for training a model for compressed input of unknown quality (RealBasicVSR trains on random
compression for the same reason): each clip is left clean (one clip in five) or encoded at a CRF from 18 to 33. The
choice is a hash of the clip's bicubic LR, not a random draw, so the degradation stays a pure function of its input:
a training sample is still a function of the seed and its index (exact resume), and ``vsrkit evaluate`` scores the
same LR every time.
"""

from __future__ import annotations

import hashlib
import io

import av
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..io.frames import to_uint8
from ._registry import SpatialDegradation, register_degradation
from .bicubic import bicubic_downscale

CRFS = (18, 23, 28, 33)
PRESET = "medium"
MIX_CRFS = tuple(range(18, 34))
MIX_CLEAN_SHARE = 5  # one clip in this many stays clean


def h264_round_trip(frames: Tensor, crf: int, *, fps: int = 25) -> Tensor:
    """``(T, 3, H, W)`` RGB in [0, 1] through libx264 (yuv420p, BT.601) at ``crf`` and decoded back."""
    t, _, h, w = frames.shape
    if t == 0:
        raise ValueError("no frames to encode")
    even = F.pad(frames, (0, w % 2, 0, h % 2), mode="replicate") if h % 2 or w % 2 else frames
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = even.shape[-1], even.shape[-2], "yuv420p"
        stream.options = {"crf": str(crf), "preset": PRESET}
        for frame in even:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(to_uint8(frame)), format="rgb24")))
        out.mux(stream.encode())
    buffer.seek(0)
    with av.open(buffer, "r", format="mp4") as container:
        decoded = [torch.from_numpy(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    if len(decoded) != t:
        raise RuntimeError(f"H.264 round trip gave {len(decoded)} frames for {t}")
    return (torch.stack(decoded).permute(0, 3, 1, 2)[..., :h, :w].to(frames.dtype) / 255).contiguous()


def mix_crf(lr: Tensor) -> int | None:
    """The CRF ``bi-x264-mix`` encodes this ``(T, 3, h, w)`` clip at, or None for a clip it leaves clean."""
    digest = int.from_bytes(hashlib.blake2b(b"".join(to_uint8(f).tobytes() for f in lr), digest_size=8).digest(), "little")
    if digest % MIX_CLEAN_SHARE == 0:
        return None
    return MIX_CRFS[(digest // MIX_CLEAN_SHARE) % len(MIX_CRFS)]


def _per_clip(encode):  # type: ignore[no-untyped-def]
    """``bi``, then ``encode(clip)`` on each clip: a batch of clips is separate videos, not one video of all frames."""
    def degrade(hr: Tensor, scale: int) -> Tensor:
        lr = bicubic_downscale(hr, scale)
        if lr.ndim == 4:
            return encode(lr)
        clips = lr.reshape(-1, *lr.shape[-4:])
        return torch.stack([encode(clip) for clip in clips]).reshape(lr.shape)

    return degrade


def _mixed(clip: Tensor) -> Tensor:
    crf = mix_crf(clip)
    return clip if crf is None else h264_round_trip(clip, crf)


for _crf in CRFS:
    register_degradation(f"bi-x264-{_crf}", SpatialDegradation(
        f"bi-x264-{_crf}", _per_clip(lambda clip, crf=_crf: h264_round_trip(clip, crf)),
        description=f"bi, then the LR clip through libx264 (4:2:0, preset {PRESET}) at CRF {_crf}"))
register_degradation("bi-x264-mix", SpatialDegradation(
    "bi-x264-mix", _per_clip(_mixed),
    description=f"bi, then one clip in {MIX_CLEAN_SHARE} clean and the others through libx264 at a CRF from "
                f"{MIX_CRFS[0]} to {MIX_CRFS[-1]} chosen by a hash of the clip (deterministic)"))
