"""The official MRVSR/RFS3/RLSP-port cell state dicts convert, and the converted models compute
what the official cells compute (re-derived here with plain F.conv2d from the state dict)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from vsrkit.errors import WeightsError
from vsrkit.weights.convert import convert
from vsrkit.weights.io import load_model, trained_degradation

F_ = 8  # tiny width; shapes otherwise as the official files
S = 4


def _conv(cin: int, cout: int) -> dict[str, torch.Tensor]:
    return {"weight": torch.randn(cout, cin, 3, 3) * (1.0 / (3 * cin) ** 0.5), "bias": torch.randn(cout) * 0.01}


def _put(state: dict, name: str, cin: int, cout: int) -> None:
    for k, v in _conv(cin, cout).items():
        state[f"{name}.{k}"] = v


def official_mrvsr() -> dict[str, torch.Tensor]:
    sd: dict[str, torch.Tensor] = {}
    _put(sd, "xi_layers.0", 9, F_)
    _put(sd, "xi_layers.2", F_, F_)
    _put(sd, "xi_layers.4", F_, F_)
    _put(sd, "phi_hidden_state_layer.0", F_, F_)
    _put(sd, "phi_layers.0", 2 * F_, F_)
    _put(sd, "psi_layers.0", 2 * F_, F_)
    _put(sd, "psi_layers.2", F_, F_)
    _put(sd, "psi_output_layer", F_, S * S)
    return sd


def official_trunk(hidden: bool) -> dict[str, torch.Tensor]:
    sd: dict[str, torch.Tensor] = {}
    _put(sd, "block1.0", 9 + (F_ + S * S if hidden else 0), F_)
    for i in range(5):
        _put(sd, f"blocks.{2 * i}", F_, F_)
    if hidden:
        _put(sd, "hidden_state_layer.0", F_, F_)
    _put(sd, "output_layer", F_, S * S)
    return sd


def _c(sd: dict, name: str, x: torch.Tensor, relu: bool = True) -> torch.Tensor:
    y = F.conv2d(x, sd[f"{name}.weight"], sd[f"{name}.bias"], padding=1)
    return torch.relu(y) if relu else y


def _y(rgb: torch.Tensor) -> torch.Tensor:
    # The official rgb2ycbcr first row on [0, 1] data.
    w = torch.tensor([0.256788235294118, 0.504129411764706, 0.097905882352941]).view(1, 3, 1, 1)
    return (rgb * w).sum(1, keepdim=True) + 16 / 255


def reference(kind: str, sd: dict, clip: torch.Tensor) -> torch.Tensor:
    """The official cells unrolled with replicated boundary frames; returns (B, T, 1, sH, sW)."""
    b, t, _, h, w = clip.shape
    hid = clip.new_zeros(b, F_, h, w)
    fb = clip.new_zeros(b, S * S, h, w)
    outs = []
    for i in range(t):
        frames = torch.cat([clip[:, max(i - 1, 0)], clip[:, i], clip[:, min(i + 1, t - 1)]], 1)
        ref = _y(clip[:, i]).repeat(1, S * S, 1, 1)
        if kind == "mrvsr":
            x = _c(sd, "xi_layers.4", _c(sd, "xi_layers.2", _c(sd, "xi_layers.0", frames)))
            h_out = _c(sd, "phi_layers.0", torch.cat([x, _c(sd, "phi_hidden_state_layer.0", hid)], 1))
            z = _c(sd, "psi_layers.2", _c(sd, "psi_layers.0", torch.cat([h_out, hid], 1)))
            z = _c(sd, "psi_output_layer", z, relu=False) + ref
            hid = h_out
        else:
            x = torch.cat([frames, hid, fb], 1) if kind == "rlsp" else frames
            x = _c(sd, "block1.0", x)
            for j in range(5):
                x = _c(sd, f"blocks.{2 * j}", x)
            if kind == "rlsp":
                hid = _c(sd, "hidden_state_layer.0", x)
            z = _c(sd, "output_layer", x, relu=False) + ref
        y = F.pixel_shuffle(z, S)
        fb = F.pixel_unshuffle(y, S)
        outs.append(y)
    return torch.stack(outs, 1)


@pytest.mark.parametrize(("kind", "arch"), [("mrvsr", "mrvsr"), ("rfs3", "rfs3"), ("rlsp", "rlsp")])
def test_convert_and_match_official_cell(kind: str, arch: str, tmp_path: Path) -> None:
    sd = official_mrvsr() if kind == "mrvsr" else official_trunk(hidden=kind == "rlsp")
    src = tmp_path / f"{kind}_weights.tar"
    torch.save(sd, src)
    dst = tmp_path / f"{kind}.safetensors"
    convert("mrvsr", src, dst)
    assert trained_degradation(dst) == "mrvsr"  # corner-sampled: a mirrored self-ensemble is refused
    model = load_model(dst).eval()
    assert model.arch == arch
    assert sum(p.numel() for p in model.parameters()) == sum(v.numel() for v in sd.values())
    clip = torch.rand(1, 4, 3, 8, 12)
    with torch.no_grad():
        ours = model(clip)
    expected = reference(kind, sd, clip)
    # RLSP's residual uses the TF Y coefficients, which differ from MATLAB's by < 2e-4.
    atol = 5e-4 if kind == "rlsp" else 1e-5
    torch.testing.assert_close(ours, expected, rtol=0, atol=atol)


def test_mrvsr_converts_as_plain_weights(tmp_path: Path) -> None:
    src = tmp_path / "w.tar"
    torch.save({"state_dict": {f"MRVSRCell.{k}": v for k, v in official_mrvsr().items()}}, src)
    result = convert("mrvsr", src, tmp_path / "w.safetensors")
    assert result.model.hparams["srnl_target"] is None
    assert result.model.hparams["filters"] == F_


def test_full_size_parameter_counts(tmp_path: Path) -> None:
    from vsrkit.models import count_parameters

    assert count_parameters("mrvsr") == 1_209_360
    assert count_parameters("rfs3") == 766_864
    assert count_parameters("rlsp-7-128") == 1_080_336


def test_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar"
    torch.save({"foo.weight": torch.zeros(1)}, bad)
    with pytest.raises(WeightsError, match="bad.tar: not an MRVSR"):
        convert("mrvsr", bad, tmp_path / "o.safetensors")
    sd = official_mrvsr()
    del sd["phi_layers.0.bias"]
    partial = tmp_path / "partial.tar"
    torch.save(sd, partial)
    with pytest.raises(WeightsError, match="partial.tar: missing layer"):
        convert("mrvsr", partial, tmp_path / "o.safetensors")
    torch.save(official_trunk(hidden=False), tmp_path / "rfs3.tar")
    with pytest.raises(WeightsError, match="holds rfs3 weights"):
        convert("mrvsr", tmp_path / "rfs3.tar", tmp_path / "o.safetensors", arch="mrvsr")
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="garbage.tar: not a readable"):
        convert("mrvsr", garbage, tmp_path / "o.safetensors")
    assert not (tmp_path / "o.safetensors").exists()
