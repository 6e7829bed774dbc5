"""Typed training configuration: dataclasses filled from YAML plus ``key.path=value`` overrides.

Unknown keys and values of the wrong type are rejected with the key's full path
(``data.sources.0.weight: expected float, got 'x'``); the CLI prints that one line and exits 2.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from ..data.motion import MotionRange
from ..errors import ConfigError, InputError


@dataclass
class ModelConfig:
    name: str = "rlsp-7-48"
    # Constructor overrides of the preset (e.g. value_range: 1.0).
    kwargs: dict[str, Any] = field(default_factory=dict)
    # Initial weights (fine-tuning); a vsrkit safetensors file.
    weights: str | None = None


@dataclass
class SourceConfig:
    # frames: a folder of frames or of sequence folders; video: a video file; reds / vimeo: the
    # dataset layouts; corpus: the project's default corpus (built into data.cache_dir); printed:
    # rendered pages of text, tables and fine patterns under synthetic camera motion (data/printed.py).
    kind: Literal["frames", "video", "reds", "vimeo", "corpus", "printed"] = "frames"
    path: str = ""
    # Paired LR frames mirroring ``path`` (otherwise LR is made on the fly by data.degradation).
    lr_path: str | None = None
    weight: float = 1.0
    # reds: train | reds4 | all; vimeo: train | test.
    split: str = "train"
    # Bicubic downscale applied to video files before use as HR (removes compression artefacts).
    hr_downscale: int = 1
    # corpus only: relative weights of its video clips and its synthetic-motion photographs.
    video_weight: float = 1.0
    photo_weight: float = 1.0
    # corpus only: 2 (what the shipped default-causal was trained on), 3 (more photographs: the
    # default's cell) or 4 (city and building photographs added; data/corpus.py).
    version: Literal[2, 3, 4] = 2
    # corpus only: names of clips or photographs to leave out. Clips shorter than data.num_frames and
    # photographs too small for the synthetic motion of the crops are left out anyway, with a log line.
    exclude: list[str] = field(default_factory=list)
    # printed only: how many pages to render (once, into data.cache_dir).
    pages: int = 64


@dataclass
class ClipLengthConfig:
    num_frames: int
    # Global batch of the iterations that use this length.
    batch_size: int
    # Leading frames of these clips that only build the recurrent state (no gradient, no loss): the loss then
    # sees what a long history leaves in the state at the cost of the frames it learns from. Recurrent models only.
    burn_in: int = 0


@dataclass
class DataConfig:
    sources: list[SourceConfig] = field(default_factory=list)
    scale: int = 4
    num_frames: int = 10
    # As data.mix entries' burn_in, for data.num_frames clips.
    burn_in: int = 0
    lr_crop: int = 40
    # Global batch (split across DDP ranks).
    batch_size: int = 8
    workers: int = 2
    degradation: str = "bi"
    flip: bool = True
    transpose: bool = True
    reverse: bool = True
    max_interval: int = 1
    # Synthetic camera motion over photographs (vsrkit.data.motion.MotionRange's fields and defaults).
    motion: MotionRange = field(default_factory=MotionRange)
    cache_dir: str = "data_cache"
    # Mixed clip lengths: iteration i takes entry i % len(mix) (e.g. [{num_frames: 10, batch_size: 8},
    # {num_frames: 40, batch_size: 2}]) in place of num_frames and batch_size. Sources are checked for each length
    # on its own: the corpus leaves a clip too short for the long samples out of those only.
    mix: list[ClipLengthConfig] = field(default_factory=list)


@dataclass
class ValConfig:
    # Iterations between validations (0: never). Never point this at Vid4: it is a test set.
    every: int = 0
    # HR frame folders (or folders of sequence folders).
    paths: list[str] = field(default_factory=list)
    degradation: str = "bi"
    protocol: str = "basicsr-y"
    max_frames: int = 0


@dataclass
class OptimConfig:
    name: Literal["adam", "adamw"] = "adam"
    lr: float = 1e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.99])
    weight_decay: float = 0.0
    # Parameter-name prefix -> learning-rate multiplier (e.g. {"spynet": 0.25}).
    lr_mult: dict[str, float] = field(default_factory=dict)
    # Parameter-name prefix -> iterations during which those parameters stay fixed.
    freeze: dict[str, int] = field(default_factory=dict)
    # Max global gradient norm (0: no clipping).
    grad_clip: float = 0.0


@dataclass
class ScheduleConfig:
    warmup: int = 0
    # Cosine periods in iterations (restarts between them); empty: one period over all iterations.
    periods: list[int] = field(default_factory=list)
    restart_weights: list[float] = field(default_factory=list)
    eta_min: float = 1e-7


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    val: ValConfig = field(default_factory=ValConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    loss: Literal["charbonnier", "l1", "mse"] = "charbonnier"
    charbonnier_eps: float = 1e-3
    # EMA decay (0: no EMA). Validation and the exported weights use the EMA when enabled.
    ema: float = 0.0
    amp: Literal["none", "bf16", "fp16"] = "none"
    # Recompute each frame's activations in the backward pass instead of keeping the whole clip's: training memory
    # about one frame's worth instead of the clip's, for a second forward pass (recurrent and bidirectional RLSP,
    # RFS3, HiRN, IART).
    gradient_checkpointing: bool = False
    iterations: int = 1000
    seed: int = 0
    device: str = "auto"
    threads: int = 0
    run_dir: str = "runs/train"
    log_every: int = 50
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    # Also keep every Nth checkpoint permanently (0: none), e.g. for a quality-vs-time curve.
    archive_every: int = 0
    # Exported weights (relative to run_dir unless absolute).
    export: str = "final.safetensors"


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _convert(value: Any, tp: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, path)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{path}: invalid value {value!r}")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{path}: expected one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {value!r}")
        return _build(tp, value, path)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list, got {value!r}")
        return [_convert(v, args[0], f"{path}.{i}") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {value!r}")
        return {str(k): _convert(v, args[1], f"{path}.{k}") for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str):
            # PyYAML reads 1e-4 (no dot) as a string (YAML 1.1); accept what float() accepts.
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{path}: unsupported type {_type_name(tp)}")  # pragma: no cover


def _build(cls: type, data: dict[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in names:
            where = f"{prefix}.{key}" if prefix else str(key)
            raise ConfigError(f"{where}: unknown key (valid: {', '.join(sorted(names))})")
    kwargs = {k: _convert(v, hints[k], f"{prefix}.{k}" if prefix else k) for k, v in data.items()}
    return cls(**kwargs)


def _set_path(tree: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node: Any = tree
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(f"{'.'.join(parts[:i + 1])}: no such list element")
            node = node[int(part)]
        else:
            node = node.setdefault(part, {})
            if not isinstance(node, (dict, list)):
                raise ConfigError(f"{'.'.join(parts[:i + 1])}: is a value, not a section")
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ConfigError(f"{dotted}: no such list element")
        node[int(last)] = value
    else:
        node[last] = value


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def load_config(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """Read ``path`` (YAML), apply ``key.path=value`` overrides (values parsed as YAML), validate."""
    tree: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise InputError(path, "config file not found")
        try:
            loaded = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise InputError(path, f"invalid YAML{where}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise InputError(path, "top level must be a mapping")
        tree = loaded or {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r}: expected key.path=value")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError:
            value = raw
        _set_path(tree, key.strip(), value)
    cfg = _build(TrainConfig, tree)
    _check(cfg)
    return cfg


def config_from_dict(tree: dict[str, Any]) -> TrainConfig:
    cfg = _build(TrainConfig, tree)
    _check(cfg)
    return cfg


def _check(cfg: TrainConfig) -> None:
    positive = {
        "iterations": cfg.iterations, "data.batch_size": cfg.data.batch_size, "data.scale": cfg.data.scale,
        "data.num_frames": cfg.data.num_frames, "data.lr_crop": cfg.data.lr_crop,
        "data.max_interval": cfg.data.max_interval,
    }
    for i, entry in enumerate(cfg.data.mix):
        positive[f"data.mix.{i}.num_frames"] = entry.num_frames
        positive[f"data.mix.{i}.batch_size"] = entry.batch_size
    for key, value in positive.items():
        if value <= 0:
            raise ConfigError(f"{key}: must be positive, got {value}")
    burn_ins = [("data", cfg.data.num_frames, cfg.data.burn_in)] if not cfg.data.mix else [
        (f"data.mix.{i}", m.num_frames, m.burn_in) for i, m in enumerate(cfg.data.mix)]
    by_length: dict[int, int] = {}
    for key, num_frames, burn_in in burn_ins:
        if not 0 <= burn_in < num_frames:
            raise ConfigError(f"{key}.burn_in: must be in [0, num_frames={num_frames}), got {burn_in}")
        # The training loop finds a batch's burn-in by its clip length.
        if by_length.setdefault(num_frames, burn_in) != burn_in:
            raise ConfigError(f"{key}.burn_in: entries with {num_frames} frames must share one burn_in")
    if cfg.optim.lr <= 0:
        raise ConfigError(f"optim.lr: must be positive, got {cfg.optim.lr}")
    if len(cfg.optim.betas) != 2:
        raise ConfigError(f"optim.betas: expected two numbers, got {cfg.optim.betas}")
    if not 0 <= cfg.ema < 1:
        raise ConfigError(f"ema: must be in [0, 1), got {cfg.ema}")
    if cfg.schedule.restart_weights and len(cfg.schedule.restart_weights) != len(cfg.schedule.periods):
        raise ConfigError("schedule.restart_weights: needs one weight per entry of schedule.periods")
    if any(p <= 0 for p in cfg.schedule.periods):
        raise ConfigError(f"schedule.periods: must be positive, got {cfg.schedule.periods}")
    for i, src in enumerate(cfg.data.sources):
        if src.kind not in ("corpus", "printed") and not src.path:
            raise ConfigError(f"data.sources.{i}.path: required for kind {src.kind!r}")
        if src.kind == "printed" and src.pages < 1:
            raise ConfigError(f"data.sources.{i}.pages: must be at least 1, got {src.pages}")
        if src.hr_downscale < 1:
            raise ConfigError(f"data.sources.{i}.hr_downscale: must be >= 1, got {src.hr_downscale}")
