"""The weights shipped inside the package: loadable, documented, and better than bicubic on real data."""

from __future__ import annotations

import json

import pytest
import torch

from vsrkit import create_model
from vsrkit.degradations import get_degradation
from vsrkit.io.frames import read_sequence
from vsrkit.metrics import get_protocol
from vsrkit.models._registry import get_preset
from vsrkit.weights.io import read_metadata

SHIPPED = ["default", "default-bd", "hirn-tiny", "iart-tiny"]


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
    assert {"psnr", "ssim"} <= set(metrics["vid4"]["bi+basicsr-y"])


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_weights_beat_bicubic_on_a_vid4_crop(name: str, shared) -> None:
    # A 6-frame, 96x96 HR crop of walk keeps this fast; the full numbers are in the model card.
    hr = read_sequence(shared("data", "vid4", "GT", "walk"))[:6, :, 100:196, 200:296]
    # Each preset is scored on the degradation it was trained for, as recorded in its recipe.
    trained_for = json.loads(read_metadata(get_preset(name).weights)["recipe"])["config"]["data"]["degradation"]
    lr, target = get_degradation(trained_for).pair(hr, 4)
    protocol = get_protocol("basicsr-y")
    with torch.inference_mode():
        trained = create_model(name).eval()(lr[None])[0]
        bicubic = create_model("bicubic")(lr[None])[0]
    assert float(protocol.score(trained, target)["psnr"]) > float(protocol.score(bicubic, target)["psnr"]) + 0.3
