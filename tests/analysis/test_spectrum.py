"""The spectrum certificate: SRNL layers measured as applied, recurrent flags, CLI JSON schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from vsrkit import create_model
from vsrkit.analysis.spectrum import spectrum_report
from vsrkit.cli.main import app
from vsrkit.layers.spectral_norm import conv_spectral_norm
from vsrkit.weights.io import save_weights


def test_mrvsr_report_flags_and_certifies_recurrent_layers() -> None:
    model = create_model("mrvsr", pretrained=False, filters=4, srnl_size=8, srnl_target=0.7)
    with torch.no_grad():
        model.phi1.weight.mul_(20.0)
    report, spectra = spectrum_report(model, n=8)
    by_name = {layer["name"]: layer for layer in report["layers"]}
    assert sorted(by_name) == sorted(["xi.0", "xi.1", "xi.2", "phi0", "phi1", "psi.0", "psi.1", "psi_out"])
    assert {n for n, layer in by_name.items() if layer["recurrent"]} == {"phi0", "phi1"}
    assert by_name["phi1"]["max_sigma"] == pytest.approx(0.7, rel=1e-6)
    assert report["recurrent_max_sigma"] <= 0.7 + 1e-4
    # Unconstrained layers are reported as they are.
    assert by_name["psi.0"]["max_sigma"] == pytest.approx(conv_spectral_norm(model.psi[0].weight, 8))
    assert all(s.singular_values.numel() == 64 * min(s.in_channels, s.out_channels) for s in spectra)


def test_rlsp_all_layers_recurrent_rfs3_none() -> None:
    rlsp, _ = spectrum_report(create_model("rlsp-7-128", pretrained=False, filters=4), n=4)
    rfs3, _ = spectrum_report(create_model("rfs3", pretrained=False, filters=4), n=4)
    assert all(layer["recurrent"] for layer in rlsp["layers"])
    assert not any(layer["recurrent"] for layer in rfs3["layers"]) and rfs3["recurrent_max_sigma"] is None


def test_cli_spectrum_and_bake(tmp_path: Path) -> None:
    model = create_model("mrvsr", pretrained=False, filters=4, srnl_size=8)
    with torch.no_grad():
        model.phi0.weight.mul_(9.0)
    weights = save_weights(model, tmp_path / "trained.safetensors")
    runner = CliRunner()
    res = runner.invoke(app, ["analyze", "bake-srnl", str(weights), str(tmp_path / "baked.safetensors"), "--n", "8"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["analyze", "spectrum", "--model", str(tmp_path / "baked.safetensors"), "--n", "8",
                              "--json", str(tmp_path / "s.json"), "--plot", str(tmp_path / "s.png")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "s.json").read_text())
    assert {"name", "recurrent", "max_sigma"} <= set(data["layers"][0])
    rec = [layer["max_sigma"] for layer in data["layers"] if layer["recurrent"]]
    assert len(rec) == 2 and max(rec) <= 1.0 + 1e-4
    assert (tmp_path / "s.png").stat().st_size > 1000
    res = runner.invoke(app, ["analyze", "bake-srnl", str(tmp_path / "baked.safetensors"), str(tmp_path / "x.safetensors")])
    assert res.exit_code != 0 and "no SRNL layers" in str(res.exception)
