"""The weights shipped inside the package: loadable, documented, and better than their baseline on real data."""

from __future__ import annotations

import json

import pytest
import torch

from vsrkit import create_model
from vsrkit.degradations import get_degradation
from vsrkit.io.frames import read_sequence
from vsrkit.metrics import get_protocol
from vsrkit.models._registry import get_preset
from vsrkit.weights.io import read_metadata, trained_degradation

SHIPPED = [
    "default", "default-causal", "default-fast", "default-fast-x264", "default-x264", "default-bd", "default-bd-causal",
    "hirn-tiny", "iart-tiny", "davsr-tiny",
]


def _trained_for(name: str) -> str:
    """The degradation a preset was trained for, as recorded in its recipe."""
    degradation = trained_degradation(get_preset(name).weights)
    assert degradation is not None
    return degradation


def _space_time(name: str) -> bool:
    return get_preset(name).cls.temporal_scale > 1


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_weights_are_small_and_carry_their_recipe(name: str) -> None:
    path = get_preset(name).weights
    assert path is not None and path.is_file()
    assert path.stat().st_size <= 5_000_000
    meta = read_metadata(path)
    assert meta["preset"] == name and meta["arch"] == get_preset(name).cls.arch
    recipe = json.loads(meta["recipe"])
    assert recipe["iterations"] > 0 and "config" in recipe
    assert meta["source"].startswith("trained by vsrkit (configs/")
    metrics = json.loads(meta["metrics"])
    assert metrics["wall_time_s"] > 0
    # Strict JSON in every metadata field: Infinity and NaN are Python's extension, refused by other readers.
    for value in meta.values():
        if value[:1] in "{[":
            json.loads(value, parse_constant=lambda c: pytest.fail(f"{name}: {c} in its metadata"))
    headline = "stvsr+davsr" if _space_time(name) else "bi+basicsr-y"
    assert {"psnr", "ssim"} <= set(metrics["vid4"][headline])


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_weights_beat_their_baseline_on_a_vid4_crop(name: str, shared) -> None:
    # Each preset is scored on the degradation it was trained for. A 96x96 HR crop of walk keeps this
    # fast (10 frames for space-time SR: 2 LR frames); the full numbers are in the model card.
    # Space-time presets are compared with the space-time cascade, the others with bicubic.
    space_time = _space_time(name)
    hr = read_sequence(shared("data", "vid4", "GT", "walk"))[: 10 if space_time else 6, :, 100:196, 200:296]
    lr, target = get_degradation(_trained_for(name)).pair(hr, 4)
    protocol = get_protocol("davsr" if space_time else "basicsr-y")
    with torch.inference_mode():
        trained = create_model(name).eval()(lr[None])[0]
        baseline = create_model("cascade-bicubic-linear" if space_time else "bicubic")(lr[None])[0]
    assert float(protocol.score(trained, target)["psnr"]) > float(protocol.score(baseline, target)["psnr"]) + 0.3


def test_default_in_upscaler_chunks_stays_close_to_a_whole_clip_run(shared) -> None:
    """`default` is bidirectional: the Upscaler runs it on temporal chunks with `chunk_warmup`
    context frames a side. On a training clip that must stay within a hundredth of a dB of one
    whole-clip pass, and clearly closer than chunks without context."""
    from vsrkit.engine.upscaler import Upscaler

    hr = read_sequence(shared("data", "train_clips", "tennis"))[:24, :, 96:224, 200:328]
    lr, target = get_degradation("bi").pair(hr, 4)
    model = create_model("default").eval()
    protocol = get_protocol("basicsr-y")
    with torch.inference_mode():
        whole = model(lr[None])[0].clamp(0, 1)

    def chunked(warmup: int | None) -> torch.Tensor:
        up = Upscaler(model, device="cpu", precision="fp32", chunk=8, warmup=warmup)
        return torch.cat([out for _, out, _ in up._outputs(iter(lr))]).clamp(0, 1)

    def psnr(out: torch.Tensor) -> float:
        return float(protocol.score(out, target)["psnr"])

    with_context, without = chunked(None), chunked(0)
    assert abs(psnr(with_context) - psnr(whole)) < 0.01
    assert (with_context - whole).abs().mean() < 0.5 * (without - whole).abs().mean()
