"""Scene cuts: each shot runs as a clip of its own, so no recurrent state or chunk context crosses a cut."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
import torch

from vsrkit import create_model
from vsrkit.engine import upscaler as upscaler_module
from vsrkit.engine.scene_cuts import CUT_SCORE, NEIGHBOURS, cut_score, is_cut, mark_shots, split_shots
from vsrkit.engine.upscaler import Interrupted, Upscaler
from vsrkit.io.frames import write_image


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
    assert [len(list(s)) for s in split_shots(iter(first[:1]))] == [1]


def test_a_cut_must_stand_out_from_its_neighbours() -> None:
    """Frames so small or fast that every neighbour pair scores as high as a cut: no cut (the absolute score alone
    split such clips, as 32x32 crops of fast training clips showed); a cut between two calm shots is one."""
    rng = np.random.default_rng(0)
    busy = torch.from_numpy(rng.random((12, 3, 8, 8))).float()
    scores = [cut_score(a, b) for a, b in pairwise(busy)]
    assert min(scores) >= CUT_SCORE
    assert [flag for _, flag in mark_shots(busy)] == [True] + [False] * 11
    assert not is_cut(1.0, [0.5, 0.5, 0.5]) and is_cut(1.0, [0.05, 0.0, 0.1])
    # At a stream's ends fewer neighbours count.
    assert is_cut(1.0, []) and not is_cut(CUT_SCORE / 2, [])
    first, second = _shot(0, 3, tint=(1.0, 0.9, 0.5)), _shot(1, 1, tint=(0.3, 0.6, 1.0))
    assert [flag for _, flag in mark_shots(torch.cat([first, second]))] == [True, False, False, True]


def test_marking_reads_only_the_neighbours_ahead() -> None:
    read: list[int] = []

    def frames() -> Iterator[torch.Tensor]:
        for i, frame in enumerate(_shot(0, 8, tint=(1.0, 1.0, 1.0))):
            read.append(i)
            yield frame

    marked = mark_shots(frames())
    next(marked)
    assert len(read) == 1 + NEIGHBOURS


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


def test_a_resumed_run_keeps_the_shots_and_chunks_of_a_run_from_the_start(tmp_path: Path, monkeypatch) -> None:
    """Interrupted 6 frames after a cut and resumed with a warm-up of 3: the model starts at the cut, as the
    uninterrupted run did, not on a chunk grid counted from the video's start (frame 8, in the middle of the
    second shot's first chunk), so the output is the same to the bit."""
    monkeypatch.setattr(upscaler_module, "RESUME_WARMUP", 3)
    model = create_model("default").eval()  # trained: its state shows in the 8-bit output
    src = tmp_path / "in"
    src.mkdir()
    for i, frame in enumerate(torch.cat([_shot(0, 5, tint=(1.0, 0.9, 0.5), h=32, w=32),
                                         _shot(1, 12, tint=(0.3, 0.6, 1.0), h=32, w=32)])):
        write_image(src / f"{i:03d}.png", frame)

    class StopsAfter(Upscaler):
        def _outputs(self, frames, **kwargs):  # type: ignore[no-untyped-def, override]
            for i, out in enumerate(super()._outputs(frames, **kwargs)):
                if i == 11:
                    raise KeyboardInterrupt
                yield out

    def upscaler(kind: type[Upscaler] = Upscaler) -> Upscaler:
        return kind(model, device="cpu", precision="fp32", chunk=4)

    summary = upscaler().upscale(src, tmp_path / "whole", progress=False)
    assert "1 scene cut(s): each shot upscaled as a clip of its own" in summary.notes
    with pytest.raises(Interrupted) as stop:
        upscaler(StopsAfter).upscale(src, tmp_path / "out", progress=False, checkpoint_seconds=0)
    assert stop.value.frames_done == 11
    resumed = upscaler().upscale(src, tmp_path / "out", progress=False)
    assert resumed.frames_resumed == 11 and "1 scene cut(s): each shot upscaled as a clip of its own" in resumed.notes
    names = sorted(p.name for p in (tmp_path / "whole").iterdir())
    assert len(names) == 17
    assert [(tmp_path / "out" / n).read_bytes() == (tmp_path / "whole" / n).read_bytes() for n in names] == [True] * 17


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
