"""Rendered printed matter: deterministic pages with detail, a cached build, a training source."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vsrkit.data import printed
from vsrkit.data.dataset import SampleSpec, TrainDataset
from vsrkit.data.printed import detail_level, font_files, prepare_printed, render_page
from vsrkit.engine.config import load_config
from vsrkit.engine.train import build_sources
from vsrkit.errors import VsrkitError

SYSTEM_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


@pytest.fixture(scope="module")
def fonts(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    if SYSTEM_DEJAVU.is_dir():
        return font_files([SYSTEM_DEJAVU])
    return printed.fetch_fonts(tmp_path_factory.mktemp("debs"), ("fonts-dejavu-core",))


def test_pages_are_deterministic_distinct_and_detailed(fonts: list[Path]) -> None:
    a = render_page(fonts, np.random.default_rng([0, 1]), size=192)
    assert a.shape == (192, 192, 3) and a.dtype == np.uint8
    assert np.array_equal(a, render_page(fonts, np.random.default_rng([0, 1]), size=192))
    b = render_page(fonts, np.random.default_rng([0, 2]), size=192)
    assert not np.array_equal(a, b)
    # Text and patterns, not a blank sheet: a flat page scores 0, its lighting gradient well under 0.1.
    assert min(detail_level(a), detail_level(b)) > 0.5


def test_font_files_needs_fonts(tmp_path: Path) -> None:
    with pytest.raises(VsrkitError, match="no fonts found"):
        font_files([tmp_path])


def test_build_is_cached_and_becomes_a_training_source(tmp_path: Path, fonts: list[Path],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(printed, "fetch_fonts", lambda dest, packages: fonts)
    folder = prepare_printed(tmp_path, pages=2, log=lambda _: None)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [e["name"] for e in manifest["photos"]] == ["page000", "page001"]

    def no_fonts(dest: Path, packages: tuple[str, ...]) -> list[Path]:
        raise AssertionError("a built cache must not be rebuilt")

    monkeypatch.setattr(printed, "fetch_fonts", no_fonts)
    assert prepare_printed(tmp_path, pages=2, log=lambda _: None) == folder

    cfg_path = tmp_path / "cfg.yaml"
    cfg_path.write_text(f"data: {{cache_dir: {tmp_path}, lr_crop: 8, num_frames: 3, "
                        "sources: [{kind: printed, pages: 2, weight: 0.5}]}\n")
    sources = build_sources(load_config(cfg_path), log=lambda _: None)
    assert [(s.name, s.weight, len(s.photos)) for s in sources] == [("printed", 0.5, 2)]
    sample = TrainDataset(sources, SampleSpec(num_frames=3, lr_crop=8), seed=0)[5]
    assert sample["hr"].shape == (3, 3, 32, 32) and sample["lr"].shape == (3, 3, 8, 8)
