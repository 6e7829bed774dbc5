"""Seconds per frame and peak memory of the flow-aligned models on CPU at Vid4 size.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/flow_models.py [--models hirn iart] [--frames 5]
                                                                 [--size 144 180] [--threads 2]
    # through `vsrkit upscale`'s Upscaler: an N-frame mp4 of --size in, mp4 out (temporal chunks)
    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/flow_models.py --upscale 100 --size 64 64

Each model runs in a fresh subprocess (so ``ru_maxrss`` is its own high-water mark) on the first
``--frames`` LR frames of Vid4 calendar BI×4 (MATLAB oracle, 180×144) when ../shared is present,
else (or with ``--random``) on random frames of ``--size``. Random-init weights: speed and memory do not depend on them.
One untimed warm-up run on 2 frames precedes the timed whole-clip forward (``torch.no_grad``,
fp32). The machine may be shared: the load average is printed next to every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def _one_upscale(model, name: str, frames: int, size: tuple[int, int], threads: int, base_rss: int) -> dict:  # type: ignore[no-untyped-def]
    """The Upscaler on an mp4 of ``frames`` synthetic frames (the demo scene) of ``size``."""
    import tempfile
    from pathlib import Path

    from vsrkit.demo import scene, write_sample_video
    from vsrkit.engine.upscaler import Upscaler

    with tempfile.TemporaryDirectory() as tmp:
        src = write_sample_video(Path(tmp) / "in.mp4", scene(size[1], size[0], supersample=1), frames=frames, fps=25)
        summary = Upscaler(model, device="cpu", precision="fp32").upscale(src, Path(tmp) / "out.mp4", progress=False)
    return {
        "model": name,
        "params": sum(p.numel() for p in model.parameters()),
        "input": f"{summary.frames_in}x{size[1]}x{size[0]} (mp4 through Upscaler.upscale, chunk 16)",
        "output": f"{summary.frames_out} frames {summary.size_out[1]}x{summary.size_out[0]}",
        "s_per_frame": summary.seconds / summary.frames_in,
        "cpu_s_per_frame": float("nan"),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_forward_mb": base_rss / 1024,
        "threads": threads,
        "load": " ".join(f"{v:.1f}" for v in os.getloadavg()),
    }


def _one(name: str, frames: int, size: tuple[int, int], threads: int, random: bool, upscale: int = 0) -> dict:
    import torch

    from vsrkit import create_model
    from vsrkit.io.frames import read_sequence
    from vsrkit.shared import shared_path

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    folder = shared_path("data", "vid4", "oracle", "calendar_BIx4_matlab")
    if folder.is_dir() and not random:
        clip = read_sequence(folder)[:frames].unsqueeze(0)
        source = "vid4 calendar BIx4"
    else:
        clip = torch.rand(1, frames, 3, *size)
        source = "random"
    model = create_model(name, pretrained=False).eval()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if upscale:
        return _one_upscale(model, name, upscale, size, threads, base_rss)
    with torch.no_grad():
        model(clip[:, :2])
        start, cpu0 = time.perf_counter(), time.process_time()
        out = model(clip)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    return {
        "model": name,
        "params": sum(p.numel() for p in model.parameters()),
        "input": f"{clip.shape[1]}x{clip.shape[-1]}x{clip.shape[-2]} ({source})",
        "output": "x".join(map(str, out.shape[-2:][::-1])),
        "s_per_frame": wall / clip.shape[1],
        "cpu_s_per_frame": cpu / clip.shape[1],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_forward_mb": base_rss / 1024,
        "threads": threads,
        "load": " ".join(f"{v:.1f}" for v in os.getloadavg()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["hirn", "iart"])
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--size", type=int, nargs=2, default=(144, 180), metavar=("H", "W"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--random", action="store_true", help="random frames of --size instead of Vid4 calendar")
    parser.add_argument("--upscale", type=int, default=0, metavar="N",
                        help="time Upscaler.upscale on an N-frame mp4 of --size instead")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one, args.frames, tuple(args.size), args.threads, args.random, args.upscale)))
        return
    for name in args.models:
        cmd = [sys.executable, __file__, "--one", name, "--frames", str(args.frames),
               "--size", *map(str, args.size), "--threads", str(args.threads), "--upscale", str(args.upscale)]
        cmd += ["--random"] if args.random else []
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"{name}: failed\n{proc.stderr.strip()}", file=sys.stderr)
            sys.exit(1)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"{r['model']:10s} {r['params']:>11,} params  {r['input']} -> {r['output']}  "
            f"{r['s_per_frame']:.2f} s/frame (cpu {r['cpu_s_per_frame']:.2f})  peak RSS {r['peak_rss_mb']:.0f} MB  "
            f"threads {r['threads']}  load {r['load']}"
        )


if __name__ == "__main__":
    main()
