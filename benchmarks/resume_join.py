"""How long the joint of a resumable `vsrkit upscale` takes: the pass that copies the encoded segments and the
input's other streams into the output, after the model has run.

    python benchmarks/resume_join.py [--frames 2000] [--model bicubic] [--segment-seconds 5]

Upscales a synthetic 180x144 clip with sound (vsrkit.demo) to 720x576 and times the whole run and, inside it, the
joint (vsrkit.io.resume.join_segments); prints both, the output's size and the joint's rate in MB/s. With
``bicubic`` the model costs next to nothing, so the joint's share is the largest it can be.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from vsrkit.demo import scene, write_sample_video
from vsrkit.engine import upscaler as upscaler_module
from vsrkit.engine.upscaler import Upscaler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--model", default="bicubic")
    parser.add_argument("--segment-seconds", type=float, default=5.0)
    args = parser.parse_args()

    spent: list[float] = []
    join = upscaler_module.join_segments

    def timed_join(*a, **kw):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return join(*a, **kw)
        finally:
            spent.append(time.perf_counter() - start)

    upscaler_module.join_segments = timed_join
    with tempfile.TemporaryDirectory() as tmp:
        src = write_sample_video(Path(tmp) / "in.mp4", scene(180, 144, supersample=1), frames=args.frames, fps=25)
        out = Path(tmp) / "out.mp4"
        start = time.perf_counter()
        summary = Upscaler(args.model, device="cpu").upscale(src, out, progress=False,
                                                             checkpoint_seconds=args.segment_seconds)
        whole = time.perf_counter() - start
        size = out.stat().st_size / 1e6
    print(f"{args.model}, {summary.frames_out} frames 180x144 -> 720x576, segments of {args.segment_seconds:g} s of work")
    print(f"whole run {whole:.1f} s, of which the joint {spent[0]:.2f} s ({100 * spent[0] / whole:.1f} %); "
          f"output {size:.1f} MB, joined at {size / spent[0]:.0f} MB/s")


if __name__ == "__main__":
    main()
