"""``vsrkit degrade``: mirrors a sequence or dataset as PNG, 16-bit for mrvsr, nothing on failure."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vsrkit.cli.main import main
from vsrkit.degradations import degrade
from vsrkit.io.frames import read_image, read_sequence


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[[list[str]], tuple[int, str]]:
    def run(args: list[str]) -> tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["vsrkit", *args])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
        return code, capsys.readouterr().err

    return run


def make_dataset(root: Path, sizes: dict[str, tuple[int, int, int]]) -> Path:
    rng = np.random.default_rng(0)
    for name, (t, h, w) in sizes.items():
        (root / name).mkdir(parents=True)
        for i in range(t):
            Image.fromarray(rng.integers(0, 256, (h, w, 3)).astype(np.uint8)).save(
                root / name / f"im{i + 1}.png"
            )
    return root


def test_dataset_is_mirrored_and_equals_library(tmp_path: Path, cli: Callable) -> None:
    src = make_dataset(tmp_path / "hr", {"x": (2, 26, 34), "y": (1, 24, 24)})
    code, err = cli(["degrade", str(src), str(tmp_path / "lr"), "--degradation", "bi", "--scale", "2"])
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "lr" / "x").iterdir()) == ["im1.png", "im2.png"]
    written = read_sequence(tmp_path / "lr" / "x")
    assert torch.equal(written, degrade(read_sequence(src / "x"), "bi", 2))
    assert written.shape == (2, 3, 13, 17)


def test_single_sequence_and_16bit_mrvsr(tmp_path: Path, cli: Callable) -> None:
    src = make_dataset(tmp_path / "hr", {"s": (1, 64, 64)})
    code, err = cli(
        ["degrade", str(src / "s"), str(tmp_path / "lr"), "--degradation", "mrvsr", "--scale", "4"]
    )
    assert code == 0, err
    path = tmp_path / "lr" / "im1.png"
    with open(path, "rb") as f:
        assert f.read(26)[24] == 16  # PNG bit depth
    got = torch.from_numpy(read_image(path)).permute(2, 0, 1)
    expected = degrade(read_sequence(src / "s"), "mrvsr", 4)[0]
    assert torch.allclose(got, expected, atol=1e-6)


def test_failure_writes_nothing(tmp_path: Path, cli: Callable) -> None:
    src = make_dataset(tmp_path / "hr", {"a": (2, 24, 24), "b": (2, 24, 24)})
    Image.new("RGB", (20, 24)).save(src / "b" / "im3.png")
    dst = tmp_path / "lr"
    code, err = cli(["degrade", str(src), str(dst), "--degradation", "bd", "--scale", "4"])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "im3.png: frame size" in err
    assert not dst.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["hr"]
    code, err = cli(["degrade", str(tmp_path / "missing"), str(dst), "--degradation", "bd"])
    assert code == 2 and "missing: dataset folder does not exist" in err and not dst.exists()
    code, err = cli(["degrade", str(src / "a"), str(dst), "--degradation", "nope"])
    assert code == 2 and "unknown degradation 'nope'" in err and not dst.exists()
