"""Seconds per training sample of davsr-tiny: unfolded iterations K = 1 vs 3, fp32 vs bf16 autocast.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/davsr_train_step.py [--batch 2] [--frames 3] [--crop 24]

One forward + backward on random LR clips of ``--frames`` LR frames (``5 x frames`` HR frames out) and
``--crop`` pixels, as `vsrkit train` runs it (the mean of the output stands in for the loss: the cost does not depend
on it). Best of three timed steps after one warm-up, in one process, with the
K = 1 fp32 step as the baseline of the ratios. The machine may be shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from vsrkit import create_model


def seconds_per_sample(iterations: int, bf16: bool, batch: int, frames: int, crop: int) -> float:
    torch.manual_seed(0)
    model = create_model("davsr-tiny", pretrained=False, iterations=iterations).train()
    lr = torch.rand(batch, frames, 3, crop, crop)
    best = float("inf")
    for attempt in range(4):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(lr)
        out.float().mean().backward()
        if attempt:  # the first step is the warm-up
            best = min(best, time.perf_counter() - start)
    return best / batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--crop", type=int, default=24)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"davsr-tiny training step, batch {args.batch} x {args.frames} LR frames of {args.crop}x{args.crop}, "
          f"{args.threads} thread(s), load {os.getloadavg()[0]:.2f}")
    baseline = None
    for iterations in (1, 3):
        for bf16 in (False, True):
            s = seconds_per_sample(iterations, bf16, args.batch, args.frames, args.crop)
            baseline = baseline or s
            print(f"  K={iterations} {'bf16' if bf16 else 'fp32'}: {s:.2f} s/sample ({s / baseline:.2f}x K=1 fp32)",
                  flush=True)


if __name__ == "__main__":
    main()
