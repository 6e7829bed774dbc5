"""STRF input optimisation: the optimised inputs reveal each model's temporal receptive field."""

from __future__ import annotations

from pathlib import Path

import torch

from vsrkit import create_model
from vsrkit.analysis.strf import STRFSettings, optimise_input, save_strf


def test_receptive_field_extent(tmp_path: Path) -> None:
    settings = STRFSettings(tau=3, size=8, iterations=4, lr=0.1)
    rfs3 = create_model("rfs3", pretrained=False, filters=4)
    res = optimise_input(rfs3, settings)
    change = dict(zip(res["offsets"], res["change"]))
    # A 3-frame sliding window sees offsets -1, 0, +1 only.
    assert all(change[k] == 0 for k in (-3, -2, 2, 3)) and change[0] > 0
    torch.manual_seed(1)
    mrvsr = create_model("mrvsr", pretrained=False, filters=4, srnl_target=None)
    res = optimise_input(mrvsr, settings)
    change = dict(zip(res["offsets"], res["change"]))
    # Causal recurrence: nothing after +1 matters, the past does.
    assert change[2] == 0 and change[3] == 0 and change[-2] > 0
    data = save_strf(res, tmp_path / "strf.png")
    assert (tmp_path / "strf.png").is_file() and len(data["change"]) == 7
