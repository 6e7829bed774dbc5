"""What a constructor setting costs: one model built with two or more settings (same weights), run
alternately in one process on the same LR clip, so machine load hits every setting alike.

    python benchmarks/model_settings.py [--model default] [--settings dis_finest_scale=1 dis_finest_scale=0]
        [--clip ../shared/data/temple/GT] [--frames 30] [--repeats 3] [--threads 2]

Each setting is ``KEY=JSON`` (several joined by ``,``), e.g. ``backward_view='"identity"'``. The
clip is degraded with ``bi`` (×4) and the model runs on the whole LR clip (bf16 autocast on the CPU, as
``vsrkit upscale``). Prints frames/s of each setting per repeat and the ratio of each setting's best
time to the first's; when ``dis_finest_scale`` differs, also what DIS itself takes per flow (two per frame).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from vsrkit import create_model
from vsrkit.degradations import degrade
from vsrkit.io.frames import read_sequence
from vsrkit.layers.classical_flow import DISFlow
from vsrkit.shared import shared_path


def parse_setting(text: str) -> dict[str, Any]:
    setting = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"setting {item!r}: expected KEY=JSON")
        setting[key] = json.loads(value)
    return setting


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
    settings = {text: parse_setting(text) for text in args.settings}
    hr = read_sequence(args.clip or shared_path("data", "temple", "GT"))[: args.frames]
    lr = degrade(hr, "bi", 4)[None]
    print(f"{args.model} on {lr.shape[1]} LR frames of {lr.shape[-1]}x{lr.shape[-2]}, {args.threads} threads")
    models = {text: create_model(args.model, **setting).eval() for text, setting in settings.items()}
    seconds: dict[str, list[float]] = {text: [] for text in settings}
    for _ in range(args.repeats):
        for text, model in models.items():
            start = time.perf_counter()
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
                model(lr)
            seconds[text].append(time.perf_counter() - start)
    frames = lr.shape[1]
    first = args.settings[0]
    for text in settings:
        print(f"{text}: {', '.join(f'{frames / s:.2f}' for s in seconds[text])} frames/s; "
              f"time ratio to {first} (best of {args.repeats}): {min(seconds[text]) / min(seconds[first]):.3f}")
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
