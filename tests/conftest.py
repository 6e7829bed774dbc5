"""Shared fixtures.

``shared`` resolves a path inside ../shared (or $VSRKIT_SHARED). When the path is missing the test
skips locally but fails under ``VSRKIT_REQUIRE_SHARED=1`` (CI), so CI can never pass by skipping.
"""

from __future__ import annotations

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


@pytest.fixture(autouse=True)
def _deterministic() -> None:
    torch.manual_seed(0)
