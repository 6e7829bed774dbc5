"""What a constructor setting costs: one model built with two or more settings (same weights), run
alternately in one process on the same LR clip, so machine load hits every setting alike.

    python benchmarks/model_settings.py [--model default] [--settings dis_finest_scale=1 dis_finest_scale=0]
        [--clip ../shared/data/temple/GT] [--frames 30] [--repeats 3] [--threads 2]

Each setting is ``KEY=JSON`` (several joined by ``,``), e.g. ``backward_view='"identity"'``. The
clip is degraded with ``bi`` (×4) and upscaled by the :class:`~vsrkit.engine.upscaler.Upscaler` as
``vsrkit upscale`` runs it (automatic precision: bf16 weights on a CPU that has them; temporal chunks;
RGB out, frames and files aside). Prints frames/s of each setting per repeat, wall clock and CPU time
of the process (CPU time is what to compare on a busy machine), the ratio of each setting's best time
to the first's; when ``dis_finest_scale`` differs, also what DIS itself takes per flow (two per frame).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from vsrkit import create_model
from vsrkit.degradations import degrade
from vsrkit.engine.upscaler import Upscaler
from vsrkit.errors import VsrkitError
from vsrkit.io.frames import read_sequence
from vsrkit.layers.classical_flow import DISFlow
from vsrkit.models._registry import parse_settings
from vsrkit.shared import shared_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--settings", nargs="+", default=["dis_finest_scale=1", "dis_finest_scale=0"])
    parser.add_argument("--clip", type=Path, default=None, help="a folder of HR frames (default: shared Temple)")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    try:
        settings = {text: parse_settings(text) for text in args.settings}
    except VsrkitError as err:
        raise SystemExit(str(err)) from None
    hr = read_sequence(args.clip or shared_path("data", "temple", "GT"))[: args.frames]
    lr = degrade(hr, "bi", 4)[None]
    print(f"{args.model} on {lr.shape[1]} LR frames of {lr.shape[-1]}x{lr.shape[-2]}, {args.threads} threads")
    upscalers = {text: Upscaler(create_model(args.model, **setting), device="cpu") for text, setting in settings.items()}
    seconds: dict[str, list[float]] = {text: [] for text in settings}
    cpu_seconds: dict[str, list[float]] = {text: [] for text in settings}
    for _ in range(args.repeats):
        for text, upscaler in upscalers.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            upscaler.upscale_clip(lr[0])
            seconds[text].append(time.perf_counter() - start)
            cpu_seconds[text].append(time.process_time() - cpu_start)
    frames = lr.shape[1]
    first = args.settings[0]
    print(f"precision {next(iter(upscalers.values())).dtype}")
    for text in settings:
        print(f"{text}: {', '.join(f'{frames / s:.2f}' for s in seconds[text])} frames/s; "
              f"best-of-{args.repeats} ratio to {first}: wall {min(seconds[text]) / min(seconds[first]):.3f}, "
              f"CPU {min(cpu_seconds[text]) / min(cpu_seconds[first]):.3f}")
    scales = {s["dis_finest_scale"] for s in settings.values() if "dis_finest_scale" in s}
    pair = (lr[:, 0], lr[:, 1])
    for scale in sorted(scales, reverse=True) if len(scales) > 1 else ():
        flow = DISFlow(finest_scale=scale)
        start = time.perf_counter()
        for _ in range(20):
            flow(*pair)
        print(f"DIS with finest scale {scale}: {(time.perf_counter() - start) / 20 * 1000:.1f} ms per flow")


if __name__ == "__main__":
    main()
