"""What H.264 compression of the input costs each model: the shipped models are trained on clean bicubic LR, and
users' videos are compressed.

    python benchmarks/compressed_input.py [--models bicubic default-fast default-causal default]
        [--crfs 18 23 28 33] [--frames 32] [--sets data_cache/long_val]

Each clip of the held-out sets (never Vid4; ``scripts/make_long_val.py`` builds ``long_val``: real camera footage)
is degraded ``bi`` x4, cropped to even LR sizes, and encoded with libx264 (yuv420p, preset medium) at each CRF, then
decoded; every model upscales the clean and each compressed LR, and Y-PSNR (``basicsr-y``) against the ground
truth is averaged over the clips. Printed: the table, and each model's gain over bicubic at each CRF.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import av
import numpy as np
import torch

from vsrkit import create_model
from vsrkit.degradations import get_degradation
from vsrkit.io.frames import list_sequences, read_sequence
from vsrkit.metrics import get_protocol


def compressed(lr: torch.Tensor, crf: int) -> torch.Tensor:
    """``lr`` ``(T, 3, H, W)`` in [0, 1] through libx264 at ``crf`` (yuv420p) and back."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lr.mp4"
        with av.open(str(path), "w") as out:
            stream = out.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = lr.shape[-1], lr.shape[-2], "yuv420p"
            stream.options = {"crf": str(crf), "preset": "medium"}
            for frame in lr:
                rgb = (frame.permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
                out.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")))
            out.mux(stream.encode())
        with av.open(str(path)) as container:
            frames = [torch.from_numpy(f.to_ndarray(format="rgb24")).permute(2, 0, 1) for f in container.decode(video=0)]
    return torch.stack(frames).float() / 255


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["bicubic", "default-fast", "default-causal", "default"])
    parser.add_argument("--crfs", nargs="+", type=int, default=[18, 23, 28, 33])
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--sets", nargs="+", type=Path, default=[Path("data_cache/long_val")])
    args = parser.parse_args()
    bi, protocol = get_degradation("bi"), get_protocol("basicsr-y")
    models = {name: create_model(name).eval() for name in args.models}
    inputs = ["clean", *(f"crf {c}" for c in args.crfs)]
    scores = {(m, i): [] for m in args.models for i in inputs}
    clips = [seq for folder in args.sets for seq in list_sequences(folder)]
    for clip in clips:
        hr = read_sequence(clip)[: args.frames]
        h, w = (s // 8 * 8 for s in hr.shape[-2:])  # even LR sizes for 4:2:0
        hr = hr[..., :h, :w]
        lr = bi.pair(hr, 4)[0]
        for name in inputs:
            src = lr if name == "clean" else compressed(lr, int(name.split()[1]))
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
