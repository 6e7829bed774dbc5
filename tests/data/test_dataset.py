"""Training data: deterministic samples, aligned paired crops under augmentation, layouts, motion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vsrkit.data.dataset import IterationBatchSampler, Photo, SampleSpec, Source, TrainDataset
from vsrkit.data.motion import MotionRange, _sway_field, synthesize
from vsrkit.data.sources import (
    ArraySequence,
    Clip,
    FolderSequence,
    frame_folder_clips,
    reds_clips,
    vimeo_clips,
)
from vsrkit.errors import InputError, VsrkitError


def _write_frames(folder: Path, frames: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for t, f in enumerate(frames):
        Image.fromarray(f).save(folder / f"{t:08d}.png")
    return folder


def _box4(x: np.ndarray) -> np.ndarray:
    t, h, w, c = x.shape
    return x.reshape(t, h // 4, 4, w // 4, 4, c).mean(axis=(2, 4))


def test_samples_are_a_function_of_the_index() -> None:
    rng = np.random.default_rng(0)
    clip = Clip(ArraySequence("a", rng.integers(0, 256, (8, 40, 44, 3), dtype=np.uint8)))
    spec = SampleSpec(num_frames=4, lr_crop=4)
    ds = TrainDataset([Source("s", 1.0, clips=[clip])], spec, seed=3)
    again = TrainDataset([Source("s", 1.0, clips=[clip])], spec, seed=3)
    a, b = ds[17], again[17]
    assert torch.equal(a["hr"], b["hr"]) and torch.equal(a["lr"], b["lr"])
    assert a["hr"].shape == (4, 3, 16, 16) and a["lr"].shape == (4, 3, 4, 4)
    assert not torch.equal(ds[18]["hr"], a["hr"])
    assert not torch.equal(TrainDataset([Source("s", 1.0, clips=[clip])], spec, seed=4)[17]["hr"], a["hr"])


def test_paired_crops_stay_aligned_under_augmentation(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    hr = rng.integers(0, 256, (6, 48, 64, 3), dtype=np.uint8)
    lr = np.round(_box4(hr.astype(np.float64))).astype(np.uint8)
    clips = frame_folder_clips(_write_frames(tmp_path / "hr" / "seq", hr).parent,
                               _write_frames(tmp_path / "lr" / "seq", lr).parent)
    ds = TrainDataset([Source("s", 1.0, clips=clips)], SampleSpec(num_frames=3, lr_crop=5, max_interval=2), seed=0)
    for i in range(12):
        s = ds[i]
        hr_np = s["hr"].permute(0, 2, 3, 1).numpy() * 255
        expected = np.round(_box4(hr_np)) / 255
        np.testing.assert_allclose(s["lr"].permute(0, 2, 3, 1).numpy(), expected, atol=1e-6)


def test_on_the_fly_degradation_matches_the_registry() -> None:
    from vsrkit.degradations import degrade

    rng = np.random.default_rng(2)
    clip = Clip(ArraySequence("a", rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)))
    ds = TrainDataset([Source("s", 1.0, clips=[clip])], SampleSpec(num_frames=3, lr_crop=4, degradation="bi"), 0)
    s = ds[0]
    assert torch.equal(s["lr"], degrade(s["hr"], "bi", 4))


def test_sources_are_drawn_by_weight() -> None:
    zeros = Clip(ArraySequence("z", np.zeros((4, 16, 16, 3), np.uint8)))
    ones = Clip(ArraySequence("o", np.full((4, 16, 16, 3), 255, np.uint8)))
    spec = SampleSpec(num_frames=2, lr_crop=4)
    ds = TrainDataset([Source("z", 3.0, clips=[zeros]), Source("o", 1.0, clips=[ones])], spec, 0)
    share = np.mean([float(ds[i]["hr"].mean()) for i in range(100)])
    assert 0.13 < share < 0.37
    with pytest.raises(VsrkitError, match="fewer than data.num_frames"):
        TrainDataset([Source("z", 1.0, clips=[zeros])], SampleSpec(num_frames=5, lr_crop=4), 0)
    with pytest.raises(VsrkitError, match="smaller than the HR crop"):
        TrainDataset([Source("z", 1.0, clips=[zeros])], SampleSpec(num_frames=2, lr_crop=8), 0)


def test_drop_unfit_leaves_out_what_cannot_give_a_sample_and_says_so() -> None:
    short = Clip(ArraySequence("short", np.zeros((3, 16, 16, 3), np.uint8)))
    long = Clip(ArraySequence("long", np.full((6, 16, 16, 3), 255, np.uint8)))
    small = Photo(ArraySequence("small", np.zeros((1, 20, 20, 3), np.uint8)))
    spec = SampleSpec(num_frames=5, lr_crop=4)
    said: list[str] = []
    ds = TrainDataset([Source("corpus", 1.0, clips=[short, long], photos=[small], drop_unfit=True)], spec, 0,
                      log=said.append)
    assert [c.hr.name for c in ds.sources[0].clips] == ["long"] and ds.sources[0].photos == []
    assert said == ["data: left out corpus/short: 3 frames, fewer than data.num_frames=5",
                    ("data: left out corpus/small: photograph 20x20 too small for synthetic motion with 16px HR "
                     "crops (needs 32px)")]  # ceil(16 * sqrt(2) * exp(0.01 * 5)) + 8
    assert all(float(ds[i]["hr"].min()) == 1.0 for i in range(5))
    # A user's own source stays strict, and a source with nothing left is an error, not an empty draw.
    with pytest.raises(VsrkitError, match="^mine/short: 3 frames, fewer than data.num_frames=5$"):
        TrainDataset([Source("mine", 1.0, clips=[short, long])], spec, 0)
    with pytest.raises(VsrkitError, match="'corpus' is empty once what does not fit is left out"):
        TrainDataset([Source("corpus", 1.0, clips=[short], drop_unfit=True)], spec, 0, log=said.append)


def test_batch_sampler_splits_the_global_batch_across_ranks() -> None:
    single = list(IterationBatchSampler(6, start_iteration=2, iterations=5))
    ranks = [list(IterationBatchSampler(6, start_iteration=2, iterations=5, rank=r, world_size=3)) for r in range(3)]
    assert single[0] == list(range(12, 18)) and len(single) == 3
    for it in range(3):
        assert [i for r in range(3) for i in ranks[r][it]] == single[it]
    with pytest.raises(VsrkitError, match="not divisible"):
        IterationBatchSampler(5, start_iteration=0, iterations=1, world_size=2)


def test_mixed_clip_lengths_take_turns_and_keep_indices_unique() -> None:
    schedule = [(3, 4), (6, 2)]
    single = list(IterationBatchSampler(0, start_iteration=0, iterations=5, schedule=schedule))
    assert [len(b) for b in single] == [4, 2, 4, 2, 4]
    assert [{n for _, n in b} for b in single] == [{3}, {6}, {3}, {6}, {3}]
    indices = [g for b in single for g, _ in b]
    assert indices == list(range(16))
    # Ranks split each iteration's batch; a resumed sampler yields what the whole run yields from there.
    ranks = [list(IterationBatchSampler(0, start_iteration=0, iterations=5, rank=r, world_size=2, schedule=schedule))
             for r in range(2)]
    assert all(ranks[0][i] + ranks[1][i] == single[i] for i in range(5))
    assert list(IterationBatchSampler(0, start_iteration=3, iterations=5, schedule=schedule)) == single[3:]
    with pytest.raises(VsrkitError, match="data.batch_size=3 is not divisible by the world size 2"):
        IterationBatchSampler(0, start_iteration=0, iterations=1, world_size=2, schedule=[(3, 4), (6, 3)])
    clip = Clip(ArraySequence("c", np.random.default_rng(0).integers(0, 256, (8, 16, 16, 3), dtype=np.uint8)))
    ds = TrainDataset([Source("s", 1.0, clips=[clip])], SampleSpec(num_frames=6, lr_crop=4), 0, lengths=[3])
    assert ds[(5, 3)]["hr"].shape == (3, 3, 16, 16) and ds[(5, 6)]["lr"].shape == (6, 3, 4, 4)
    assert torch.equal(ds[(5, 3)]["hr"], ds[(5, 3)]["hr"])
    with pytest.raises(VsrkitError, match=r"4 frames from a dataset built for clip lengths \[3, 6\]"):
        ds[(5, 4)]
    with pytest.raises(VsrkitError, match=r"clip lengths \[6, 7\] must lie in 1..6"):
        TrainDataset([Source("s", 1.0, clips=[clip])], SampleSpec(num_frames=6, lr_crop=4), 0, lengths=[7])


def test_mixed_clip_lengths_leave_a_short_clip_out_of_the_long_samples_only() -> None:
    # The corpus's short clips (Temple: 31 frames) must still feed the 10-frame iterations of a run that
    # also draws 40-frame clips.
    short = Clip(ArraySequence("short", np.zeros((4, 16, 16, 3), np.uint8)))
    long = Clip(ArraySequence("long", np.full((8, 16, 16, 3), 255, np.uint8)))
    said: list[str] = []
    ds = TrainDataset([Source("corpus", 1.0, clips=[short, long], drop_unfit=True)],
                      SampleSpec(num_frames=8, lr_crop=4), 0, log=said.append, lengths=[3])
    assert said == ["data: left out corpus/short from 8-frame samples: 4 frames, fewer than 8"]
    assert all(float(ds[(i, 8)]["hr"].min()) == 1.0 for i in range(6))
    short_draws = [float(ds[(i, 3)]["hr"].max()) for i in range(40)]
    assert 0.0 in short_draws and 1.0 in short_draws
    with pytest.raises(VsrkitError, match="'corpus' is empty from 8-frame samples once"):
        TrainDataset([Source("corpus", 1.0, clips=[short], drop_unfit=True)],
                     SampleSpec(num_frames=8, lr_crop=4), 0, log=said.append, lengths=[3])


def test_synthetic_motion() -> None:
    rng = np.random.default_rng(5)
    photo = rng.integers(0, 256, (200, 240, 3), dtype=np.uint8)
    still = synthesize(photo, np.random.default_rng(0), t_len=4, size=32,
                       motion=MotionRange(max_shift=0, max_accel=0, max_zoom=0, max_rotation=0))
    assert still.shape == (4, 32, 32, 3) and still.dtype == np.uint8
    assert all(np.array_equal(still[0], f) for f in still[1:])
    moving = synthesize(photo, np.random.default_rng(1), t_len=4, size=32,
                        motion=MotionRange(max_shift=3, max_accel=0, max_zoom=0, max_rotation=0))
    assert not np.array_equal(moving[0], moving[1])
    # Shake alone moves the camera, and not along a line: frame 2 is not frame 1's shift repeated.
    shaken = synthesize(photo, np.random.default_rng(3), t_len=6, size=32,
                        motion=MotionRange(max_shift=0, max_accel=0, max_zoom=0, max_rotation=0, jitter=2))
    steps = np.diff(shaken.astype(np.int16), axis=0)
    assert np.abs(steps).mean() > 1 and not np.array_equal(steps[0], steps[1])
    # Sway alone: a displacement field up to the amplitude, different across the frame (local, not
    # a camera shift) and changing from frame to frame.
    field = _sway_field(np.random.default_rng(4), 5, 32, 2.5)
    assert field.shape == (5, 32, 32, 2)
    assert 0.5 < float(field.abs().amax()) <= 2.5
    assert float(field[2].std(dim=(0, 1)).min()) > 0.05 and not torch.equal(field[0], field[1])
    swayed = synthesize(photo, np.random.default_rng(4), t_len=5, size=32,
                        motion=MotionRange(max_shift=0, max_accel=0, max_zoom=0, max_rotation=0, sway=2.5))
    assert swayed.shape == (5, 32, 32, 3) and not np.array_equal(swayed[0], swayed[1])
    # A photo barely larger than the crop still works (the motion is slowed down).
    small = synthesize(photo[:56, :60], np.random.default_rng(2), t_len=6, size=32)
    assert small.shape == (6, 32, 32, 3)
    ds = TrainDataset([Source("p", 1.0, photos=[Photo(ArraySequence("p", photo[None]))])],
                      SampleSpec(num_frames=3, lr_crop=8), 0)
    assert ds[0]["hr"].shape == (3, 3, 32, 32)
    with pytest.raises(VsrkitError, match="too small for synthetic motion"):
        TrainDataset([Source("p", 1.0, photos=[Photo(ArraySequence("p", photo[None, :40]))])],
                     SampleSpec(num_frames=3, lr_crop=8), 0)


def test_reds_layout_holds_out_reds4(tmp_path: Path) -> None:
    frame = np.zeros((1, 8, 8, 3), np.uint8)
    for name in ("000", "001", "011", "015", "020", "100"):
        _write_frames(tmp_path / "train_sharp" / name, frame)
    assert [c.hr.name for c in reds_clips(tmp_path / "train_sharp")] == ["001", "100"]
    assert [c.hr.name for c in reds_clips(tmp_path / "train_sharp", "reds4")] == ["000", "011", "015", "020"]
    assert len(reds_clips(tmp_path / "train_sharp", "all")) == 6
    with pytest.raises(VsrkitError, match="split"):
        reds_clips(tmp_path / "train_sharp", "val")


def test_vimeo_layout(tmp_path: Path) -> None:
    frames = np.zeros((7, 8, 8, 3), np.uint8)
    for name in ("00001/0001", "00001/0002", "00002/0001"):
        folder = tmp_path / "sequences" / name
        folder.mkdir(parents=True)
        for t, f in enumerate(frames):
            Image.fromarray(f).save(folder / f"im{t + 1}.png")
    (tmp_path / "sep_trainlist.txt").write_text("00001/0001\n00002/0001\n")
    (tmp_path / "sep_testlist.txt").write_text("00001/0002\n")
    train = vimeo_clips(tmp_path)
    assert len(train) == 2 and train[0].hr.num_frames == 7
    assert [f.name for f in train[0].hr.files] == [f"im{i}.png" for i in range(1, 8)]
    assert len(vimeo_clips(tmp_path, "test")) == 1
    (tmp_path / "sep_testlist.txt").write_text("00009/0001\n")
    with pytest.raises(InputError, match="00009/0001: Vimeo-90K sequence folder missing"):
        vimeo_clips(tmp_path, "test")


def test_folder_sequence_rejects_mismatched_frames(tmp_path: Path) -> None:
    folder = _write_frames(tmp_path / "seq", np.zeros((2, 8, 8, 3), np.uint8))
    Image.fromarray(np.zeros((8, 12, 3), np.uint8)).save(folder / "00000002.png")
    seq = FolderSequence(folder)
    with pytest.raises(InputError, match="00000002.png: frame size"):
        seq.crop([0, 1, 2], 0, 0, 4, 4)
