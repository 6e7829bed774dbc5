"""bi / bd / gauss1.5 / mrvsr: exact agreement with their reference recipes, mod-crop, registry."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.ndimage import correlate1d, gaussian_filter

from vsrkit.degradations import (
    SpatialDegradation,
    degrade,
    get_degradation,
    list_degradations,
    register_degradation,
)
from vsrkit.errors import VsrkitError
from vsrkit.io.frames import list_frames, read_sequence


def _frames8(t: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    """Random 8-bit frames with some smooth structure (pure noise hides border and phase errors)."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.randint(0, 256, (t, 3, h, w), generator=g).float()
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    ramp = (yy * 7 + xx * 3).float().remainder(256)
    return ((noise * 0.5 + ramp * 0.5).round() / 255.0).float()


def _u8(x: torch.Tensor) -> np.ndarray:
    return (x * 255).round().to(torch.uint8).numpy()


def test_bi_equals_matlab_oracle_on_all_calendar_frames(shared: Callable[..., Path]) -> None:
    gt = read_sequence(shared("data", "vid4", "GT", "calendar"))
    oracle_paths = list_frames(shared("data", "vid4", "oracle", "calendar_BIx4_matlab"))
    oracle = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in oracle_paths])
    assert len(oracle_paths) == gt.shape[0] == 41
    lr, target = get_degradation("bi").pair(gt, 4)
    ours = _u8(lr).transpose(0, 2, 3, 1)
    assert ours.shape == oracle.shape
    assert int((ours != oracle).sum()) == 0
    assert torch.equal(target, gt)  # 720×576 is a multiple of 4: nothing cropped


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_gauss15_equals_scipy_recipe(scale: int) -> None:
    hr = _frames8(2, 37, 43)
    lr, target = get_degradation("gauss1.5").pair(hr, scale)
    h, w = 37 - 37 % scale, 43 - 43 % scale
    assert torch.equal(target, hr[..., :h, :w])
    for t in range(hr.shape[0]):
        frame = _u8(target[t]).transpose(1, 2, 0)  # the 8-bit RGB frame, (H, W, 3)
        channels = [gaussian_filter(frame[..., c].astype(np.float64), sigma=1.5) for c in range(3)]
        expected = np.rint(np.clip(np.stack(channels, -1)[0::scale, 0::scale], 0, 255)).astype(np.uint8)
        np.testing.assert_array_equal(_u8(lr[t]).transpose(1, 2, 0), expected)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bd_equals_symmetric_gaussian_recipe(scale: int) -> None:
    hr = _frames8(2, 30, 41, seed=1)
    lr, target = get_degradation("bd").pair(hr, scale)
    # The 13×13 σ=1.6 kernel as DUF builds it: a Gaussian-filtered Dirac (separable, normalised).
    dirac = np.zeros(13)
    dirac[6] = 1.0
    k = gaussian_filter(dirac, 1.6)
    assert math.isclose(k.sum(), 1.0, rel_tol=1e-12)
    x = _u8(target).astype(np.float64)
    # scipy 'reflect' is MATLAB 'symmetric' (edge sample repeated).
    blurred = correlate1d(correlate1d(x, k, axis=-2, mode="reflect"), k, axis=-1, mode="reflect")
    expected = np.clip(np.floor(blurred[..., 0::scale, 0::scale] + 0.5), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(_u8(lr), expected)


def test_bd_sampling_phase_is_zero() -> None:
    """An impulse at HR (4i, 4j) peaks at LR (i, j): LR pixel (i, j) samples HR pixel (S·i, S·j)."""
    hr = torch.zeros(1, 3, 64, 64)
    hr[..., 20, 36] = 1.0
    lr = degrade(hr, "bd", 4)
    peak = divmod(int(lr[0, 0].argmax()), lr.shape[-1])
    assert peak == (5, 9)


def test_bi_rounds_and_mod_crops() -> None:
    hr = _frames8(1, 26, 31)
    lr, target = get_degradation("bi").pair(hr, 3)
    assert target.shape[-2:] == (24, 30) and lr.shape[-2:] == (8, 10)
    assert torch.equal(target, hr[..., :24, :30])
    assert torch.equal((lr * 255).round() / 255, lr)
    # A flat frame stays flat (weights sum to one, mirrored borders).
    flat = torch.full((1, 3, 12, 12), 77 / 255)
    assert torch.equal(degrade(flat, "bi", 4), torch.full((1, 3, 3, 3), 77 / 255))


def test_mrvsr_recipe_crop_and_16bit() -> None:
    hr = _frames8(1, 70, 101, seed=2)
    lr, target = get_degradation("mrvsr").pair(hr, 4)
    # 70 -> 64 (3 rows off the top), 101 -> 96 (2 columns off the left).
    assert target.shape[-2:] == (64, 96) and lr.shape[-2:] == (16, 24)
    assert torch.equal(target, hr[..., 3:67, 2:98])
    x = _u8(hr[0]).astype(np.float64) / 255.0
    blurred = np.stack([gaussian_filter(x[c], 1.5, mode="mirror") for c in range(3)])
    expected = np.round(np.clip(blurred[:, 3:67, 2:98][:, ::4, ::4], 0, 1) * 65535) / 65535
    np.testing.assert_allclose(lr[0].double().numpy(), expected, rtol=0, atol=1e-7)
    codes = lr.double() * 65535
    assert torch.allclose(codes, codes.round(), atol=1e-2)
    assert not torch.allclose(lr.double() * 255, (lr.double() * 255).round(), atol=1e-3)  # not 8-bit


def test_mrvsr_qsv_border() -> None:
    hr = _frames8(1, 80, 76)
    lr, target = get_degradation("mrvsr-qsv").pair(hr, 4)
    # 6 px off every side: 68×64 -> centre crop to 64×64 (2 rows off the top).
    assert target.shape[-2:] == (64, 64)
    assert torch.equal(target, hr[..., 8:72, 6:70])
    assert lr.shape[-2:] == (16, 16)


def test_registry_and_errors() -> None:
    assert {"bi", "bd", "gauss1.5", "mrvsr"} <= set(list_degradations())
    with pytest.raises(VsrkitError, match="unknown degradation 'nope'"):
        get_degradation("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_degradation("bi", lambda hr, s: hr)
    with pytest.raises(VsrkitError, match="positive integer"):
        degrade(torch.rand(1, 3, 8, 8), "bi", 0)
    with pytest.raises(VsrkitError, match="too small"):
        degrade(torch.rand(1, 3, 3, 8), "bd", 4)


def test_register_plain_function_gets_mod_crop() -> None:
    name = "test-nearest-h1"
    if name not in list_degradations():
        register_degradation(name, lambda hr, s: hr[..., ::s, ::s])
    deg = get_degradation(name)
    assert isinstance(deg, SpatialDegradation)
    hr = torch.rand(2, 3, 10, 13)
    lr, target = deg.pair(hr, 4)
    assert target.shape[-2:] == (8, 12) and torch.equal(lr, hr[..., :8:4, :12:4])
