"""The ``stvsr`` space-time degradation: constancy, frame pairing, agreement with the data-step model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vsrkit.degradations.stvsr import STVSRDegradation, load_reds_stvsr, reds_clip_pairs
from vsrkit.errors import InputError, VsrkitError
from vsrkit.layers.fourier import bicubic_kernel_1d, circular_degrade, kernel_to_otf


@pytest.mark.parametrize("quantize", [True, False])
def test_constant_video_stays_constant(quantize: bool) -> None:
    value = 102 / 255
    hr = torch.full((12, 3, 20, 24), value)
    lr, target = STVSRDegradation(quantize=quantize).pair(hr, 4)
    assert lr.shape == (2, 3, 5, 6) and target.shape == (10, 3, 20, 24)
    torch.testing.assert_close(lr, torch.full_like(lr, value), rtol=0, atol=1e-6)


def test_constant_video_stays_constant_with_custom_kernel() -> None:
    kernel = torch.rand(7, 5)
    kernel /= kernel.sum()
    hr = torch.full((5, 3, 8, 12), 0.3)
    lr = STVSRDegradation(kernel=kernel, anchor=(3, 1), quantize=False).degrade(hr, 2)
    assert lr.shape == (1, 3, 4, 6)
    torch.testing.assert_close(lr, torch.full_like(lr, 0.3), rtol=0, atol=1e-6)


def test_frame_pairing_at_clip_ends() -> None:
    """LR frame i is the mean of HR frames 5i..5i+4; trailing HR frames without an LR frame are dropped."""
    t = 23
    hr = torch.arange(t, dtype=torch.float32).div(100).view(t, 1, 1, 1).expand(t, 3, 8, 8).contiguous()
    lr, target = STVSRDegradation(quantize=False).pair(hr, 4)
    assert lr.shape[0] == 4 and target.shape[0] == 20
    expected = torch.tensor([(5 * i + 2) / 100 for i in range(4)])
    torch.testing.assert_close(lr[:, 0, 0, 0], expected, rtol=0, atol=1e-6)
    # First and last LR frames: exactly frames 0..4 and 15..19, and the target keeps those frames.
    torch.testing.assert_close(target, hr[:20])
    torch.testing.assert_close(lr[-1], hr[15:20].mean(0)[:, :2, :2], rtol=0, atol=1e-6)
    # A clip of exactly 5 frames gives one LR frame; fewer is a readable error.
    assert STVSRDegradation().pair(hr[:5], 4)[0].shape[0] == 1
    with pytest.raises(VsrkitError, match="at least 5 HR frames"):
        STVSRDegradation().pair(hr[:4], 4)


def test_mod_crop_and_quantisation() -> None:
    hr = torch.rand(10, 3, 18, 23)
    lr, target = STVSRDegradation().pair(hr, 4)
    assert target.shape == (10, 3, 16, 20) and lr.shape == (2, 3, 4, 5)
    torch.testing.assert_close(lr * 255, (lr * 255).round(), rtol=0, atol=1e-4)


def test_interior_matches_the_fourier_forward_operator() -> None:
    """The degradation and DAVSR's data-step operator (box ⊗ bicubic ⊗ bicubic, anchors (0, 6, 6)) agree
    wherever the bicubic support does not touch a border (MATLAB mirrors there, the Fourier model wraps)."""
    hr = torch.rand(10, 3, 40, 44, dtype=torch.float64)
    lr = STVSRDegradation(quantize=False).degrade(hr, 4)
    taps, anchor = bicubic_kernel_1d(4)
    kernel = torch.full((5, 1, 1), 0.2, dtype=torch.float64) * taps.view(1, -1, 1) * taps.view(1, 1, -1)
    otf = kernel_to_otf(kernel, (0, anchor, anchor), (10, 40, 44))
    model = circular_degrade(hr.transpose(0, 1), otf, (5, 4, 4)).transpose(0, 1)
    assert model.shape == lr.shape
    inner = (slice(None), slice(None), slice(2, 8), slice(2, 9))
    torch.testing.assert_close(model[inner], lr[inner], rtol=0, atol=1e-10)
    # Near the border they differ (different boundary models), so the check above is not vacuous.
    assert (model[..., 0, 0] - lr[..., 0, 0]).abs().max() > 1e-4


def test_custom_kernel_equals_bicubic_in_the_interior() -> None:
    taps, anchor = bicubic_kernel_1d(4)
    kernel = (taps[:, None] * taps[None, :]).float()
    hr = torch.rand(5, 3, 40, 40)
    custom = STVSRDegradation(kernel=kernel, anchor=(anchor, anchor), quantize=False).degrade(hr, 4)
    default = STVSRDegradation(quantize=False).degrade(hr, 4)
    torch.testing.assert_close(custom[..., 2:8, 2:8], default[..., 2:8, 2:8], rtol=0, atol=1e-5)


def _write_clip(folder: Path, n: int, size: tuple[int, int], seed: int) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(folder / f"{i:08d}.png")


def test_reds_layout(tmp_path: Path) -> None:
    orig, lr_root = tmp_path / "train_orig", tmp_path / "train_blur_bicubic" / "X4"
    _write_clip(orig / "001", 15, (16, 20), 0)
    _write_clip(lr_root / "001", 3, (4, 5), 1)
    clips = reds_clip_pairs(orig, lr_root)
    assert [name for name, _, _ in clips] == ["001"]
    lr, target = load_reds_stvsr(clips[0][1], clips[0][2], start=1, num_lr=2)
    assert lr.shape == (2, 3, 4, 5) and target.shape == (10, 3, 16, 20)
    # LR frame 1 pairs with HR frames 5..9.
    first_hr = np.asarray(Image.open(orig / "001" / "00000005.png"), dtype=np.float32) / 255
    torch.testing.assert_close(target[0], torch.from_numpy(first_hr).permute(2, 0, 1))
    with pytest.raises(VsrkitError, match="frames 2..3 requested"):
        load_reds_stvsr(clips[0][1], clips[0][2], start=2, num_lr=2)


def test_reds_layout_errors_name_the_folder(tmp_path: Path) -> None:
    orig, lr_root = tmp_path / "orig", tmp_path / "lr"
    _write_clip(orig / "000", 9, (8, 8), 0)
    _write_clip(lr_root / "000", 2, (2, 2), 1)
    with pytest.raises(InputError, match=r"000: 9 HR frames for 2 LR frames"):
        load_reds_stvsr(orig / "000", lr_root / "000")
    _write_clip(orig / "011", 5, (8, 8), 2)
    with pytest.raises(InputError, match="011: clip has no counterpart"):
        reds_clip_pairs(orig, lr_root)


def test_registered_as_stvsr() -> None:
    from vsrkit.degradations import get_degradation

    deg = get_degradation("stvsr")
    assert deg.temporal_scale == 5
    lr, target = deg.pair(torch.rand(11, 3, 16, 16), 4)
    assert lr.shape == (2, 3, 4, 4) and target.shape == (10, 3, 16, 16)
