"""Config loading: types, unknown keys, overrides; CLI errors are one line with exit code 2."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from vsrkit.cli.main import main
from vsrkit.engine.config import load_config
from vsrkit.engine.train import build_sources
from vsrkit.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return path


def test_yaml_and_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path, "data:\n  sources:\n    - {kind: frames, path: /x}\noptim: {lr: 2.0e-4}\n")
    cfg = load_config(path, ["optim.lr=5e-4", "data.sources.0.weight=2", "amp=bf16", "model.kwargs.filters=8"])
    assert cfg.optim.lr == 5e-4 and cfg.data.sources[0].weight == 2.0 and cfg.amp == "bf16"
    assert cfg.model.kwargs == {"filters": 8}
    assert isinstance(cfg.data.sources[0].weight, float)


@pytest.mark.parametrize(
    ("text", "overrides", "message"),
    [
        ("optim: {lrr: 1}\n", [], "optim.lrr: unknown key"),
        ("data: {batch_size: four}\n", [], "data.batch_size: expected an integer, got 'four'"),
        ("data: {sources: [{kind: frames, path: /x, weight: x}]}\n", [], "data.sources.0.weight: expected a number"),
        ("data: {sources: [{kind: corpus, version: 5}]}\n", [], "data.sources.0.version: expected one of"),
        ("data: {sources: [{kind: printed, pages: 0}]}\n", [], "data.sources.0.pages: must be at least 1"),
        ("amp: fp8\n", [], "amp: expected one of"),
        ("", ["optim.betas=[0.9]"], "optim.betas: expected two numbers"),
        ("", ["iterations=0"], "iterations: must be positive"),
        ("", ["data.flip=3"], "data.flip: expected true/false"),
        ("data: {num_frames: 4, burn_in: 4}\n", [], "data.burn_in: must be in [0, num_frames=4), got 4"),
        ("data: {mix: [{num_frames: 5, batch_size: 2, burn_in: 1}, {num_frames: 5, batch_size: 2}]}\n", [],
         "data.mix.1.burn_in: entries with 5 frames must share one burn_in"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, text: str, overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(_write(tmp_path, text), overrides)


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["vsrkit", "train", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return int(exc.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "overrides", "expected"),
    [
        ("optim: {lr: 1e-4, bogus: 1}\n", [],
         "error: optim.bogus: unknown key (valid: betas, freeze, grad_clip, lr, lr_mult, name, weight_decay)"),
        ("iterations: many\n", [], "error: iterations: expected an integer, got 'many'"),
        ("data: {sources: [{kind: frames, path: /nonexistent/frames}]}\n", [],
         "error: /nonexistent/frames: data.sources.0.path: data path does not exist"),
        ("", ["val.paths=[/nonexistent/val]", "data.sources=[{kind: frames, path: HERE}]"],
         "error: /nonexistent/val: val.paths.0: data path does not exist"),
    ],
)
def test_cli_config_errors_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str], text: str, overrides: list[str],
                                  expected: str) -> None:
    from _train_utils import make_clip

    clip = make_clip(tmp_path / "clip", frames=3)
    overrides = [o.replace("HERE", str(clip)) for o in overrides] + [f"run_dir={tmp_path / 'run'}"]
    code, err = _cli(monkeypatch, capsys, str(_write(tmp_path, text)), *overrides)
    assert code == 2
    assert err.strip() == expected
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_cli_missing_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _cli(monkeypatch, capsys, str(tmp_path / "nope.yaml"))
    assert code == 2 and err.strip() == f"error: {tmp_path / 'nope.yaml'}: config file not found"


def test_shipped_configs_load() -> None:
    configs = sorted((REPO / "configs").glob("*.yaml"))
    assert configs
    for path in configs:
        load_config(path)


def test_corpus_exclude_leaves_entries_out_and_rejects_unknown_names(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus_v3"
    (corpus / "video").mkdir(parents=True)
    (corpus / "photos").mkdir()
    manifest: dict[str, list[dict]] = {"video": [], "photos": []}
    entries = (("video", ["clip_a", "clip_b"], (3, 32, 32, 3)), ("photos", ["big", "small"], (1, 64, 64, 3)))
    for kind, names, shape in entries:
        for name in names:
            np.save(corpus / kind / f"{name}.npy", np.zeros(shape, np.uint8))
            manifest[kind].append({"name": name, "file": f"{kind}/{name}.npy", "shape": list(shape), "downscale": 1})
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    base = (f"data: {{cache_dir: {tmp_path}, lr_crop: 4, num_frames: 2, "
            "sources: [{kind: corpus, version: 3, exclude: [small, clip_b]}]}\n")
    sources = build_sources(load_config(_write(tmp_path, base)), log=lambda _: None)
    assert [c.hr.name for s in sources for c in s.clips] == ["clip_a"]
    assert [p.image.name for s in sources for p in s.photos] == ["big"]
    # The project's corpus, unlike a user's folders, leaves out what does not fit the sample size.
    assert all(s.drop_unfit for s in sources)
    with pytest.raises(ConfigError, match="data.sources.0.exclude: not in corpus version 3: nope"):
        build_sources(load_config(_write(tmp_path, base.replace("clip_b", "nope"))), log=lambda _: None)
