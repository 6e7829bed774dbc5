"""HiRN: exact size, GOP schedules, Haar DWT, quirk flag, single-frame and odd-size inputs."""

from __future__ import annotations

import pytest
import torch

from vsrkit import create_model
from vsrkit.models import count_parameters
from vsrkit.models.hirn import HiRN, WaveletAttention, gop_schedule, haar_dwt, haar_idwt


def test_full_preset_parameter_count() -> None:
    assert count_parameters("hirn") == 7_513_855


@pytest.mark.parametrize("num_frames", range(1, 41))
def test_gop_schedule_covers_every_frame_once_after_its_references(num_frames: int) -> None:
    schedule = gop_schedule(num_frames)
    frames = [f for f, _, _ in schedule]
    assert sorted(frames) == list(range(num_frames))
    done: set[int] = set()
    for f, l0, l1 in schedule:
        for ref in (l0, l1):
            assert ref is None or (ref in done and ref != f)
        if f > 0:
            assert l0 is not None and l0 < f
        assert l1 is None or l1 > f
        done.add(f)


def test_gop_schedule_orders_match_the_spec() -> None:
    assert gop_schedule(17)[:6] == [(0, None, None), (16, 0, None), (8, 0, 16), (4, 0, 8), (2, 0, 4), (1, 0, 2)]
    assert gop_schedule(7) == [(0, None, None), (6, 0, None), (3, 0, 6), (1, 0, 3), (2, 1, 3), (4, 3, 6), (5, 4, 6)]
    # Groups share their anchor frame: the second GOP-16 group starts from frame 16.
    assert (24, 16, 32) in gop_schedule(33)


def test_official_schedule_reproduces_quirks_a_and_b() -> None:
    # (b) GOP 7 with 8..15 frames never computes frame 7 (nor 14).
    for n in range(8, 16):
        frames = [f for f, _, _ in gop_schedule(n, official=True)]
        assert 7 not in frames and len(frames) == len(set(frames))
    assert 14 not in [f for f, _, _ in gop_schedule(15, official=True)]
    # (a) future references past the end are clamped to the last frame.
    assert (18, 16, 19) in gop_schedule(20, official=True)


def test_haar_dwt_reconstructs_exactly_and_is_orthonormal() -> None:
    x = torch.randn(2, 5, 6, 8, dtype=torch.float64)
    bands = haar_dwt(x)
    assert bands.shape == (2, 5, 4, 3, 4)
    torch.testing.assert_close(haar_idwt(bands), x, rtol=0, atol=1e-12)
    torch.testing.assert_close(bands.square().sum(), x.square().sum())
    # A constant image has only the LL band (value 2c: the orthonormal scaling).
    const = haar_dwt(torch.full((1, 1, 4, 4), 3.0))
    assert torch.all(const[:, :, 0] == 6.0) and torch.all(const[:, :, 1:] == 0)


def test_wavelet_attention_gates_each_band() -> None:
    x = torch.randn(1, 3, 6, 8)
    out = WaveletAttention()(x)
    assert out.shape == (1, 12, 6, 8)
    # Gates are sigmoids, so each quarter is x scaled by a factor in (0, 1).
    ratio = out.view(1, 4, 3, 6, 8) / x.unsqueeze(1)
    assert torch.all((ratio > 0) & (ratio < 1))


def _small(**kw: object) -> HiRN:
    return create_model("hirn", pretrained=False, mid_channels=8, num_blocks=1, extract_blocks=1,
                        recon_blocks=1, deform_groups=4, hr_channels=8, **kw).eval()


def test_official_quirks_flag_changes_only_the_quirk_cases() -> None:
    clean = _small()
    quirky = _small(official_quirks=True)
    quirky.load_state_dict(clean.state_dict())
    with torch.no_grad():
        # 2 frames: frame 1's future reference is clamped onto itself, which is "none" either way.
        x2 = torch.rand(1, 2, 3, 12, 12)
        torch.testing.assert_close(clean(x2), quirky(x2), rtol=0, atol=0)
        # 9 frames: frame 7 is never computed by the official schedule.
        x9 = torch.rand(1, 9, 3, 12, 12)
        assert not torch.allclose(clean(x9), quirky(x9))


def test_single_frame_and_odd_sizes() -> None:
    model = _small()
    with torch.no_grad():
        assert model(torch.rand(1, 1, 3, 9, 11)).shape == (1, 1, 3, 36, 44)
        out = model(torch.rand(2, 3, 3, 7, 10))
    assert out.shape == (2, 3, 3, 28, 40) and torch.isfinite(out).all()


def test_tiny_preset_uses_frozen_flow_without_parameters() -> None:
    pytest.importorskip("cv2")
    model = create_model("hirn-tiny", pretrained=False)
    assert not any(k.startswith("spynet.") for k in model.state_dict())
    assert sum(p.numel() for p in model.parameters()) * 4 < 5e6  # fits the 5 MB weight budget
