"""Location of the out-of-repository shared folder (data, official weights, reference outputs).

It is found via ``VSRKIT_SHARED``, else ``../shared`` next to the repository. It is never copied into
the repository: its licences forbid redistribution.
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_root() -> Path:
    env = os.environ.get("VSRKIT_SHARED")
    return Path(env) if env else _REPO_ROOT.parent / "shared"


def shared_path(*parts: str) -> Path:
    """Path inside the shared folder (it may not exist; callers decide whether that is fatal)."""
    return shared_root().joinpath(*parts)


def shared_required() -> bool:
    """True in CI, where a missing shared file must fail rather than skip."""
    return os.environ.get("VSRKIT_REQUIRE_SHARED", "") not in ("", "0")
