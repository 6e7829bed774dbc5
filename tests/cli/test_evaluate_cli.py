"""``vsrkit evaluate`` end to end through ``main()`` (exit codes, one-line errors, no partial output)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vsrkit import create_model
from vsrkit.cli.main import main
from vsrkit.degradations import get_degradation
from vsrkit.io.frames import read_sequence


def run_cli(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["vsrkit", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def make_dataset(root: Path, sizes: dict[str, tuple[int, int, int]]) -> Path:
    rng = np.random.default_rng(0)
    for name, (t, h, w) in sizes.items():
        (root / name).mkdir(parents=True)
        for i in range(t):
            img = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
            Image.fromarray(img).save(root / name / f"Frame {i + 1}.png")
    return root


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[[list[str]], tuple[int, str, str]]:
    monkeypatch.setenv("COLUMNS", "200")
    return lambda args: run_cli(args, capsys, monkeypatch)


def _evaluate_args(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "evaluate",
        "--model",
        "bicubic",
        "--dataset",
        str(data),
        "--degradation",
        "bi",
        "--protocol",
        "basicsr-y",
        "--json",
        str(out / "r.json"),
        "--save-frames",
        str(out / "frames"),
        "--device",
        "cpu",
        *extra,
    ]


def test_evaluate_writes_json_table_and_frames(tmp_path: Path, cli: Callable) -> None:
    data = make_dataset(tmp_path / "data", {"s1": (2, 24, 32), "s2": (3, 24, 32)})
    out = tmp_path / "out"
    code, stdout, err = cli(_evaluate_args(data, out))
    assert code == 0, err
    result = json.loads((out / "r.json").read_text())
    assert set(result) == {"model", "weights", "degradation", "protocol", "sequences", "mean", "fps"}
    assert list(result["sequences"]) == ["s1", "s2"]
    for name in ("s1", "s2", "mean"):
        assert name in stdout
    assert f"{result['mean']['psnr']:.2f}" in stdout
    assert sorted(p.name for p in (out / "frames" / "s2").iterdir()) == [f"{i:08d}.png" for i in range(3)]
    assert Image.open(out / "frames" / "s1" / "00000000.png").mode == "RGB"


def test_evaluate_self_ensemble_labels_the_result(tmp_path: Path, cli: Callable) -> None:
    data = make_dataset(tmp_path / "data", {"s1": (2, 24, 32)})
    code, _, err = cli(_evaluate_args(data, tmp_path / "out", "--self-ensemble", "2"))
    assert code == 0, err
    assert json.loads((tmp_path / "out" / "r.json").read_text())["model"] == "bicubic x2 self-ensemble"


def test_evaluate_temporal_adds_tof(tmp_path: Path, cli: Callable) -> None:
    from vsrkit.engine.evaluate import run_model
    from vsrkit.metrics.temporal import tof

    data = make_dataset(tmp_path / "data", {"s1": (7, 64, 72), "s2": (8, 64, 72)})
    code, stdout, err = cli(_evaluate_args(data, tmp_path / "out", "--temporal"))
    assert code == 0, err
    result = json.loads((tmp_path / "out" / "r.json").read_text())
    for name in ("s1", "s2"):
        lr, target = get_degradation("bi").pair(read_sequence(data / name), 4)
        direct = tof(run_model(create_model("bicubic"), lr), target)
        assert result["sequences"][name]["tof"] == pytest.approx(direct["tof"])
        assert len(result["sequences"][name]["tof_frames"]) == len(direct["frames"]) > 0
    assert result["mean"]["tof"] == pytest.approx((result["sequences"]["s1"]["tof"] + result["sequences"]["s2"]["tof"]) / 2)
    assert "tOF" in stdout and f"{result['mean']['tof']:.3f}" in stdout


def test_evaluate_scale_override_for_bicubic(tmp_path: Path, cli: Callable) -> None:
    data = make_dataset(tmp_path / "data", {"s1": (1, 30, 36)})
    code, _, err = cli(_evaluate_args(data, tmp_path / "out", "--scale", "3"))
    assert code == 0, err
    assert Image.open(tmp_path / "out" / "frames" / "s1" / "00000000.png").size == (36, 30)


def _assert_clean_failure(code: int, err: str, out: Path, needle: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], err
    assert not (out / "r.json").exists() and not (out / "frames").exists()
    if out.exists():
        assert not any(out.iterdir()), list(out.iterdir())


def test_missing_and_empty_dataset(tmp_path: Path, cli: Callable) -> None:
    out = tmp_path / "out"
    code, _, err = cli(_evaluate_args(tmp_path / "nope", out))
    _assert_clean_failure(code, err, out, "nope: dataset folder does not exist")
    (tmp_path / "empty").mkdir()
    code, _, err = cli(_evaluate_args(tmp_path / "empty", out))
    _assert_clean_failure(code, err, out, "empty: empty dataset")
    (tmp_path / "empty" / "seq").mkdir()
    code, _, err = cli(_evaluate_args(tmp_path / "empty", out))
    _assert_clean_failure(code, err, out, "seq: no image frames found")


def test_bad_frames(tmp_path: Path, cli: Callable) -> None:
    out = tmp_path / "out"
    data = make_dataset(tmp_path / "sizes", {"a": (2, 24, 32), "b": (2, 24, 32)})
    Image.new("RGB", (32, 28)).save(data / "b" / "Frame 3.png")
    code, _, err = cli(_evaluate_args(data, out))
    _assert_clean_failure(code, err, out, "Frame 3.png: frame size (28, 32) differs")

    data = make_dataset(tmp_path / "text", {"a": (2, 24, 32)})
    (data / "a" / "readme.txt").write_text("hello")
    code, _, err = cli(_evaluate_args(data, out))
    _assert_clean_failure(code, err, out, "readme.txt: not an image file")

    data = make_dataset(tmp_path / "rgba", {"a": (2, 24, 32)})
    Image.new("RGBA", (32, 24)).save(data / "a" / "Frame 9.png")
    code, _, err = cli(_evaluate_args(data, out))
    _assert_clean_failure(code, err, out, "Frame 9.png: image has an alpha channel")

    data = make_dataset(tmp_path / "corrupt", {"a": (2, 24, 32)})
    (data / "a" / "Frame 2.png").write_bytes(b"\x89PNG broken")
    code, _, err = cli(_evaluate_args(data, out))
    _assert_clean_failure(code, err, out, "Frame 2.png: cannot read image")


def test_bad_options(tmp_path: Path, cli: Callable) -> None:
    data = make_dataset(tmp_path / "data", {"a": (1, 24, 32)})
    out = tmp_path / "out"
    args = _evaluate_args(data, out)
    code, _, err = cli([*args[:6], "nope", *args[7:]])
    _assert_clean_failure(code, err, out, "unknown degradation 'nope'")
    code, _, err = cli([*args[:8], "nope", *args[9:]])
    _assert_clean_failure(code, err, out, "unknown protocol 'nope'")
    code, _, err = cli([*args[:2], "no-such-model", *args[3:]])
    _assert_clean_failure(code, err, out, "unknown model 'no-such-model'")
    code, _, err = cli(
        [
            "evaluate",
            "--model",
            "rlsp-7-64",
            "--dataset",
            str(data),
            "--degradation",
            "bi",
            "--protocol",
            "basicsr-rgb",
            "--json",
            str(out / "r.json"),
            "--device",
            "cpu",
        ]
    )
    _assert_clean_failure(code, err, out, "outputs Y only")
    code, _, err = cli([*args, "--weights", str(tmp_path / "missing.safetensors")])
    _assert_clean_failure(code, err, out, "missing.safetensors")
    code, _, err = cli([*args, "--self-ensemble", "3"])
    _assert_clean_failure(code, err, out, "--self-ensemble must be one of 1, 2, 4, 8, got 3")


def test_unavailable_device(tmp_path: Path, cli: Callable, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    data = make_dataset(tmp_path / "data", {"a": (1, 24, 32)})
    out = tmp_path / "out"
    args = _evaluate_args(data, out)
    code, _, err = cli([*args[:-1], "cuda"])
    _assert_clean_failure(code, err, out, "device 'cuda' is not available")
