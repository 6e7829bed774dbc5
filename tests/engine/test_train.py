"""Training engine: exact resume, export, validation hook, SIGTERM checkpoint, non-finite steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from _train_utils import make_clip, tiny_config

from vsrkit.engine.config import config_from_dict
from vsrkit.engine.train import load_checkpoint, train
from vsrkit.errors import ConfigError
from vsrkit.models.rlsp import RLSP
from vsrkit.weights.io import load_model, read_metadata


def _states_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> list[str]:
    return [k for k in a if not torch.equal(a[k], b[k])]


@pytest.mark.parametrize("amp", ["none", "bf16", "fp16"])
def test_resume_is_bit_identical(tmp_path: Path, amp: str) -> None:
    data = make_clip(tmp_path / "clip")
    straight = train(config_from_dict(tiny_config(tmp_path, data, "straight", amp=amp)), log=lambda *_: None)
    assert straight.finished and straight.iteration == 20

    split_cfg = config_from_dict(tiny_config(tmp_path, data, "split", amp=amp))
    first = train(split_cfg, stop_at=10, log=lambda *_: None)
    assert not first.finished and first.iteration == 10
    resumed = train(split_cfg, resume="auto", log=lambda *_: None)
    assert resumed.finished and resumed.iteration == 20

    a, b = load_checkpoint(tmp_path / "straight/checkpoints/last.pt"), load_checkpoint(tmp_path / "split/checkpoints/last.pt")
    assert _states_equal(a["model"], b["model"]) == []
    assert _states_equal(a["ema"]["module"], b["ema"]["module"]) == []
    # Training moved the weights: the comparison is not between two untouched initialisations.
    init = train(config_from_dict(tiny_config(tmp_path, data, "init", iterations=1)), log=lambda *_: None)
    assert _states_equal(init.model.state_dict(), a["model"]) != []


def test_mixed_clip_lengths_train_and_resume_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_clip(tmp_path / "clip", frames=8)
    mix = [{"num_frames": 2, "batch_size": 4}, {"num_frames": 5, "batch_size": 2}]
    seen: list[tuple[int, ...]] = []
    original = RLSP.forward

    def record(self: RLSP, lr: torch.Tensor) -> torch.Tensor:  # the (batch, frames) of every training step
        seen.append(tuple(lr.shape[:2]))
        return original(self, lr)

    monkeypatch.setattr(RLSP, "forward", record)
    straight = train(config_from_dict(tiny_config(tmp_path, data, "straight", iterations=6, **{"data.mix": mix})),
                     log=lambda *_: None)
    monkeypatch.undo()
    assert seen == [(4, 2), (2, 5)] * 3
    split_cfg = config_from_dict(tiny_config(tmp_path, data, "split", iterations=6, **{"data.mix": mix}))
    train(split_cfg, stop_at=3, log=lambda *_: None)
    resumed = train(split_cfg, resume="auto", log=lambda *_: None)
    assert straight.finished and resumed.finished
    assert _states_equal(straight.model.state_dict(), resumed.model.state_dict()) == []
    with pytest.raises(ConfigError, match="data.mix.1.batch_size: must be positive"):
        config_from_dict(tiny_config(tmp_path, data, "bad", **{"data.mix": [mix[0], {"num_frames": 3, "batch_size": 0}]}))


def test_burn_in_frames_build_the_state_and_the_loss_sees_the_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_clip(tmp_path / "clip", frames=8)
    mix = [{"num_frames": 2, "batch_size": 2}, {"num_frames": 6, "batch_size": 2, "burn_in": 4}]
    seen: list[tuple[int, int, int]] = []
    original = RLSP.forward

    def record(self: RLSP, lr: torch.Tensor, burn_in: int = 0) -> torch.Tensor:
        out = original(self, lr, burn_in)
        seen.append((lr.shape[1], burn_in, out.shape[1]))
        return out

    monkeypatch.setattr(RLSP, "forward", record)
    straight = train(config_from_dict(tiny_config(tmp_path, data, "straight", iterations=4, **{"data.mix": mix})),
                     log=lambda *_: None)
    monkeypatch.undo()
    assert straight.finished and seen == [(2, 0, 2), (6, 4, 2)] * 2
    split_cfg = config_from_dict(tiny_config(tmp_path, data, "split", iterations=4, **{"data.mix": mix}))
    train(split_cfg, stop_at=1, log=lambda *_: None)
    resumed = train(split_cfg, resume="auto", log=lambda *_: None)
    assert _states_equal(straight.model.state_dict(), resumed.model.state_dict()) == []
    with pytest.raises(ConfigError, match="burn_in: needs a recurrent model"):
        train(config_from_dict(tiny_config(tmp_path, data, "rfs3", iterations=1, **{"data.mix": mix, "model": {
            "name": "rfs3", "kwargs": {"filters": 4}}})), log=lambda *_: None)


def test_export_and_checkpoint_contents(tmp_path: Path) -> None:
    data = make_clip(tmp_path / "clip")
    result = train(config_from_dict(tiny_config(tmp_path, data, "run", iterations=4, checkpoint_every=2,
                                                keep_checkpoints=1)), log=lambda *_: None)
    run = result.run_dir
    assert sorted(p.name for p in (run / "checkpoints").glob("iter_*.pt")) == ["iter_0000004.pt"]
    ckpt = load_checkpoint(run / "checkpoints/last.pt")
    for key in ("model", "ema", "optimizer", "rng", "iteration", "config", "counters"):
        assert key in ckpt
    assert ckpt["iteration"] == 4 and ckpt["config"]["iterations"] == 4
    meta = read_metadata(run / "final.safetensors")
    assert meta["arch"] == "rlsp" and json.loads(meta["hparams"])["filters"] == 4
    assert json.loads(meta["recipe"])["iterations"] == 4
    # No validation ran: no best is recorded (its PSNR would be -inf, which strict JSON readers refuse).
    assert "best_val" not in json.loads(meta["metrics"], parse_constant=lambda c: pytest.fail(f"{c} in metrics"))
    model = load_model(run / "final.safetensors")
    assert _states_equal(model.state_dict(), result.eval_model.state_dict()) == []
    assert json.loads((run / "config.json").read_text())["iterations"] == 4


def test_validation_keeps_best_weights(tmp_path: Path) -> None:
    data = make_clip(tmp_path / "clip")
    val = make_clip(tmp_path / "val" / "seq", frames=3, size=(16, 16), seed=1).parent
    cfg = tiny_config(tmp_path, data, "run", iterations=4)
    cfg["val"] = {"every": 2, "paths": [str(val)], "degradation": "bi", "protocol": "basicsr-y"}
    train(config_from_dict(cfg), log=lambda *_: None)
    ckpt = load_checkpoint(tmp_path / "run/checkpoints/last.pt")
    assert [h["iteration"] for h in ckpt["history"]] == [2, 4]
    assert all(h["mean"] > 5 for h in ckpt["history"])
    assert ckpt["best"]["iteration"] in (2, 4)
    assert json.loads(read_metadata(tmp_path / "run/final.safetensors")["metrics"])["best_val"] == ckpt["best"]
    best = read_metadata(tmp_path / "run/best.safetensors")
    assert json.loads(best["recipe"])["iterations"] == ckpt["best"]["iteration"]
    # The snapshot's own wall time, so shipping a best snapshot records what it cost.
    assert json.loads(best["metrics"])["wall_time_s"] > 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "run/tb"))
    events.Reload()
    assert "val/psnr_mean" in events.Tags()["scalars"]
    assert "val/sample" in events.Tags()["images"]


@pytest.mark.parametrize("kernels", [False, True])
def test_amp_without_cpu_kernels_is_warned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernels: bool) -> None:
    import vsrkit.engine.device as device_module

    monkeypatch.setattr(device_module, "onednn_supports", lambda dtype: kernels or dtype == torch.float32)
    data = make_clip(tmp_path / "clip")
    lines: list[str] = []
    result = train(config_from_dict(tiny_config(tmp_path, data, "run", iterations=1, amp="bf16")), log=lines.append)
    assert result.finished
    warned = [line for line in lines if line.startswith("warning: amp=bf16: bf16 on this CPU has no native kernels")]
    assert len(warned) == (0 if kernels else 1) and (kernels or "amp=none is faster" in warned[0])


def test_nonfinite_loss_steps_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vsrkit.engine.train as train_mod

    data = make_clip(tmp_path / "clip")
    calls = {"n": 0}
    real = train_mod.get_loss

    def poisoned(name: str, eps: float = 1e-3):
        base = real(name, eps=eps)

        def loss(pred, target):
            calls["n"] += 1
            value = base(pred, target)
            return value * float("nan") if calls["n"] in (2, 3) else value
        return loss

    monkeypatch.setattr(train_mod, "get_loss", poisoned)
    result = train(config_from_dict(tiny_config(tmp_path, data, "run", iterations=5)), log=lambda *_: None)
    ckpt = load_checkpoint(tmp_path / "run/checkpoints/last.pt")
    assert ckpt["counters"]["skipped_nonfinite"] == 2
    assert all(torch.isfinite(v).all() for v in result.model.state_dict().values())


def test_sigterm_writes_checkpoint_and_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import signal

    import vsrkit.engine.train as train_mod

    data = make_clip(tmp_path / "clip")
    real = train_mod.CosineRestart.apply

    def apply(self, optimizer, it):
        if it == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(self, optimizer, it)

    monkeypatch.setattr(train_mod.CosineRestart, "apply", apply)
    result = train(config_from_dict(tiny_config(tmp_path, data, "run")), log=lambda *_: None)
    assert not result.finished and result.iteration == 4
    assert load_checkpoint(tmp_path / "run/checkpoints/last.pt")["iteration"] == 4
    assert not (tmp_path / "run/final.safetensors").exists()


def test_freeze_and_lr_multiplier(tmp_path: Path) -> None:
    data = make_clip(tmp_path / "clip")
    cfg = tiny_config(tmp_path, data, "run", iterations=4, ema=0.0)
    cfg["optim"].update({"freeze": {"output_head": 3}, "lr_mult": {"state_head": 0.0}})
    init = train(config_from_dict({**cfg, "iterations": 1, "run_dir": str(tmp_path / "init"),
                                   "optim": {**cfg["optim"], "freeze": {"output_head": 99}}}),
                 log=lambda *_: None)
    start = init.model.state_dict()
    end = train(config_from_dict(cfg), log=lambda *_: None).model.state_dict()
    # lr multiplier 0: never moves. Frozen for 3 of 4 iterations: moves only in the last one.
    assert torch.equal(start["state_head.weight"], end["state_head.weight"])
    assert not torch.equal(start["output_head.weight"], end["output_head.weight"])
    assert not torch.equal(start["trunk.0.weight"], end["trunk.0.weight"])


def test_module_frozen_for_the_whole_run(tmp_path: Path) -> None:
    data = make_clip(tmp_path / "clip")
    cfg = tiny_config(tmp_path, data, "run", iterations=3, ema=0.0)
    cfg["optim"].update({"freeze": {"trunk": 3}})
    start = train(config_from_dict({**cfg, "iterations": 1, "run_dir": str(tmp_path / "init")}),
                  log=lambda *_: None).model.state_dict()
    result = train(config_from_dict(cfg), log=lambda *_: None)
    end = result.model.state_dict()
    assert all(torch.equal(start[k], end[k]) for k in start if k.startswith("trunk."))
    assert not torch.equal(start["output_head.weight"], end["output_head.weight"])  # moved after iteration 1
    # Trained parameters are handed back trainable.
    assert all(p.requires_grad for p in result.model.parameters())
    # Resumed with more iterations, the frozen module trains again and the optimizer state still loads.
    more = train(config_from_dict({**cfg, "iterations": 5}), resume="auto", log=lambda *_: None)
    assert more.iteration == 5
    assert not torch.equal(start["trunk.0.weight"], more.model.state_dict()["trunk.0.weight"])
    prefixes = {name.split(".")[0]: 3 for name, _ in result.model.named_parameters()}
    everything = {**cfg, "run_dir": str(tmp_path / "all"), "optim": {**cfg["optim"], "freeze": prefixes}}
    with pytest.raises(ConfigError, match="optim.freeze: every parameter is frozen"):
        train(config_from_dict(everything), log=lambda *_: None)


def test_dataloader_workers_do_not_change_the_result(tmp_path: Path) -> None:
    data = make_clip(tmp_path / "clip")
    runs = [train(config_from_dict(tiny_config(tmp_path, data, f"w{w}", iterations=3, **{"data.workers": w})),
                  log=lambda *_: None) for w in (0, 2)]
    assert _states_equal(runs[0].model.state_dict(), runs[1].model.state_dict()) == []


def test_video_file_source(tmp_path: Path) -> None:
    import av
    import numpy as np

    from vsrkit.engine.train import build_sources

    path = tmp_path / "clip.mkv"
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "bgr0"
        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    cfg = config_from_dict(tiny_config(tmp_path, tmp_path, "run", **{
        "data.sources": [{"kind": "video", "path": str(path), "hr_downscale": 2}]}))
    (source,) = build_sources(cfg, log=lambda *_: None)
    (clip,) = source.clips
    assert (clip.hr.num_frames, clip.hr.height, clip.hr.width) == (5, 24, 32)


def test_process_group_sigterm_with_workers_writes_checkpoint(tmp_path: Path) -> None:
    """SIGTERM to the whole process group (Ctrl-C, a scheduler, pkill) reaches the data workers too;
    they must leave the stop to the trainer, which checkpoints instead of dying on a worker error."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import yaml

    data = make_clip(tmp_path / "clip")
    cfg = tiny_config(tmp_path, data, "run", iterations=100_000, checkpoint_every=1, log_every=1,
                      **{"data.workers": 1})
    config = tmp_path / "cfg.yaml"
    config.write_text(yaml.safe_dump(cfg))
    proc = subprocess.Popen([sys.executable, "-m", "vsrkit.cli.main", "train", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    last = tmp_path / "run/checkpoints/last.pt"
    deadline = time.monotonic() + 120
    while not last.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()[0]
    time.sleep(0.5)  # a few iterations with the worker running
    os.killpg(proc.pid, signal.SIGTERM)
    output = proc.communicate(timeout=120)[0]
    assert "stopped by signal" in output and "Traceback" not in output, output
    stopped_at = load_checkpoint(last)["iteration"]
    assert 1 <= stopped_at < 100_000


def test_gradient_checkpointing_trains_the_same_weights(tmp_path: Path) -> None:
    """The config switch: the same run with each frame's activations recomputed ends at the same weights (within
    float reassociation); a model that cannot recompute its steps is refused with the key's name."""
    data = make_clip(tmp_path / "clip")
    plain = train(config_from_dict(tiny_config(tmp_path, data, "plain", iterations=6)), log=lambda *_: None)
    ckpt = train(config_from_dict(tiny_config(tmp_path, data, "ckpt", iterations=6, gradient_checkpointing=True)),
                 log=lambda *_: None)
    assert ckpt.model.gradient_checkpointing and not plain.model.gradient_checkpointing
    for name, value in plain.model.state_dict().items():
        torch.testing.assert_close(ckpt.model.state_dict()[name], value, rtol=1e-4, atol=1e-6)
    cfg = tiny_config(tmp_path, data, "mrvsr", iterations=1, gradient_checkpointing=True)
    cfg["model"] = {"name": "mrvsr", "kwargs": {"filters": 8, "srnl_size": 8}}
    with pytest.raises(ConfigError, match="gradient_checkpointing: 'mrvsr' does not support it"):
        train(config_from_dict(cfg), log=lambda *_: None)
