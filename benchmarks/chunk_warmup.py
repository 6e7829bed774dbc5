"""How many warm-up frames a bidirectional model needs when the Upscaler cuts a video into chunks.

    python benchmarks/chunk_warmup.py [--model hirn-tiny] [--chunk 16] [--warmups 0 2 4 8 12 16]
        [--clip calendar] [--crop 64]

A bidirectional model sees the whole clip; the Upscaler runs it on chunks of ``--chunk`` frames with
``warmup`` context frames on each side, so memory stays flat in the video's length. This scores a
Vid4 clip (BI degradation, centre LR crop of ``--crop`` pixels to keep it fast, ``basicsr-y``)
run whole and run through the Upscaler's chunks for each warm-up, and prints the PSNR change and
the largest pixel difference against the whole-clip output. Needs trained weights to mean anything
(the presets with shipped weights: ``default``, ``hirn-tiny``, ``iart-tiny``). For models that carry
their forward state from chunk to chunk (``default``), each warm-up is also run with the carry
switched off (``carry no``: both directions warm up on both sides), timed in the same process. tOF
(:mod:`vsrkit.metrics.temporal`) of each run against the whole clip's shows whether chunk borders add flicker.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from vsrkit import create_model
from vsrkit.degradations import get_degradation
from vsrkit.engine.upscaler import Upscaler
from vsrkit.io.frames import read_sequence
from vsrkit.metrics import get_protocol
from vsrkit.metrics.temporal import tof
from vsrkit.shared import shared_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="hirn-tiny")
    parser.add_argument("--chunk", type=int, default=16)
    parser.add_argument("--warmups", type=int, nargs="+", default=[0, 2, 4, 8, 12, 16])
    parser.add_argument("--weights", help="weights file (default: the preset's own)")
    parser.add_argument("--clip", default="calendar",
                        help="a Vid4 clip name, or a folder of frames (e.g. shared data/lr_only/reds_000)")
    parser.add_argument("--crop", type=int, default=64, help="LR crop size (centre)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    model = create_model(args.model, weights=args.weights).eval()
    clip = Path(args.clip) if Path(args.clip).is_dir() else shared_path("data", "vid4", "GT", args.clip)
    hr = read_sequence(clip)
    lr, target = get_degradation("bi").pair(hr, model.scale)
    h, w = lr.shape[-2:]
    top, left = (h - args.crop) // 2, (w - args.crop) // 2
    lr = lr[..., top : top + args.crop, left : left + args.crop]
    s = model.scale
    target = target[..., top * s : (top + args.crop) * s, left * s : (left + args.crop) * s]
    protocol = get_protocol("basicsr-y")

    t0 = time.perf_counter()
    with torch.inference_mode():
        whole = model(lr[None])[0].clamp(0, 1)
    whole_s = time.perf_counter() - t0
    whole_psnr = float(protocol.score(whole, target)["psnr"])
    whole_tof = float(tof(whole, target)["tof"])
    print(f"{args.model} on {clip.name} ({lr.shape[0]} frames, LR {args.crop}x{args.crop}), chunk {args.chunk}")
    print(f"whole clip: {whole_psnr:.4f} dB, tOF {whole_tof:.4f}, {whole_s / lr.shape[0]:.2f} s/frame")
    print("warm-up | carry | PSNR (dB) | minus whole clip | max |difference| (of 255) | tOF (whole clip's) | s/frame")
    carries = (True, False) if model.carries_chunk_state else (False,)
    for warmup in args.warmups:
        for carry in carries:
            model.carries_chunk_state = carry  # type: ignore[misc]  # this instance only
            upscaler = Upscaler(model, device="cpu", precision="fp32", chunk=args.chunk, warmup=warmup)
            t0 = time.perf_counter()
            # The model's outputs as the Upscaler's chunks produce them, before it adds chroma (Y models).
            chunked = torch.cat([out for _, out, _ in upscaler._outputs(iter(lr))]).clamp(0, 1)
            per_frame = (time.perf_counter() - t0) / lr.shape[0]
            psnr = float(protocol.score(chunked, target)["psnr"])
            diff = float((chunked - whole).abs().max()) * 255
            chunked_tof = float(tof(chunked, target)["tof"])
            print(f"{warmup:7d} | {'yes' if carry else 'no':5s} | {psnr:.4f} | {psnr - whole_psnr:+.4f} | "
                  f"{diff:.2f} | {chunked_tof:.4f} ({whole_tof:.4f}) | {per_frame:.3f}")


if __name__ == "__main__":
    main()
