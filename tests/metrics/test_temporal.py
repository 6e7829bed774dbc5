"""tOF: zero for an output that moves as the ground truth does, and larger the more an output flickers."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from vsrkit.metrics.temporal import SKIP, centre_crop, tof


def _panning(frames: int, h: int = 64, w: int = 80, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, h // 8 + 2, (w + 2 * frames) // 8 + 2, generator=g)
    big = F.interpolate(coarse, size=(h, w + 2 * frames), mode="bicubic", align_corners=False)[0].clamp(0, 1)
    return torch.stack([big[:, :, 2 * i : 2 * i + w] for i in range(frames)])


def test_an_output_moving_as_the_ground_truth_scores_zero_and_flicker_scores_more() -> None:
    gt = _panning(10)
    exact = tof(gt, gt)
    assert exact["tof"] == 0.0 and len(exact["frames"]) == 10 - 2 * SKIP - 1
    # A fixed blur moves with the scene; the same blur with a one-pixel jitter every other frame does not.
    blurred = F.avg_pool2d(gt, 3, stride=1, padding=1, count_include_pad=False)
    jittered = torch.stack([torch.roll(f, shifts=(t % 2, 0), dims=(1, 2)) for t, f in enumerate(blurred)])
    steady, shaky = tof(blurred, gt)["tof"], tof(jittered, gt)["tof"]
    assert 0 < steady < 0.1 < shaky
    # Y-only output (the model's luma) scores like the RGB output it comes from.
    from vsrkit.color import rgb_to_y

    assert tof(rgb_to_y(jittered), gt)["tof"] == pytest.approx(shaky)


def test_short_clips_and_the_crop() -> None:
    gt = _panning(5)
    assert math.isnan(tof(gt, gt)["tof"]) and tof(gt, gt)["frames"] == []
    assert centre_crop(144) == slice(8, 136) and centre_crop(576) == slice(16, 560) and centre_crop(20) == slice(0, 20)
    with pytest.raises(ValueError, match="differ in frames or size"):
        tof(gt[:4], gt)
