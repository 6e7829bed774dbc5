"""What H.264 compression of the input costs each model: the shipped models are trained on clean bicubic LR, and
users' videos are compressed.

    python benchmarks/compressed_input.py [--models bicubic default-fast default-causal default]
        [--crfs 18 23 28 33] [--frames 32] [--sets data_cache/long_val] [--candidate LABEL PRESET WEIGHTS ...]

Each clip of the held-out sets (never Vid4; ``scripts/make_long_val.py`` builds ``long_val``: real camera footage) is
degraded ``bi`` x4 and its LR encoded with libx264 (yuv420p, preset medium) at each CRF and decoded (the
``bi-x264-<CRF>`` degradations, :mod:`vsrkit.degradations.compression`); every model upscales the clean and each
compressed LR, and Y-PSNR (``basicsr-y``) against the ground truth is averaged over the clips. Printed: the table, and
each model's gain over bicubic at each CRF.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from vsrkit import create_model
from vsrkit.degradations import get_degradation
from vsrkit.degradations.compression import h264_round_trip
from vsrkit.io.frames import list_sequences, read_sequence
from vsrkit.metrics import get_protocol


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["bicubic", "default-fast", "default-causal", "default"])
    parser.add_argument("--crfs", nargs="+", type=int, default=[18, 23, 28, 33])
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--sets", nargs="+", type=Path, default=[Path("data_cache/long_val")])
    parser.add_argument("--candidate", nargs=3, action="append", default=[], metavar=("LABEL", "PRESET", "WEIGHTS"),
                        help="also a weights file (a training run's), under LABEL")
    args = parser.parse_args()
    bi, protocol = get_degradation("bi"), get_protocol("basicsr-y")
    models = {name: create_model(name).eval() for name in args.models}
    for label, preset, weights in args.candidate:
        models[label] = create_model(preset, weights=weights).eval()
        args.models.append(label)
    inputs = ["clean", *(f"crf {c}" for c in args.crfs)]
    scores = {(m, i): [] for m in args.models for i in inputs}
    clips = [seq for folder in args.sets for seq in list_sequences(folder)]
    for clip in clips:
        hr = read_sequence(clip)[: args.frames]
        h, w = (s // 8 * 8 for s in hr.shape[-2:])  # even LR sizes, as the README's table was measured
        hr = hr[..., :h, :w]
        lr = bi.pair(hr, 4)[0]
        for name in inputs:
            src = lr if name == "clean" else h264_round_trip(lr, int(name.split()[1]))
            for model_name, model in models.items():
                with torch.inference_mode():
                    out = model(src[None])[0]
                scores[(model_name, name)].append(float(protocol.score(out, hr)["psnr"]))
        print(f"{clip.name}: {tuple(lr.shape)} done", flush=True)
    print(f"Y-PSNR (dB, basicsr-y), mean over {len(clips)} clips of {', '.join(str(s) for s in args.sets)}, "
          f"{args.frames} frames each:")
    print("model | " + " | ".join(inputs))
    for m in args.models:
        print(f"{m} | " + " | ".join(f"{np.mean(scores[(m, i)]):.3f}" for i in inputs))
    if "bicubic" in args.models:
        print("gain over bicubic:")
        for m in args.models:
            if m != "bicubic":
                print(f"{m} | " + " | ".join(
                    f"{np.mean(scores[(m, i)]) - np.mean(scores[('bicubic', i)]):+.3f}" for i in inputs))


if __name__ == "__main__":
    main()
