"""Peak memory of `vsrkit upscale`: flat in the video's length, bounded by tiling for large frames.

    python benchmarks/upscale_memory.py [--model M]  # RSS: 100 vs 1000 frames, large frame +/- tiling
    python benchmarks/upscale_memory.py --quality  # tiled vs untiled Y-PSNR on Vid4 (official RLSP 7-64)

Each run is a fresh subprocess reporting its own peak RSS (ru_maxrss), so runs do not share a
high-water mark. Random-init weights: memory does not depend on them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def child(args: argparse.Namespace) -> None:
    import torch

    from vsrkit import create_model
    from vsrkit.engine.upscaler import Upscaler

    torch.manual_seed(0)
    model = create_model(args.model, pretrained=False)
    up = Upscaler(model, device="cpu", precision=args.precision, tile=args.tile)
    summary = up.upscale(args.input, args.output, progress=False)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_mb": peak_mb, "frames": summary.frames_in, "fps": summary.fps}))


def make_input(path: Path, frames: int, width: int, height: int) -> Path:
    from vsrkit.demo import write_sample_video

    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (height * 2, width * 2, 3), dtype=np.uint8)

    def pattern(t: int) -> np.ndarray:
        # Panning texture: every frame differs, generation costs nothing.
        y, x = (t * 3) % height, (t * 5) % width
        return np.ascontiguousarray(base[y : y + height, x : x + width])

    return write_sample_video(path, pattern, frames=frames, fps=25, audio=True)


def measure(src: Path, model: str, tile: int = 0, precision: str = "auto") -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, __file__, "--child", "--input", str(src), "--output", str(Path(tmp) / "out.mp4"),
               "--model", model, "--tile", str(tile), "--precision", precision]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def rss(args: argparse.Namespace) -> None:
    print("load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for n in (100, 1000):
            src = make_input(Path(tmp) / f"in_{n}.mp4", n, 96, 64)
            for model in (args.model, "bicubic"):
                r = measure(src, model)
                results[(n, model)] = r
                print(f"{model:14} {n:5} frames 96x64 -> 384x256: peak RSS {r['peak_mb']:.0f} MB "
                      f"({r['fps']:.0f} frames/s)", flush=True)
        for model in (args.model, "bicubic"):
            ratio = results[(1000, model)]["peak_mb"] / results[(100, model)]["peak_mb"]
            print(f"{model}: peak RSS 1000 / 100 frames = {ratio:.3f} (target <= 1.1)")
        src = make_input(Path(tmp) / "large.mp4", 3, 960, 544)
        for tile in (0, 128):
            r = measure(src, args.model, tile=tile)
            label = f"tile {tile}, overlap 32" if tile else "untiled"
            print(f"{args.model} 3 frames 960x544 -> 3840x2176, {label}: peak RSS {r['peak_mb']:.0f} MB", flush=True)


def quality(args: argparse.Namespace) -> None:
    """Tiled vs untiled Y-PSNR on Vid4 with the official RLSP 7-64 weights (BD x4, RLSP protocol)."""
    from vsrkit import create_model
    from vsrkit.degradations import get_degradation
    from vsrkit.engine.upscaler import Upscaler
    from vsrkit.io.frames import list_sequences, read_sequence
    from vsrkit.metrics import get_protocol
    from vsrkit.shared import shared_path
    from vsrkit.weights.convert import convert

    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "rlsp64.safetensors"
        convert("rlsp-tf", str(shared_path("weights", "rlsp_tf", "ckpt_rlsp_64")), weights)
        model = create_model("rlsp-7-64", weights=weights).eval()
    deg, prot = get_degradation("gauss1.5"), get_protocol("rlsp")
    configs = {"untiled": {"tile": 0}} | {f"tile{t}/ov{o}": {"tile": t, "tile_overlap": o} for t, o in args.tiles}
    scores: dict[str, list[float]] = {k: [] for k in configs}
    seam: dict[str, list[float]] = {k: [] for k in configs}
    for seq in list_sequences(shared_path("data", "vid4", "GT")):
        lr, target = deg.pair(read_sequence(seq), 4)
        ref = None
        for label, cfg in configs.items():
            out = Upscaler(model, device="cpu", precision="fp32", **cfg).upscale_clip(lr)
            scores[label].append(float(prot.score(out, target)["psnr"]))
            if ref is None:
                ref = out
            seam[label].append(float((out - ref).abs().max()) * 255)
        print(f"  {seq.name:9} " + "  ".join(f"{k} {v[-1]:.3f}" for k, v in scores.items()), flush=True)
    base = sum(scores["untiled"]) / len(scores["untiled"])
    for label, v in scores.items():
        mean = sum(v) / len(v)
        print(f"{label:14} Vid4 Y-PSNR {mean:.3f} dB, delta vs untiled {mean - base:+.4f} dB, "
              f"max |diff| vs untiled {max(seam[label]):.1f}/255")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--model", default="rlsp-7-48")
    parser.add_argument("--tile", type=int, default=0)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--tiles", type=lambda s: tuple(int(x) for x in s.split("/")), nargs="*",
                        default=[(64, 16), (64, 32)], help="tile/overlap pairs for --quality")
    args = parser.parse_args()
    if args.child:
        child(args)
    elif args.quality:
        quality(args)
    else:
        rss(args)


if __name__ == "__main__":
    main()
