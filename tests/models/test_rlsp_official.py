"""RLSP 7-64 with the official TF checkpoint reproduces the authors' Vid4 outputs.

The checkpoint is converted into tmp (its licence forbids copying it into the repository), run through
the project's own ``gauss1.5`` degradation, ``rlsp`` protocol and ``evaluate``, and the saved 8-bit Y
frames of one whole clip (city, 34 frames, the smallest) are compared pixel by pixel with the
authors' frames. ``benchmarks/rlsp_official.py`` does the same for all of Vid4.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vsrkit import create_model
from vsrkit.cli.main import main
from vsrkit.degradations import get_degradation
from vsrkit.engine.evaluate import evaluate
from vsrkit.errors import WeightsError
from vsrkit.io.frames import list_frames, read_image, read_sequence, to_tensor
from vsrkit.metrics import get_protocol
from vsrkit.weights.convert import convert


@pytest.fixture
def official(shared, tmp_path: Path) -> Path:
    """The official 7-64 checkpoint converted to vsrkit safetensors in tmp."""
    prefix = shared("weights", "rlsp_tf", "ckpt_rlsp_64.index").with_suffix("")
    out = tmp_path / "rlsp64.safetensors"
    convert("rlsp-tf", prefix, out)
    return out


def _y_frames(folder: Path) -> np.ndarray:
    return np.stack([np.asarray(Image.open(p), dtype=np.int16) for p in list_frames(folder)])


def test_city_matches_official_outputs(shared, official: Path, tmp_path: Path) -> None:
    gt = shared("data", "vid4", "GT", "city")
    reference_dir = shared("reference", "rlsp_7-64_vid4", "city")
    model = create_model("rlsp-7-64", weights=official)
    result = evaluate(model, gt, degradation="gauss1.5", protocol="rlsp", save_frames=tmp_path / "out")

    ours = _y_frames(tmp_path / "out" / "city")
    reference = _y_frames(reference_dir)
    assert ours.shape == reference.shape == (34, 576, 704)
    diff = np.abs(ours - reference)
    identical = float((diff == 0).mean())
    assert identical >= 0.999 and diff.max() <= 1, f"identical {identical:.6f}, max |diff| {diff.max()}"

    # Scored by the same protocol against the same target, the reference frames give our PSNR.
    _, target = get_degradation("gauss1.5").pair(read_sequence(gt), 4)
    ref_score = get_protocol("rlsp").score(torch.from_numpy(reference[:, None] / 255.0).float(), target)
    assert result["sequences"]["city"]["psnr"] == pytest.approx(ref_score["psnr"], abs=0.01)


def test_streaming_equals_whole_sequence_with_official_weights(shared, official: Path) -> None:
    paths = list_frames(shared("data", "vid4", "GT", "walk"))[:5]
    hr = torch.stack([to_tensor(read_image(p)) for p in paths])[:, :, 200:296, 300:428]
    lr = get_degradation("gauss1.5").pair(hr, 4)[0][None]
    model = create_model("rlsp-7-64", weights=official).eval()
    with torch.no_grad():
        whole = model(lr)
        state = model.initial_state(lr[:, 0])
        padded = torch.cat([lr[:, :1], lr, lr[:, -1:]], dim=1)
        steps = []
        for t in range(lr.shape[1]):
            out, state = model.step(padded[:, t : t + 3], state)
            steps.append(out)
    torch.testing.assert_close(torch.stack(steps, 1), whole, rtol=0, atol=0)
    assert whole.std() > 0.05  # a real image came out, not a constant


def test_wrong_architecture_is_a_one_line_error(
    shared, official: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    with pytest.raises(WeightsError, match=r"weights do not fit model .rlsp-7-48.: filters=\d+ \(preset has 48\)") as info:
        create_model("rlsp-7-48", weights=official)
    assert "\n" not in str(info.value) and str(official) in str(info.value)

    gt = shared("data", "vid4", "GT", "city")
    json_out, frames = tmp_path / "r.json", tmp_path / "frames"
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "vsrkit",
            "evaluate",
            "--model",
            "rlsp-7-48",
            "--weights",
            str(official),
            "--dataset",
            str(gt),
            "--degradation",
            "gauss1.5",
            "--protocol",
            "rlsp",
            "--json",
            str(json_out),
            "--save-frames",
            str(frames),
        ],
    )
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "do not fit" in err
    assert not json_out.exists() and not frames.exists()
