"""Scene cuts: each shot runs as a clip of its own, so no recurrent state or chunk context crosses a cut."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import torch

from vsrkit import create_model
from vsrkit.engine.scene_cuts import CUT_SCORE, cut_score, split_shots
from vsrkit.engine.upscaler import Upscaler


def _shot(seed: int, frames: int, *, tint: tuple[float, float, float], h: int = 24, w: int = 32) -> torch.Tensor:
    """A smooth random texture panning one pixel a frame, tinted: ``(frames, 3, h, w)``."""
    rng = np.random.default_rng(seed)
    coarse = torch.from_numpy(rng.random((1, 3, h // 4 + 2, (w + frames) // 4 + 2))).float()
    big = torch.nn.functional.interpolate(coarse, size=(h, w + frames), mode="bicubic", align_corners=False)[0]
    big = (big * torch.tensor(tint).view(3, 1, 1)).clamp(0, 1)
    return torch.stack([big[:, :, i : i + w] for i in range(frames)])


def test_a_pan_is_one_shot_and_a_cut_starts_another() -> None:
    first = _shot(0, 6, tint=(1.0, 0.9, 0.5))
    second = _shot(1, 5, tint=(0.3, 0.6, 1.0))
    assert max(cut_score(a, b) for a, b in pairwise(first)) < CUT_SCORE
    assert cut_score(first[-1], second[0]) >= CUT_SCORE
    # The same picture made brighter (a flash, a fade) changes colours, not layout: no cut.
    assert cut_score(first[0], (first[0] * 1.3).clamp(0, 1)) < CUT_SCORE
    shots = [torch.stack(list(shot)) for shot in split_shots(iter(torch.cat([first, second])))]
    assert [len(s) for s in shots] == [6, 5]
    assert torch.equal(shots[0], first) and torch.equal(shots[1], second)
    assert [len(list(s)) for s in split_shots(iter([]))] == []


@pytest.mark.parametrize("name", ["rlsp-bi-dis-7-48", "rlsp-dis-7-48"])
def test_each_shot_is_upscaled_as_a_clip_of_its_own(name: str) -> None:
    """A bidirectional (chunked, carried state) and a recurrent (streaming) model: with cuts, the output of two
    joined shots is the two shots' outputs one after the other; without, the state crosses the cut."""
    torch.manual_seed(0)
    model = create_model(name, pretrained=False, filters=8).eval()
    first, second = _shot(0, 7, tint=(1.0, 0.9, 0.5)), _shot(1, 6, tint=(0.3, 0.6, 1.0))
    joined = torch.cat([first, second])

    def upscaled(frames: torch.Tensor, cuts: bool) -> torch.Tensor:
        upscaler = Upscaler(model, device="cpu", precision="fp32", chunk=4, scene_cuts=cuts)
        return torch.cat(list(upscaler.stream(frames.unbind(0))))

    apart = torch.cat([upscaled(first, False), upscaled(second, False)])
    torch.testing.assert_close(upscaled(joined, True), apart, rtol=0, atol=1e-6)
    assert not torch.allclose(upscaled(joined, False), apart, atol=1e-3)


def test_cli_turns_scene_cuts_off(tmp_path, monkeypatch) -> None:
    import sys

    from vsrkit.cli.main import main
    from vsrkit.demo import flat, write_sample_video

    src = write_sample_video(tmp_path / "in.mp4", flat((50, 100, 150), 16, 16), frames=3)
    seen: list[bool] = []
    original = Upscaler.__init__

    def recording(self, *args, **kwargs):
        seen.append(kwargs["scene_cuts"])
        original(self, *args, **kwargs)

    monkeypatch.setattr(Upscaler, "__init__", recording)
    for flag in ([], ["--no-scene-cuts"]):
        monkeypatch.setattr(sys, "argv", ["vsrkit", "upscale", str(src), str(tmp_path / "out.mp4"), "--model",
                                          "bicubic", "--quiet", "--no-resume", *flag])
        with pytest.raises(SystemExit) as done:
            main()
        assert done.value.code == 0
    assert seen == [True, False]
