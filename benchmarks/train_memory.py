"""Training memory and time with and without gradient checkpointing (the config's ``gradient_checkpointing``).

    python benchmarks/train_memory.py [--models rlsp-dis-7-48 default] [--frames 10 40] [--batch 4] [--crop 44]

Each setting runs in a fresh process (so peak RSS is its own): a model in training mode, two forward + backward passes
on a random batch ``(batch, frames, 3, crop, crop)`` LR, the second timed. Printed: the peak RSS above the process's
size before the first pass, the time of one pass, and the checkpointed run's ratios to the plain one.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def _child(model_name: str, frames: int, batch: int, crop: int, checkpointing: bool) -> None:
    import torch

    from vsrkit import create_model

    torch.manual_seed(0)
    model = create_model(model_name, pretrained=False).train()
    model.gradient_checkpointing = checkpointing
    lr = torch.rand(batch, frames, 3, crop, crop)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds = 0.0
    for i in range(2):
        start = time.perf_counter()
        model.zero_grad(set_to_none=True)
        model(lr).square().mean().backward()
        if i == 1:
            seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_mb": (peak - base) / 1024, "seconds": seconds}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["rlsp-dis-7-48", "default"])
    parser.add_argument("--frames", nargs="+", type=int, default=[10, 40])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--crop", type=int, default=44)
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "SETTINGS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        frames, checkpointing = json.loads(args.child[1])
        _child(args.child[0], frames, args.batch, args.crop, checkpointing)
        return
    print(f"batch {args.batch} x frames x 3 x {args.crop} x {args.crop} LR, forward + backward, fresh process each")
    print("model | frames | plain: peak MB, s | checkpointed: peak MB, s | memory ratio | time ratio")
    for name in args.models:
        for frames in args.frames:
            runs: list[dict | None] = []
            for checkpointing in (False, True):
                out = subprocess.run(
                    [sys.executable, __file__, "--batch", str(args.batch), "--crop", str(args.crop),
                     "--child", name, json.dumps([frames, checkpointing])],
                    check=False, capture_output=True, text=True)
                # A child killed by the kernel (SIGKILL: out of memory) is a result too.
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else None)
            cells = [f"{r['peak_mb']:.0f}, {r['seconds']:.2f}" if r else "failed (killed: out of memory?)" for r in runs]
            plain, ckpt = runs
            ratios = (f"{ckpt['peak_mb'] / plain['peak_mb']:.2f} | {ckpt['seconds'] / plain['seconds']:.2f}"
                      if plain and ckpt else "- | -")
            print(f"{name} | {frames} | {cells[0]} | {cells[1]} | {ratios}", flush=True)


if __name__ == "__main__":
    main()
