"""The training loop: one readable function, policies explicit (specs/style.md §5.5).

Single process: ``vsrkit train CONFIG.yaml [key=value ...]``. Several processes or machines:
``torchrun --nproc-per-node N -m vsrkit.cli.main train CONFIG.yaml`` (DistributedDataParallel, gloo on
CPU, nccl on CUDA; rank 0 logs, validates and writes checkpoints). ``--resume`` continues exactly:
samples are a function of their global index (:mod:`vsrkit.data.dataset`), and the checkpoint holds
model, EMA, optimiser, AMP scaler, RNG states, iteration and the resolved config.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.utils.data import DataLoader

from ..color import rgb_to_y
from ..data.corpus import load_manifest, prepare_default_corpus
from ..data.dataset import IterationBatchSampler, Photo, SampleSpec, Source, TrainDataset
from ..data.printed import prepare_printed
from ..data.sources import ArraySequence, Clip, frame_folder_clips, read_video_array, reds_clips, vimeo_clips
from ..degradations import get_degradation
from ..errors import ConfigError, InputError, VsrkitError
from ..models import create_model
from ..models.base import StreamingVSRModel, VSRModel
from ..shared import shared_path
from .config import TrainConfig, config_from_dict, to_dict
from .device import PRECISION_DTYPES, slow_precision_warning
from .losses import get_loss
from .optim import EMA, CosineRestart, build_optimizer, drop_frozen_grads

CHECKPOINT_VERSION = 1


# ----------------------------------------------------------------------------------------- data
def resolve_data_path(p: str) -> Path:
    """A config path; ``shared:data/...`` is inside the shared folder (``vsrkit.shared.shared_path``)."""
    if p.startswith("shared:"):
        return shared_path(*Path(p[len("shared:"):]).parts)
    return Path(p).expanduser()


def _path(p: str, key: str) -> Path:
    path = resolve_data_path(p)
    if not path.exists():
        raise InputError(path, f"{key}: data path does not exist")
    return path


def _print(*args: Any) -> None:
    # Flushed: training logs are usually redirected to a file and read while the run goes on.
    print(*args, flush=True)


def build_sources(cfg: TrainConfig, log=_print) -> list[Source]:
    sources = []
    cache = Path(cfg.data.cache_dir)
    for i, src in enumerate(cfg.data.sources):
        key = f"data.sources.{i}.path"
        lr_path = _path(src.lr_path, f"data.sources.{i}.lr_path") if src.lr_path else None
        if src.kind == "corpus":
            corpus = prepare_default_corpus(cache, version=src.version, log=log)
            manifest = load_manifest(corpus)
            unknown = set(src.exclude) - {e["name"] for e in manifest["video"] + manifest["photos"]}
            if unknown:
                raise ConfigError(f"data.sources.{i}.exclude: not in corpus version {src.version}: "
                                  f"{', '.join(sorted(unknown))}")
            clips = [Clip(ArraySequence(e["name"], corpus / e["file"])) for e in manifest["video"]
                     if e["name"] not in src.exclude]
            photos = [Photo(ArraySequence(e["name"], corpus / e["file"]), int(e["downscale"]))
                      for e in manifest["photos"] if e["name"] not in src.exclude]
            if src.video_weight > 0:
                sources.append(Source("corpus-video", src.weight * src.video_weight, clips=clips, drop_unfit=True))
            if src.photo_weight > 0:
                sources.append(Source("corpus-photos", src.weight * src.photo_weight, photos=photos,
                                      drop_unfit=True))
            continue
        if src.kind == "printed":
            folder = prepare_printed(cache, pages=src.pages, log=log)
            pages = [Photo(ArraySequence(e["name"], folder / e["file"])) for e in load_manifest(folder)["photos"]]
            sources.append(Source("printed", src.weight, photos=pages))
            continue
        path = _path(src.path, key)
        if src.kind == "frames":
            clips = frame_folder_clips(path, lr_path)
        elif src.kind == "video":
            frames = read_video_array(path)
            if src.hr_downscale > 1:
                from ..data.corpus import _downscale_uint8

                frames = _downscale_uint8(frames, src.hr_downscale)
            clips = [Clip(ArraySequence(path.stem, frames))]
        elif src.kind == "reds":
            clips = reds_clips(path, src.split, lr_path)
        elif src.kind == "vimeo":
            clips = vimeo_clips(path, src.split, lr_path)
        else:  # pragma: no cover - rejected by the config types
            raise ConfigError(f"data.sources.{i}.kind: unknown {src.kind!r}")
        sources.append(Source(f"{src.kind}:{path.name}", src.weight, clips=clips))
    if not sources:
        raise ConfigError("data.sources: no training data configured")
    return sources


def _worker_init(_: int) -> None:
    # Workers only crop, warp and resize; one thread each keeps them off the trainer's cores.
    torch.set_num_threads(1)
    # A stop signal sent to the whole process group (Ctrl-C, `kill -- -PGID`, pkill, a batch
    # scheduler) must reach only the trainer: a worker dying first makes the DataLoader raise in
    # the middle of a step, before the trainer can write its stop checkpoint. Workers still exit
    # when the trainer does (the DataLoader shuts them down, and they watch their parent).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# ---------------------------------------------------------------------------------- distributed
def _dist_info() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    return rank, world, local


def _pick_device(cfg: TrainConfig, local_rank: int) -> torch.device:
    if cfg.device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank)
        return torch.device("cpu")
    device = torch.device(cfg.device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


def _all_true(flag: bool, device: torch.device, world: int) -> bool:
    if world == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return bool(t.item() > 0.5)


# ---------------------------------------------------------------------------------- checkpoints
def _rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    torch.save(state, tmp)
    tmp.replace(path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "checkpoint not found")
    try:
        # Checkpoints hold RNG states (numpy arrays, tuples), so they are not weights-only files;
        # only load checkpoints you wrote yourself.
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a user error here
        raise InputError(path, f"not a readable checkpoint ({exc.__class__.__name__})") from None
    if not isinstance(state, dict) or state.get("format") != "vsrkit-train" or "model" not in state:
        raise InputError(path, "not a vsrkit training checkpoint")
    return state


def find_resume(run_dir: Path) -> Path | None:
    last = run_dir / "checkpoints" / "last.pt"
    return last if last.is_file() else None


# ------------------------------------------------------------------------------------ validation
def validate(model: VSRModel, cfg: TrainConfig, device: torch.device) -> dict[str, float] | None:
    """Mean PSNR over ``cfg.val.paths`` through the project's evaluation code (None if unavailable)."""
    try:
        from .evaluate import evaluate
    except ImportError:
        return None
    scores = {}
    for p in cfg.val.paths:
        report = evaluate(model, resolve_data_path(p), degradation=cfg.val.degradation, protocol=cfg.val.protocol,
                          scale=cfg.data.scale, device=device)
        scores[resolve_data_path(p).name] = float(report["mean"]["psnr"])
    scores["mean"] = float(np.mean(list(scores.values())))
    return scores


