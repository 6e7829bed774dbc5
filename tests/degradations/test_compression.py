"""bi-x264-<CRF>: bicubic, then the LR clip through H.264 and back: deterministic, any size, lossier with CRF."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vsrkit.degradations import get_degradation, list_degradations
from vsrkit.degradations.compression import CRFS, h264_round_trip


def _clip(frames: int = 6, h: int = 132, w: int = 180) -> torch.Tensor:
    """Texture that stays smooth at LR size, panning 3 HR pixels a frame."""
    g = torch.Generator().manual_seed(0)
    coarse = torch.rand(1, 3, h // 24, (w + 3 * frames) // 24, generator=g)
    big = F.interpolate(coarse, size=(h, w + 3 * frames), mode="bicubic", align_corners=False)[0].clamp(0, 1)
    return torch.stack([big[:, :, 3 * i : 3 * i + w] for i in range(frames)])


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / (a - b).square().mean()))


def test_registered_crfs_degrade_more_as_the_crf_rises_and_repeat_exactly() -> None:
    assert {f"bi-x264-{c}" for c in CRFS} <= set(list_degradations())
    hr = _clip()
    clean, target = get_degradation("bi").pair(hr, 4)
    quality = []
    for crf in CRFS:
        lr, t = get_degradation(f"bi-x264-{crf}").pair(hr, 4)
        assert lr.shape == clean.shape == (6, 3, 33, 45) and torch.equal(t, target)  # odd LR sides kept
        assert torch.equal(lr, get_degradation(f"bi-x264-{crf}").pair(hr, 4)[0])
        quality.append(_psnr(lr, clean))
    assert quality == sorted(quality, reverse=True) and quality[-1] < quality[0] - 1 and quality[0] > 25


def test_round_trip_keeps_every_frame_in_order() -> None:
    clip = _clip(frames=9)
    out = h264_round_trip(clip, 18)
    assert out.shape == clip.shape and out.dtype == clip.dtype
    # Each decoded frame is closest to its own source frame: none dropped, none reordered.
    nearest = [min(range(9), key=lambda j, f=f: float((f - clip[j]).abs().mean())) for f in out]
    assert nearest == list(range(9))
    with pytest.raises(ValueError, match="no frames"):
        h264_round_trip(torch.rand(0, 3, 8, 8), 18)


def test_mix_encodes_each_clip_at_its_own_crf_or_leaves_it_clean() -> None:
    from vsrkit.degradations.compression import MIX_CLEAN_SHARE, MIX_CRFS, mix_crf

    g = torch.Generator().manual_seed(1)
    choices = [mix_crf(torch.rand(2, 3, 8, 8, generator=g)) for _ in range(800)]
    clean = choices.count(None)
    assert abs(clean / len(choices) - 1 / MIX_CLEAN_SHARE) < 0.05
    assert {c for c in choices if c is not None} == set(MIX_CRFS)  # every CRF of the range is drawn

    hr = _clip()
    lr, _target = get_degradation("bi-x264-mix").pair(hr, 4)
    clean_lr = get_degradation("bi").pair(hr, 4)[0]
    crf = mix_crf(clean_lr)
    expected = clean_lr if crf is None else h264_round_trip(clean_lr, crf)
    assert torch.equal(lr, expected) and torch.equal(lr, get_degradation("bi-x264-mix").pair(hr, 4)[0])
    # A batch of clips: each clip gets its own choice, as it would alone.
    batch = torch.stack([hr, hr.flip(-1)])
    lr_batch = get_degradation("bi-x264-mix").pair(batch, 4)[0]
    assert torch.equal(lr_batch[0], lr)
    assert torch.equal(lr_batch[1], get_degradation("bi-x264-mix").pair(hr.flip(-1), 4)[0])
