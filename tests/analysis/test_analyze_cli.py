"""`vsrkit make-quasistatic` and `vsrkit analyze per-frame|temporal-profile|strf` end to end, tiny."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from typer.testing import CliRunner

from vsrkit import create_model
from vsrkit.cli.main import app
from vsrkit.io.frames import list_frames, write_image
from vsrkit.weights.io import save_weights


def test_quasistatic_then_analyses(tmp_path: Path) -> None:
    runner = CliRunner()
    still = tmp_path / "still.png"
    write_image(still, torch.rand(3, 44, 44))
    seq = tmp_path / "qs"
    res = runner.invoke(app, ["make-quasistatic", str(still), str(seq), "--frames", "24", "--crop", "44", "44"])
    assert res.exit_code == 0, res.output
    assert len(list_frames(seq)) == 24
    w = {}
    for name, kw in (("rfs3", {}), ("mrvsr", {"srnl_size": 8})):
        w[name] = save_weights(create_model(name, pretrained=False, filters=4, **kw), tmp_path / f"{name}.safetensors")
    res = runner.invoke(app, ["analyze", "per-frame", "--model", f"ref={w['rfs3']}", "--model", str(w["mrvsr"]),
                              "--source", str(seq), "--window", "6", "--ylim", "-3", "2",
                              "--json", str(tmp_path / "pf.json"), "--plot", str(tmp_path / "pf.png")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "pf.json").read_text())
    assert set(data["table"]) == {"ref", "mrvsr"}
    assert data["mean_delta_psnr"]["ref"] == [0.0] * 24
    row = data["table"]["mrvsr"]
    assert row["drift"]["psnr"] == row["last"]["psnr"] - row["first"]["psnr"]
    assert (tmp_path / "pf.png").is_file()
    res = runner.invoke(app, ["analyze", "temporal-profile", "--model", str(w["mrvsr"]), "--source", str(seq),
                              "--start", "3", "--count", "10", "--json", str(tmp_path / "tp.json"),
                              "--plot", str(tmp_path / "tp.png")])
    assert res.exit_code == 0, res.output
    prof = json.loads((tmp_path / "tp.json").read_text())
    assert set(prof["models"]) == {"mrvsr", "GT"} and prof["models"]["GT"]["frames"] == 10
    res = runner.invoke(app, ["analyze", "strf", "--model", str(w["rfs3"]), "--iterations", "2", "--tau", "2",
                              "--size", "8", "--json", str(tmp_path / "strf.json")])
    assert res.exit_code == 0, res.output
    assert len(json.loads((tmp_path / "strf.json").read_text())["change"]) == 5


def test_user_errors_exit_2_and_leave_nothing(tmp_path: Path) -> None:
    import sys

    import pytest

    from vsrkit.cli.main import main

    for argv in (
        ["make-quasistatic", str(tmp_path / "missing.png"), str(tmp_path / "out")],
        ["analyze", "spectrum", "--model", "no-such-model"],
        ["analyze", "per-frame", "--model", "rfs3", "--source", str(tmp_path / "nothing")],
    ):
        sys_argv = sys.argv
        sys.argv = ["vsrkit", *argv]
        try:
            with pytest.raises(SystemExit) as exc:
                main()
        finally:
            sys.argv = sys_argv
        assert exc.value.code == 2, argv
    assert not (tmp_path / "out").exists()
