"""``rlsp-tf`` conversion of TF1 RLSP checkpoints of any depth and width, written here without TF."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from tf1_checkpoint_writer import write_checkpoint

from vsrkit import create_model
from vsrkit.cli.main import main
from vsrkit.errors import InputError, WeightsError
from vsrkit.weights.convert import convert
from vsrkit.weights.io import load_model, read_metadata, trained_degradation


def rlsp_tf_tensors(num_layers: int, filters: int, scale: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    """Variables as the TF RLSP graph saves them, with Adam slots and beta powers."""
    rng = np.random.default_rng(seed)
    s2 = scale * scale
    io = [(9 + filters + s2, filters)] + [(filters, filters)] * (num_layers - 1) + [(filters, s2)]
    tensors: dict[str, np.ndarray] = {
        "beta1_power": np.array(0.5, np.float32),
        "beta2_power": np.array(0.7, np.float32),
    }
    for i, (cin, cout) in enumerate(io):
        for kind, shape in (("kernel", (3, 3, cin, cout)), ("bias", (cout,))):
            value = (rng.standard_normal(shape) * 0.05).astype(np.float32)
            tensors[f"layer{i}/{kind}"] = value
            tensors[f"layer{i}/{kind}/Adam"] = rng.standard_normal(shape).astype(np.float32)
            tensors[f"layer{i}/{kind}/Adam_1"] = rng.random(shape).astype(np.float32)
    return tensors


def _same_correlation(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """TF ``conv2d(padding='SAME')`` on ``(H, W, Cin)`` with a ``[3, 3, Cin, Cout]`` kernel, in numpy."""
    h, w, _ = x.shape
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    out = np.zeros((h, w, kernel.shape[3]), np.float64) + bias
    for i in range(3):
        for j in range(3):
            out += padded[i : i + h, j : j + w] @ kernel[i, j].astype(np.float64)
    return out


@pytest.mark.parametrize(
    "prefix_name, num_layers, filters",
    [("ckpt_rslp_16", 7, 16), ("model.ckpt-5000", 5, 8), ("ckpt_rlsp_48", 7, 48)],
)
def test_infers_depth_width_and_maps_every_tensor(
    tmp_path: Path, prefix_name: str, num_layers: int, filters: int
) -> None:
    tensors = rlsp_tf_tensors(num_layers, filters)
    write_checkpoint(tmp_path / prefix_name, tensors)
    out = tmp_path / "out.safetensors"
    convert("rlsp-tf", tmp_path / prefix_name, out)

    meta = read_metadata(out)
    assert json.loads(meta["hparams"]) == {
        "num_layers": num_layers,
        "filters": filters,
        "scale": 4,
        "value_range": 255.0,
        "align": "none",  # the official network has no alignment
        "dis_finest_scale": 1,  # the constructor's default; unused without alignment
        "guide_channels": 0,  # only a bidirectional model's forward cell reads a guide
    }
    assert (
        meta["arch"] == "rlsp" and "not redistributable" in meta["licence"] and prefix_name in meta["source"]
    )
    assert meta.get("preset") == (f"rlsp-7-{filters}" if (num_layers, filters) == (7, 48) else None)
    # Trained on the paper's BD LR: recorded, so that a mirrored self-ensemble is refused.
    assert trained_degradation(out) == "gauss1.5"

    model = load_model(out).eval()
    state = model.state_dict()
    assert len(state) == 2 * (num_layers + 1)  # no Adam slot or beta power came along
    mapping = json.loads(meta["tf_variables"])
    for key, value in state.items():
        source = tensors[mapping[key]]
        expected = source.transpose(3, 2, 0, 1) if source.ndim == 4 else source
        np.testing.assert_array_equal(value.numpy(), expected)
    assert mapping["output_head.weight"] == f"layer{num_layers}/kernel"
    assert mapping["state_head.weight"] == f"layer{num_layers - 1}/kernel"

    # The converted first conv computes what TF's SAME conv computes with the original kernel.
    x = np.random.default_rng(1).standard_normal((5, 6, 9 + filters + 16)).astype(np.float32)
    expected = _same_correlation(x, tensors["layer0/kernel"], tensors["layer0/bias"])
    with torch.no_grad():
        got = model.trunk[0](torch.from_numpy(x).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_arch_hint_and_wrong_architecture(tmp_path: Path) -> None:
    write_checkpoint(tmp_path / "ck", rlsp_tf_tensors(7, 16))
    out = tmp_path / "out.safetensors"
    with pytest.raises(WeightsError, match="checkpoint is RLSP 7-16 .* not 'rlsp-7-64'"):
        convert("rlsp-tf", tmp_path / "ck", out, arch="rlsp-7-64")
    assert not out.exists() and not list(tmp_path.glob("*.part"))
    convert("rlsp-tf", tmp_path / "ck", out, arch="rlsp")
    with pytest.raises(WeightsError, match=r"weights do not fit model .rlsp-7-48.: filters=\d+ \(preset has 48\)") as info:
        create_model("rlsp-7-48", weights=out)
    assert "\n" not in str(info.value) and str(out) in str(info.value)


def test_not_an_rlsp_checkpoint(tmp_path: Path) -> None:
    tensors = rlsp_tf_tensors(7, 8)
    tensors["layer0/kernel"] = np.zeros((3, 3, 10, 8), np.float32)  # wrong input channels
    write_checkpoint(tmp_path / "bad", tensors)
    with pytest.raises(WeightsError, match=r"layer0 10->8 \(expected 33->8\)"):
        convert("rlsp-tf", tmp_path / "bad", tmp_path / "o.safetensors")
    write_checkpoint(tmp_path / "other", {"generator/conv1/weights": np.zeros((3, 3, 3, 8), np.float32)})
    with pytest.raises(WeightsError, match="unexpected variables generator/conv1/weights"):
        convert("rlsp-tf", tmp_path / "other", tmp_path / "o.safetensors")
    assert not (tmp_path / "o.safetensors").exists()


def test_cli_corrupt_checkpoint_exits_2_without_output(tmp_path: Path, monkeypatch, capsys) -> None:
    write_checkpoint(tmp_path / "ck", rlsp_tf_tensors(7, 8))
    data = tmp_path / "ck.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    out = tmp_path / "out.safetensors"
    monkeypatch.setattr(
        sys, "argv", ["vsrkit", "convert", "--from", "rlsp-tf", str(tmp_path / "ck"), str(out)]
    )
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "truncated" in err and str(data) in err
    assert not out.exists()
    with pytest.raises(InputError, match="checkpoint index not found"):
        convert("rlsp-tf", tmp_path / "missing", out)