@torch.no_grad()
def sample_frame(model: VSRModel, cfg: TrainConfig, device: torch.device, frames: int = 3) -> Tensor | None:
    """Output for the last of the first ``frames`` frames of the first validation clip, ``(C, H, W)``."""
    if not cfg.val.paths:
        return None
    from ..degradations import degrade
    from ..io.frames import list_frames, list_sequences, read_image, to_tensor

    seq = list_sequences(resolve_data_path(cfg.val.paths[0]))[0]
    # Space-time degradations consume temporal_scale HR frames per LR frame (5 for stvsr).
    hr_frames = frames * model.temporal_scale
    hr = torch.stack([to_tensor(read_image(p)) for p in list_frames(seq)[:hr_frames]])
    lr = degrade(hr, cfg.val.degradation, cfg.data.scale)
    model.eval()
    out = model(lr[None].to(device))[0, -1].float().clamp(0, 1).cpu()
    return out


# --------------------------------------------------------------------------------------- helpers
def _target(model: VSRModel, hr: Tensor) -> Tensor:
    return rgb_to_y(hr) if model.output == "Y" else hr


def _autocast(device: torch.device, amp: str):
    if amp == "none":
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=PRECISION_DTYPES[amp])


def _export(model: VSRModel, path: Path, cfg: TrainConfig, iteration: int, metrics: dict[str, Any],
            state_dict: dict[str, Tensor] | None = None) -> Path:
    from ..weights.io import save_weights

    recipe = {"config": to_dict(cfg), "iterations": iteration}
    return save_weights(model, path, state_dict=state_dict,
                        extra={"source": "vsrkit train", "recipe": recipe, "metrics": metrics})


