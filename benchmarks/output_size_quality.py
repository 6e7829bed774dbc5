"""What `vsrkit upscale --scale 2` gives against plain bicubic, on Vid4 downscaled x2.

    python benchmarks/output_size_quality.py [--models default default-causal] [--clips calendar city foliage walk]

The x4 models meet input that is half its original size (MATLAB bicubic x2, 8-bit: `bi` at scale 2), run at
x4 and their output is shrunk to x2 (antialiased MATLAB bicubic; what `--scale 2` does), so the result has the
original size and is scored against it (`basicsr-y`). Bicubic x2 of the same input is the baseline a per-frame
resize gives. Vid4 is used for reporting only: nothing here is tuned on it.
"""

from __future__ import annotations

import argparse
import time

import torch

from vsrkit.degradations import degrade
from vsrkit.engine.upscaler import Upscaler
from vsrkit.io.frames import read_sequence
from vsrkit.layers.resize import imresize
from vsrkit.metrics import get_protocol
from vsrkit.shared import shared_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["default", "default-causal"])
    parser.add_argument("--clips", nargs="+", default=["calendar", "city", "foliage", "walk"])
    parser.add_argument("--protocol", default="basicsr-y")
    args = parser.parse_args()
    protocol = get_protocol(args.protocol)
    upscalers = {name: Upscaler(name, device="cpu") for name in args.models}
    totals: dict[str, list[float]] = {"bicubic x2": [], **{f"{m} x4 -> x2": [] for m in args.models}}
    for clip in args.clips:
        hr = read_sequence(shared_path("data", "vid4", "GT", clip))
        hr = hr[..., : hr.shape[-2] // 2 * 2, : hr.shape[-1] // 2 * 2]
        lr = degrade(hr, "bi", 2)
        size = tuple(hr.shape[-2:])
        row = {"bicubic x2": protocol.score(imresize(lr, size=size).clamp(0, 1), hr)["psnr"]}
        for name, upscaler in upscalers.items():
            start = time.perf_counter()
            out = torch.cat(list(upscaler.stream(lr.unbind(0), size=size)))
            seconds = time.perf_counter() - start
            row[f"{name} x4 -> x2"] = protocol.score(out, hr)["psnr"]
            print(f"  {clip} {name}: {len(lr) / seconds:.2f} frames/s at {lr.shape[-1]}x{lr.shape[-2]}", flush=True)
        for key, value in row.items():
            totals[key].append(value)
        print(f"{clip:<9}" + "  ".join(f"{k} {v:.3f}" for k, v in row.items()), flush=True)
    print(f"{'mean':<9}" + "  ".join(f"{k} {sum(v) / len(v):.3f}" for k, v in totals.items()))


if __name__ == "__main__":
    main()
