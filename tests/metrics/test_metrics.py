"""PSNR / SSIM known values and parity with scikit-image; the named protocols' conventions."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from skimage.metrics import structural_similarity

from vsrkit.color import MATLAB_Y_WEIGHTS, RLSP_Y_WEIGHTS
from vsrkit.errors import VsrkitError
from vsrkit.metrics import Protocol, get_protocol, list_protocols, psnr, register_protocol, ssim


def _image_pair(c: int, h: int, w: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 6, h), torch.linspace(0, 9, w), indexing="ij")
    base = (torch.sin(yy) * torch.cos(xx) + 1) * 110 + 10
    a = (base + torch.randn(c, h, w, generator=g) * 12).clamp(0, 255).round()
    b = (a + torch.randn(c, h, w, generator=g) * 20).clamp(0, 255).round()
    return a, b


def test_psnr_known_values() -> None:
    a = torch.full((2, 3, 8, 8), 100.0)
    assert torch.allclose(
        psnr(a, a + 5, data_range=255.0), torch.full((2,), 20 * math.log10(255 / 5)).double()
    )
    assert math.isinf(psnr(a, a, data_range=255.0)[0].item())
    # Crop removes the only differing pixels.
    b = a.clone()
    b[..., 0, :] = 0
    assert math.isinf(psnr(a, b, data_range=255.0, crop=1)[0].item())
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(a, a[..., :4])


@pytest.mark.parametrize("seed", [0, 1])
def test_ssim_matches_skimage(seed: int) -> None:
    a, b = _image_pair(3, 40, 53, seed)
    ours_rgb = ssim(a, b, data_range=255.0).item()
    ref_rgb = structural_similarity(
        a.permute(1, 2, 0).numpy(),
        b.permute(1, 2, 0).numpy(),
        channel_axis=2,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
    )
    assert abs(ours_rgb - ref_rgb) <= 1e-4
    ours_y = ssim(a[:1], b[:1], data_range=255.0).item()
    ref_y = structural_similarity(
        a[0].numpy(),
        b[0].numpy(),
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
    )
    assert abs(ours_y - ref_y) <= 1e-4
    assert 0.05 < ref_y < 0.95  # a pair where a wrong window or constant would show


def test_ssim_identical_is_one_and_batches() -> None:
    a, b = _image_pair(1, 24, 24, 3)
    out = ssim(torch.stack([a, a, b]), torch.stack([a, b, a]), data_range=255.0)
    assert out.shape == (3,)
    assert out[0].item() == pytest.approx(1.0, abs=1e-12)
    assert out[1].item() == pytest.approx(out[2].item(), abs=1e-12)  # symmetric


def test_ssim_zero_padding_is_pytorch_ssim() -> None:
    """11×11 Gaussian window, zero-padded 2-D convolution, mean over the whole map, data in [0, 1]."""
    a, b = _image_pair(1, 20, 27, 4)
    x, y = a[None] / 255, b[None] / 255
    g = torch.exp(-((torch.arange(11) - 5.0) ** 2) / (2 * 1.5**2)).double()
    g = g / g.sum()
    win = (g[:, None] @ g[None, :])[None, None]
    x, y = x.double(), y.double()
    mu1, mu2 = F.conv2d(x, win, padding=5), F.conv2d(y, win, padding=5)
    s11 = F.conv2d(x * x, win, padding=5) - mu1**2
    s22 = F.conv2d(y * y, win, padding=5) - mu2**2
    s12 = F.conv2d(x * y, win, padding=5) - mu1 * mu2
    c1, c2 = 0.01**2, 0.03**2
    ref = (((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1**2 + mu2**2 + c1) * (s11 + s22 + c2))).mean()
    ours = ssim(a / 255, b / 255, data_range=1.0, padding="zero")
    assert ours.item() == pytest.approx(ref.item(), abs=1e-9)
    assert abs(ours.item() - ssim(a / 255, b / 255, data_range=1.0).item()) > 1e-4  # differs from valid


def _y(rgb255: torch.Tensor, w: tuple[float, float, float]) -> torch.Tensor:
    return (w[0] * rgb255[:, 0] + w[1] * rgb255[:, 1] + w[2] * rgb255[:, 2] + 16.0).unsqueeze(1)


def _clip(t: int = 6, h: int = 30, w: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    frames = [_image_pair(3, h, w, s) for s in range(t)]
    target = torch.stack([a for a, _ in frames]).double() / 255
    output = torch.stack([b for _, b in frames]).double() / 255 + 0.0013  # off the 8-bit grid
    return output.clamp(0, 1), target


def test_rlsp_protocol_convention() -> None:
    out_rgb, target = _clip()
    y_out = _y(out_rgb * 255, RLSP_Y_WEIGHTS) / 255  # a Y-only model's output
    r = get_protocol("rlsp").score(y_out, target)
    pred = (y_out * 255).clamp(0, 255).round()
    gt = _y(target * 255, RLSP_Y_WEIGHTS).round()
    expected = [psnr(pred[t : t + 1], gt[t : t + 1], data_range=255.0, crop=8).item() for t in range(6)]
    assert len(r["frames"]) == 6
    assert [f["psnr"] for f in r["frames"]] == pytest.approx(expected, abs=1e-9)
    assert r["psnr"] == pytest.approx(sum(expected) / 6, abs=1e-9)
    # Uncropped or MATLAB-Y scores differ, so the crop and the weights are really applied.
    assert psnr(pred[:1], gt[:1], data_range=255.0).item() != pytest.approx(expected[0], abs=1e-6)


def test_mrvsr_protocol_convention() -> None:
    out_rgb, target = _clip(t=7)
    y_out = _y(out_rgb * 255, MATLAB_Y_WEIGHTS) / 255
    y_out[..., :3, :] = 0.0  # must be clipped to 16/255, not 0
    r = get_protocol("mrvsr").score(y_out, target)
    assert len(r["frames"]) == 3  # frames 2, 3, 4 of 7
    pred = (y_out * 255).clamp(16, 235).round()
    gt = _y(target * 255, MATLAB_Y_WEIGHTS)  # not rounded
    for k, t in enumerate(range(2, 5)):
        p = psnr(pred[t : t + 1], gt[t : t + 1], data_range=255.0, crop=8).item()
        s = ssim(pred[t : t + 1] / 255, gt[t : t + 1] / 255, data_range=1.0, crop=8, padding="zero").item()
        assert r["frames"][k]["psnr"] == pytest.approx(p, abs=1e-9)
        assert r["frames"][k]["ssim"] == pytest.approx(s, abs=1e-12)


def test_basicsr_protocols_with_rgb_output() -> None:
    out_rgb, target = _clip(t=2)
    r = get_protocol("basicsr-y").score(out_rgb.float(), target.float())
    pred8 = (out_rgb * 255).round()
    pred = _y(pred8, MATLAB_Y_WEIGHTS)  # Y of the 8-bit output, not rounded
    gt = _y(target * 255, MATLAB_Y_WEIGHTS)
    for t in range(2):
        assert r["frames"][t]["psnr"] == pytest.approx(
            psnr(pred[t : t + 1], gt[t : t + 1], data_range=255.0).item(), abs=1e-4
        )
        assert r["frames"][t]["ssim"] == pytest.approx(
            ssim(pred[t : t + 1], gt[t : t + 1], data_range=255.0).item(), abs=1e-6
        )
    rgb = get_protocol("basicsr-rgb").score(out_rgb, target)
    p0 = psnr(pred8[:1], (target[:1] * 255).round(), data_range=255.0).item()
    assert rgb["frames"][0]["psnr"] == pytest.approx(p0, abs=1e-9)


def test_rgb_protocol_rejects_y_output_and_shape_mismatch() -> None:
    _, target = _clip(t=2)
    with pytest.raises(VsrkitError, match="outputs Y only"):
        get_protocol("basicsr-rgb").score(target[:, :1], target)
    with pytest.raises(VsrkitError, match="does not match"):
        get_protocol("basicsr-y").score(target[:1], target)


def test_protocol_registry_and_temporal_skipping() -> None:
    assert {"rlsp", "mrvsr", "basicsr-y", "basicsr-rgb"} <= set(list_protocols())
    with pytest.raises(VsrkitError, match="unknown protocol"):
        get_protocol("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_protocol("rlsp", Protocol("rlsp", channel="y"))
    name = "test-skip-h1"
    if name not in list_protocols():
        register_protocol(name, Protocol(name, channel="rgb", skip_start=2, skip_end=1))
    out, target = _clip(t=6)
    r = get_protocol(name).score(out, target)
    full = get_protocol("basicsr-rgb").score(out, target)
    assert [f["psnr"] for f in r["frames"]] == [f["psnr"] for f in full["frames"][2:5]]
    with pytest.raises(VsrkitError, match="only 3"):
        get_protocol(name).score(out[:3], target[:3])