class _StopFlag:
    """SIGTERM/SIGINT set a flag; the loop checkpoints at the end of the current iteration."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Self:
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread (e.g. tests running us in a thread)
                pass
        return self

    def _handle(self, signum: int, _frame: Any) -> None:
        self.signal = signum

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


# ------------------------------------------------------------------------------------------ train
@dataclass
class TrainResult:
    run_dir: Path
    iteration: int
    model: VSRModel
    # The EMA model when EMA is on, else ``model``.
    eval_model: VSRModel
    finished: bool


def train(cfg: TrainConfig, *, resume: str | Path | None = None, stop_at: int | None = None,
          log=_print) -> TrainResult:
    """Train per ``cfg``. ``resume``: a checkpoint path or ``"auto"`` (RUN_DIR/checkpoints/last.pt if any).

    ``stop_at``: checkpoint and return at that iteration (to split a run over several sessions); the
    schedule still follows ``cfg.iterations``.
    """
    rank, world, local_rank = _dist_info()
    device = _pick_device(cfg, local_rank)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    is_main = rank == 0
    say = log if is_main else (lambda *a, **k: None)
    run_dir = Path(cfg.run_dir)

    ckpt = None
    if resume is not None:
        resume_path = find_resume(run_dir) if str(resume) == "auto" else Path(resume)
        if resume_path is not None:
            ckpt = load_checkpoint(resume_path)
            saved = ckpt["config"]
            if saved != to_dict(cfg):
                diffs = [k for k in saved if saved[k] != to_dict(cfg).get(k)]
                say(f"warning: config differs from the checkpoint's in: {', '.join(diffs)}")
            say(f"resuming from {resume_path} at iteration {ckpt['iteration']}")

    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)

    # Every user-facing check before any heavy work or output.
    for i, p in enumerate(cfg.val.paths):
        _path(p, f"val.paths.{i}")
    for key, name in (("data.degradation", cfg.data.degradation), ("val.degradation", cfg.val.degradation)):
        try:
            get_degradation(name)
        except VsrkitError as exc:
            raise ConfigError(f"{key}: {exc}") from None
    # Caches (corpus, printed pages) are built once: by rank 0, while the other ranks wait, so no two
    # processes write the same file.
    if world > 1 and not is_main:
        dist.barrier()
    sources = build_sources(cfg, log=say)
    if world > 1 and is_main:
        dist.barrier()
    spec = SampleSpec(
        scale=cfg.data.scale, num_frames=max([cfg.data.num_frames] if not cfg.data.mix
                                             else [m.num_frames for m in cfg.data.mix]),
        lr_crop=cfg.data.lr_crop,
        degradation=cfg.data.degradation, flip=cfg.data.flip, transpose=cfg.data.transpose,
        reverse=cfg.data.reverse, max_interval=cfg.data.max_interval,
        motion=cfg.data.motion,
    )
    dataset = TrainDataset(sources, spec, cfg.seed, log=say, lengths=[m.num_frames for m in cfg.data.mix])
    pretrained = cfg.model.weights is not None
    model = create_model(cfg.model.name, weights=cfg.model.weights, pretrained=pretrained, **cfg.model.kwargs)
    if model.scale != cfg.data.scale:
        raise ConfigError(f"data.scale: {cfg.data.scale} but model {cfg.model.name!r} has scale {model.scale}")
    if cfg.gradient_checkpointing:
        if not model.supports_gradient_checkpointing:
            raise ConfigError(f"gradient_checkpointing: {cfg.model.name!r} does not support it (RLSP, bidirectional "
                              "RLSP, RFS3, HiRN and IART do)")
        model.gradient_checkpointing = True
    burn_in_by_length = ({m.num_frames: m.burn_in for m in cfg.data.mix} if cfg.data.mix
                         else {cfg.data.num_frames: cfg.data.burn_in})
    if any(burn_in_by_length.values()) and not (isinstance(model, StreamingVSRModel) and model.kind == "recurrent"):
        raise ConfigError(f"data burn_in: needs a recurrent model that runs frame by frame; "
                          f"{cfg.model.name!r} is {model.kind}")
    model.to(device)
    if cfg.amp != "none":
        slow = slow_precision_warning(device, PRECISION_DTYPES[cfg.amp], "amp=none")
        if slow:
            say(f"warning: amp={cfg.amp}: {slow}")
    ema = EMA(model, cfg.ema) if cfg.ema > 0 else None
    optimizer = build_optimizer(
        model, name=cfg.optim.name, lr=cfg.optim.lr, betas=(cfg.optim.betas[0], cfg.optim.betas[1]),
        weight_decay=cfg.optim.weight_decay, lr_mult=cfg.optim.lr_mult, freeze=cfg.optim.freeze,
    )
    # A module frozen for the whole run (e.g. trained cells under a new fusion net) needs no backward
    # pass at all: without this its activations are kept and its gradients computed, then dropped.
    # Its parameters stay in the optimizer, so a resume with more iterations finds the same groups.
    frozen_throughout = [p for group in optimizer.param_groups if group["freeze_until"] >= cfg.iterations
                         for p in group["params"]]
    if len(frozen_throughout) == sum(len(group["params"]) for group in optimizer.param_groups):
        raise ConfigError(f"optim.freeze: every parameter is frozen for all {cfg.iterations} iterations; nothing would train")
    for p in frozen_throughout:
        p.requires_grad_(False)
    schedule = CosineRestart(cfg.optim.lr, cfg.iterations, warmup=cfg.schedule.warmup,
                             periods=cfg.schedule.periods, restart_weights=cfg.schedule.restart_weights,
                             eta_min=cfg.schedule.eta_min)
    scaler = torch.amp.GradScaler(device.type, enabled=cfg.amp == "fp16")
    loss_fn = get_loss(cfg.loss, eps=cfg.charbonnier_eps)

    start = 0
    counters = {"skipped_nonfinite": 0}
    best: dict[str, Any] = {"psnr": -math.inf, "iteration": -1}
    history: list[dict[str, Any]] = []
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        if ema is not None and ckpt.get("ema") is not None:
            ema.load_state_dict(ckpt["ema"])
        if ckpt.get("scaler"):
            scaler.load_state_dict(ckpt["scaler"])
        _set_rng_state(ckpt["rng"][min(rank, len(ckpt["rng"]) - 1)])
        start = int(ckpt["iteration"])
        counters = dict(ckpt.get("counters", counters))
        best = dict(ckpt.get("best", best))
        history = list(ckpt.get("history", []))

    net: nn.Module = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    writer = None
    if is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.json").write_text(json.dumps(to_dict(cfg), indent=1))
        try:
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(str(run_dir / "tb"), purge_step=start if start else None)
        except ImportError:
            say("tensorboard not installed: no TensorBoard logs (pip install 'vsrkit[train]')")

    end = cfg.iterations if stop_at is None else min(cfg.iterations, stop_at)
    sampler = IterationBatchSampler(cfg.data.batch_size, start_iteration=start, iterations=end,
                                    rank=rank, world_size=world,
                                    schedule=[(m.num_frames, m.batch_size) for m in cfg.data.mix])
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=cfg.data.workers,
                        worker_init_fn=_worker_init if cfg.data.workers > 0 else None,
                        prefetch_factor=4 if cfg.data.workers > 0 else None,
                        pin_memory=device.type == "cuda")

    def checkpoint_state(iteration: int) -> dict[str, Any]:
        rngs = [_rng_state()]
        if world > 1:
            gathered: list[Any] = [None] * world
            dist.all_gather_object(gathered, rngs[0])
            rngs = gathered
        return {
            "format": "vsrkit-train", "version": CHECKPOINT_VERSION, "iteration": iteration,
            "model": model.state_dict(), "ema": ema.state_dict() if ema is not None else None,
            "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict() if scaler.is_enabled() else None,
            "rng": rngs, "config": to_dict(cfg), "counters": counters, "best": best, "history": history,
            "arch": model.arch, "hparams": model.hparams, "preset": cfg.model.name,
            "wall_time": wall_time(),
        }

    def write_checkpoint(iteration: int) -> None:
        state = checkpoint_state(iteration)  # collective in DDP: every rank takes part
        if not is_main:
            return
        ckpt_dir = run_dir / "checkpoints"
        path = ckpt_dir / f"iter_{iteration:07d}.pt"
        save_checkpoint(path, state)
        save_checkpoint(ckpt_dir / "last.pt", state)
        kept = sorted(ckpt_dir.glob("iter_*.pt"))
        for old in kept[: max(0, len(kept) - cfg.keep_checkpoints)]:
            old.unlink()

    previous_time = float(ckpt.get("wall_time", 0.0)) if ckpt is not None else 0.0
    t_start = time.time()

    def wall_time() -> float:
        return previous_time + time.time() - t_start

    model.train()
    it = start
    window_loss, window_n, t_window = 0.0, 0, time.time()
    stopped_by = None
    with _StopFlag() as stop:
        for batch in loader:
            lr_frames = batch["lr"].to(device, non_blocking=True)
            hr = batch["hr"].to(device, non_blocking=True)
            lr_now = schedule.apply(optimizer, it)
            burn_in = burn_in_by_length[lr_frames.shape[1]]
            with _autocast(device, cfg.amp):
                out = net(lr_frames, burn_in=burn_in) if burn_in else net(lr_frames)
            loss = loss_fn(out.float(), _target(model, hr[:, burn_in:]))
            finite = _all_true(bool(torch.isfinite(loss)), device, world)
            optimizer.zero_grad(set_to_none=True)
            if finite:
                scaler.scale(loss).backward()
                drop_frozen_grads(optimizer, it)
                if cfg.optim.grad_clip > 0:
                    scaler.unscale_(optimizer)
                    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
                    finite = bool(torch.isfinite(norm)) or scaler.is_enabled()
                if finite:
                    scaler.step(optimizer)
                    scaler.update()
                    if ema is not None:
                        ema.update(model)
            if not finite:
                counters["skipped_nonfinite"] += 1
            else:
                window_loss += float(loss.detach())
                window_n += 1
            it += 1

            if is_main and cfg.log_every and it % cfg.log_every == 0:
                elapsed = time.time() - t_window
                mean_loss = window_loss / max(1, window_n)
                # Left to go at this process's mean rate so far (validation included), steadier than the window's.
                left = (end - it) * (time.time() - t_start) / (it - start)
                say(f"iter {it}/{cfg.iterations} loss {mean_loss:.5f} lr {lr_now:.2e} "
                    f"{cfg.log_every / elapsed:.2f} it/s skipped {counters['skipped_nonfinite']} "
                    f"wall {wall_time() / 60:.1f} min, about {left / 60:.1f} min to go")
                if writer is not None:
                    writer.add_scalar("train/loss", mean_loss, it)
                    writer.add_scalar("train/lr", lr_now, it)
                    writer.add_scalar("train/skipped_nonfinite", counters["skipped_nonfinite"], it)
                    writer.add_scalar("train/it_per_s", cfg.log_every / elapsed, it)
                window_loss, window_n, t_window = 0.0, 0, time.time()

            if cfg.val.every and it % cfg.val.every == 0 and cfg.val.paths:
                if is_main:
                    eval_model = ema.module if ema is not None else model
                    scores = validate(eval_model, cfg, device)
                    model.train()
                    if scores is None:
                        say("validation skipped: vsrkit.engine.evaluate is not available")
                    else:
                        history.append({"iteration": it, "wall_time_s": wall_time(), **scores})
                        say(f"val iter {it}: " + " ".join(f"{k} {v:.3f}" for k, v in scores.items()))
                        if writer is not None:
                            for k, v in scores.items():
                                writer.add_scalar(f"val/psnr_{k}", v, it)
                            frame = sample_frame(eval_model, cfg, device)
                            model.train()
                            if frame is not None:
                                writer.add_image("val/sample", frame, it)
                        if scores["mean"] > best["psnr"]:
                            best = {"psnr": scores["mean"], "iteration": it}
                            _export(eval_model, run_dir / "best.safetensors", cfg, it,
                                    {"val": scores, "wall_time_s": wall_time()})
                if world > 1:
                    dist.barrier()

            if is_main and cfg.archive_every and it % cfg.archive_every == 0:
                _export(ema.module if ema is not None else model,
                        run_dir / "archive" / f"iter_{it:07d}.safetensors", cfg, it, {"wall_time_s": wall_time()})
            stop_now = _all_true(stop.signal is None, device, world) is False
            if (cfg.checkpoint_every and it % cfg.checkpoint_every == 0) or stop_now or it == end:
                write_checkpoint(it)
            if stop_now:
                stopped_by = stop.signal
                say(f"stopped by signal {stopped_by} at iteration {it}; checkpoint written, resume with --resume")
                break

    if writer is not None:
        writer.close()
    finished = stopped_by is None and it >= cfg.iterations
    for p in frozen_throughout:
        p.requires_grad_(True)
    eval_model = ema.module if ema is not None else model
    if is_main and finished:
        export = Path(cfg.export)
        export = export if export.is_absolute() else run_dir / export
        metrics = {"skipped_nonfinite": counters["skipped_nonfinite"], "wall_time_s": wall_time(), "history": history}
        if best["iteration"] >= 0:  # without validation there is no best (its PSNR -inf is not JSON)
            metrics["best_val"] = best
        _export(eval_model, export, cfg, it, metrics)
        say(f"done: {it} iterations, {wall_time() / 60:.1f} min; weights {export}")
    elif is_main and stopped_by is None:
        say(f"paused at iteration {it} (stop_at); continue with --resume")
    if world > 1:
        dist.barrier()
    return TrainResult(run_dir, it, model, eval_model, finished)


def train_from_checkpoint_config(path: str | Path) -> TrainConfig:
    """The resolved config stored in a checkpoint (to resume without the original YAML)."""
    return config_from_dict(load_checkpoint(path)["config"])
