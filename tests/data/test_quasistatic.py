"""Quasi-static sequences: deterministic, the documented noise level and jitter, written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vsrkit.data.quasistatic import (
    QuasiStaticParams,
    jitter_path,
    load_scene,
    quasistatic_frames,
    scene_index,
    translate,
    write_quasistatic,
)
from vsrkit.errors import InputError, VsrkitError
from vsrkit.io.frames import list_frames, write_image


def test_noise_std_follows_the_model() -> None:
    scene = torch.full((3, 64, 64), 0.5)
    p = QuasiStaticParams(frames=4, jitter=0.0, shot=1e-4, read=0.004, seed=3)
    frames = torch.stack(list(quasistatic_frames(scene, p)))
    expected = (1e-4 * 0.5 + 0.004**2) ** 0.5
    measured = float((frames - 0.5).std())
    # 8-bit rounding adds variance 1/12 LSB^2.
    expected_q = (expected**2 + (1 / 255) ** 2 / 12) ** 0.5
    assert measured == pytest.approx(expected_q, rel=0.05)
    assert torch.equal(frames, torch.round(frames * 255) / 255)


def test_deterministic_and_seed_dependent() -> None:
    scene = torch.rand(3, 16, 16)
    p = QuasiStaticParams(frames=3, seed=1)
    a = list(quasistatic_frames(scene, p))
    b = list(quasistatic_frames(scene, p))
    c = list(quasistatic_frames(scene, QuasiStaticParams(frames=3, seed=2)))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[1], c[1])


def test_jitter_is_stationary_with_the_given_std() -> None:
    d = jitter_path(QuasiStaticParams(frames=20000, jitter=0.2, rho=0.9, seed=0))
    assert d.std(axis=0) == pytest.approx([0.2, 0.2], rel=0.1)
    lag1 = np.corrcoef(d[:-1, 0], d[1:, 0])[0, 1]
    assert lag1 == pytest.approx(0.9, abs=0.03)


def test_translate_moves_content_by_whole_pixels_exactly() -> None:
    img = torch.zeros(3, 16, 16)
    img[:, 8, 5] = 1.0
    moved = translate(img, 1.0, 2.0)
    assert moved[0].argmax().item() == 9 * 16 + 7


def test_ping_pong_indices() -> None:
    assert [scene_index(t, 3) for t in range(7)] == [0, 1, 2, 1, 0, 1, 2]
    assert scene_index(5, 1) == 0


def test_write_and_errors(tmp_path: Path) -> None:
    src = tmp_path / "still.png"
    write_image(src, torch.rand(3, 20, 24))
    scene = load_scene(src, crop=(16, 16))
    assert scene.shape == (1, 3, 16, 16)
    out = write_quasistatic(scene, tmp_path / "seq", QuasiStaticParams(frames=5), json_path=tmp_path / "seq.json")
    assert len(list_frames(out)) == 5 and (tmp_path / "seq.json").is_file()
    with pytest.raises(InputError, match="not empty"):
        write_quasistatic(scene, out, QuasiStaticParams(frames=2))
    with pytest.raises(InputError, match="larger than"):
        load_scene(src, crop=(64, 64))
    with pytest.raises(VsrkitError, match="rho"):
        QuasiStaticParams(rho=1.0).check()
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
