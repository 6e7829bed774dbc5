"""What full-resolution DIS flow costs: a model run with ``dis_finest_scale`` 1 (DIS's medium preset)
and 0 (flow at full LR resolution), alternating in one process on the same LR clip.

    python benchmarks/dis_finest_scale.py [--model default] [--clip ../shared/data/temple/GT] [--frames 30]
        [--repeats 3] [--threads 2]

The clip is degraded with ``bi`` (×4) and the model runs on the whole LR clip (bf16 autocast on the
CPU, as ``vsrkit upscale``). Prints frames/s of each setting per repeat, the time DIS itself takes
per flow (two per frame), and the ratio of the two settings' model times.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from vsrkit import create_model
from vsrkit.degradations import degrade
from vsrkit.io.frames import read_sequence
from vsrkit.layers.classical_flow import DISFlow
from vsrkit.shared import shared_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--clip", type=Path, default=None, help="a folder of HR frames (default: shared Temple)")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    hr = read_sequence(args.clip or shared_path("data", "temple", "GT"))[: args.frames]
    lr = degrade(hr, "bi", 4)[None]
    print(f"{args.model} on {lr.shape[1]} LR frames of {lr.shape[-1]}x{lr.shape[-2]}, {args.threads} threads")
    models = {scale: create_model(args.model, dis_finest_scale=scale).eval() for scale in (1, 0)}
    seconds: dict[int, list[float]] = {1: [], 0: []}
    for _ in range(args.repeats):
        for scale, model in models.items():
            start = time.perf_counter()
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
                model(lr)
            seconds[scale].append(time.perf_counter() - start)
    frames = lr.shape[1]
    pair = (lr[:, 0], lr[:, 1])
    for scale in (1, 0):
        flow = DISFlow(finest_scale=scale)
        start = time.perf_counter()
        for _ in range(20):
            flow(*pair)
        dis_ms = (time.perf_counter() - start) / 20 * 1000
        print(f"dis_finest_scale {scale}: {', '.join(f'{frames / s:.2f}' for s in seconds[scale])} frames/s; "
              f"DIS {dis_ms:.1f} ms per flow")
    print(f"time ratio (0 / 1, best of {args.repeats}): {min(seconds[0]) / min(seconds[1]):.3f}")


if __name__ == "__main__":
    main()
