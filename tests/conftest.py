"""Shared fixtures.

``vsrkit_cli`` runs the command line in this process: ``vsrkit_cli("upscale", src, dst, ...)`` gives
``(exit code, stdout, stderr)``. ``shared`` resolves a path inside ../shared (or $VSRKIT_SHARED). When the path is missing the test
skips locally but fails under ``VSRKIT_REQUIRE_SHARED=1`` (CI), so CI can never pass by skipping.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from vsrkit.shared import shared_path, shared_required


@pytest.fixture
def shared() -> Callable[..., Path]:
    def resolve(*parts: str) -> Path:
        path = shared_path(*parts)
        if not path.exists():
            message = f"shared file missing: {path}"
            if shared_required():
                pytest.fail(message)
            pytest.skip(message)
        return path

    return resolve


@pytest.fixture
def vsrkit_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    from vsrkit.cli.main import main

    def run(*args: str | Path) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["vsrkit", *map(str, args)])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture(autouse=True)
def _deterministic() -> None:
    torch.manual_seed(0)
