"""evaluate(): schema, aggregation, agreement with a direct computation, frame saving, time scaling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from torch import Tensor

from vsrkit import create_model
from vsrkit.degradations import get_degradation, list_degradations, register_degradation
from vsrkit.engine.evaluate import evaluate, run_model
from vsrkit.errors import VsrkitError
from vsrkit.io.frames import read_sequence
from vsrkit.metrics import get_protocol
from vsrkit.models.base import VSRModel

KEYS = {"model", "weights", "degradation", "protocol", "sequences", "mean", "fps"}


def make_dataset(root: Path, sizes: dict[str, tuple[int, int, int]], seed: int = 0) -> Path:
    """Smooth-ish random 8-bit frames: ``sizes[name] = (T, H, W)``."""
    rng = np.random.default_rng(seed)
    for name, (t, h, w) in sizes.items():
        (root / name).mkdir(parents=True)
        yy, xx = np.mgrid[0:h, 0:w]
        for i in range(t):
            base = 120 + 80 * np.sin(yy / 3.0 + i) * np.cos(xx / 4.0)
            img = np.clip(base[..., None] + rng.normal(0, 15, (h, w, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(root / name / f"f{i + 1}.png")
    return root


def test_schema_and_direct_computation(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"a": (3, 32, 40), "b": (2, 24, 36)})
    model = create_model("bicubic")
    result = evaluate(model, data, degradation="bi", protocol="basicsr-y")
    assert set(result) == KEYS
    assert (result["model"], result["weights"], result["degradation"], result["protocol"]) == (
        "bicubic",
        None,
        "bi",
        "basicsr-y",
    )
    assert list(result["sequences"]) == ["a", "b"]
    assert [len(s["frames"]) for s in result["sequences"].values()] == [3, 2]
    for name in ("a", "b"):
        hr = read_sequence(data / name)
        lr, target = get_degradation("bi").pair(hr, 4)
        direct = get_protocol("basicsr-y").score(run_model(model, lr), target)
        got = result["sequences"][name]
        assert (got["psnr"], got["ssim"]) == pytest.approx((direct["psnr"], direct["ssim"]), abs=1e-9)
        assert [f["psnr"] for f in got["frames"]] == pytest.approx(
            [f["psnr"] for f in direct["frames"]], abs=1e-9
        )
        assert set(result["sequences"][name]["frames"][0]) == {"psnr", "ssim"}
    seq_means = [s["psnr"] for s in result["sequences"].values()]
    assert result["mean"]["psnr"] == pytest.approx(sum(seq_means) / 2)
    assert result["mean"]["ssim"] == pytest.approx(sum(s["ssim"] for s in result["sequences"].values()) / 2)
    assert result["fps"] > 0


def test_y_model_saves_grayscale_frames(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"clip": (3, 48, 40)})
    model = create_model("rlsp-7-64", pretrained=False, filters=4).eval()
    out_dir = tmp_path / "frames"
    result = evaluate(
        model, data, degradation="gauss1.5", protocol="rlsp", save_frames=out_dir, weights_label="random"
    )
    assert result["weights"] == "random" and result["model"] == "rlsp-7-64"
    files = sorted((out_dir / "clip").iterdir())
    assert [f.name for f in files] == ["00000000.png", "00000001.png", "00000002.png"]
    saved = np.stack([np.asarray(Image.open(f)) for f in files])
    assert Image.open(files[0]).mode == "L" and saved.shape == (3, 48, 40)
    lr, _ = get_degradation("gauss1.5").pair(read_sequence(data / "clip"), 4)
    expected = (run_model(model, lr)[:, 0].clamp(0, 1) * 255).round().numpy()
    np.testing.assert_array_equal(saved, expected)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no staging left over


class _Repeat(VSRModel):
    """Temporal ×2, spatial ×2 nearest upsampling: a stand-in for a space-time model."""

    arch = "test-repeat"
    kind = "bidirectional"
    output = "RGB"
    temporal_scale = 2

    def __init__(self) -> None:
        super().__init__()
        self.scale = 2

    def forward(self, lr: Tensor) -> Tensor:
        up = lr.repeat_interleave(2, dim=-1).repeat_interleave(2, dim=-2)
        return up.repeat_interleave(2, dim=1)


class _HalfRate:
    """Keeps every other frame spatially decimated; the target is all HR frames."""

    name = "test-halfrate-h1"
    temporal_scale = 2

    def pair(self, hr: Tensor, scale: int) -> tuple[Tensor, Tensor]:
        n = hr.shape[0] // 2
        return hr[0 : 2 * n : 2, :, ::scale, ::scale], hr[: 2 * n]


def test_lr_and_target_lengths_may_differ(tmp_path: Path) -> None:
    if _HalfRate.name not in list_degradations():
        register_degradation(_HalfRate.name, _HalfRate())
    data = make_dataset(tmp_path / "data", {"clip": (5, 16, 16)})
    result = evaluate(_Repeat(), data, degradation=_HalfRate.name, protocol="basicsr-rgb")
    frames = result["sequences"]["clip"]["frames"]
    assert len(frames) == 4
    # Output frame 2k repeats LR frame k, which was sampled from HR frame 2k: it scores higher than
    # frame 2k+1, whose target is the next HR frame. So output frames are matched to the right targets.
    assert frames[0]["psnr"] > frames[1]["psnr"] and frames[2]["psnr"] > frames[3]["psnr"]


def test_errors_leave_no_frames(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"a": (2, 16, 16), "b": (2, 16, 16)})
    Image.new("RGB", (20, 16)).save(data / "b" / "f3.png")
    out = tmp_path / "frames"
    with pytest.raises(VsrkitError, match="differs"):
        evaluate(create_model("bicubic"), data, degradation="bi", protocol="basicsr-y", save_frames=out)
    assert not out.exists() and not any(p.name.startswith(".") for p in tmp_path.iterdir())
    with pytest.raises(VsrkitError, match="outputs Y only"):
        evaluate(
            create_model("rlsp-7-64", pretrained=False, filters=4),
            tmp_path / "data",
            degradation="bi",
            protocol="basicsr-rgb",
        )
    with pytest.raises(VsrkitError, match="not ×2"):
        evaluate(create_model("bicubic"), data, degradation="bi", protocol="basicsr-y", scale=2)


def test_failure_mid_run_removes_staged_frames(tmp_path: Path) -> None:
    """A sequence that fails after another was already written leaves nothing behind."""
    data = make_dataset(tmp_path / "data", {"a": (2, 16, 16), "b": (2, 8, 8)})
    out = tmp_path / "frames"
    # mrvsr needs frames of at least 32 px: sequence b fails inside the degradation.
    with pytest.raises(VsrkitError, match="smaller than the MRVSR crop"):
        evaluate(create_model("bicubic"), data, degradation="mrvsr", protocol="basicsr-y", save_frames=out)
    assert not out.exists() and not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_mrvsr_degradation_and_protocol_end_to_end(tmp_path: Path) -> None:
    """Centre-cropped 16-bit LR in, RGB model scored on Y with frames 0-1 and T-2..T-1 skipped."""
    data = make_dataset(tmp_path / "data", {"clip": (5, 70, 66)})
    result = evaluate(create_model("bicubic"), data, degradation="mrvsr", protocol="mrvsr")
    frames = result["sequences"]["clip"]["frames"]
    assert len(frames) == 1
    lr, target = get_degradation("mrvsr").pair(read_sequence(data / "clip"), 4)
    assert target.shape[-2:] == (64, 64)
    direct = get_protocol("mrvsr").score(run_model(create_model("bicubic"), lr), target)
    assert frames[0]["psnr"] == pytest.approx(direct["frames"][0]["psnr"], abs=1e-9)


def test_frames_too_small_for_protocol(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"clip": (2, 20, 20)})
    with pytest.raises(VsrkitError, match="too small for protocol 'rlsp'"):
        evaluate(create_model("bicubic"), data, degradation="bi", protocol="rlsp")
