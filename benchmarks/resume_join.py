"""What the segments of a resumable `vsrkit upscale` cost: the joint (the pass that copies the encoded segments and
the input's other streams into the output, after the model has run) and the file size (a keyframe per segment).

    python benchmarks/resume_join.py [--frames 2000] [--model bicubic] [--segment-seconds 5]

Upscales a synthetic 180x144 clip with sound (vsrkit.demo) to 720x576 twice: in one segment, and in segments of
``--segment-seconds`` of work. Prints the whole run's time and, inside it, the joint's (vsrkit.io.resume.join_segments),
its rate in MB/s, the mean frames per segment and the size against the one-segment output. With ``bicubic`` the
model costs next to nothing, so the joint's share is the largest it can be.
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

    joints: list[tuple[float, int]] = []  # (seconds, segments) per run
    join = upscaler_module.join_segments

    def timed_join(folder, *a, **kw):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return join(folder, *a, **kw)
        finally:
            joints.append((time.perf_counter() - start, len(folder.segments)))

    upscaler_module.join_segments = timed_join
    with tempfile.TemporaryDirectory() as tmp:
        src = write_sample_video(Path(tmp) / "in.mp4", scene(180, 144, supersample=1), frames=args.frames, fps=25)
        sizes, wholes = [], []
        for seconds in (float("inf"), args.segment_seconds):
            out = Path(tmp) / "out.mp4"
            start = time.perf_counter()
            Upscaler(args.model, device="cpu").upscale(src, out, progress=False, resume=False,
                                                       checkpoint_seconds=seconds)
            wholes.append(time.perf_counter() - start)
            sizes.append(out.stat().st_size / 1e6)
    (_, one), (joint, segments) = joints
    assert one == 1
    print(f"{args.model}, {args.frames} frames 180x144 -> 720x576")
    print(f"segments of {args.segment_seconds:g} s of work: {segments} ({args.frames / segments:.0f} frames each); "
          f"whole run {wholes[1]:.1f} s, of which the joint {joint:.2f} s ({100 * joint / wholes[1]:.1f} %), "
          f"{sizes[1] / joint:.0f} MB/s")
    print(f"output {sizes[1]:.2f} MB against {sizes[0]:.2f} MB in one segment ({100 * (sizes[1] / sizes[0] - 1):+.1f} %)")


if __name__ == "__main__":
    main()
