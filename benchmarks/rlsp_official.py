"""Reproduce the official RLSP 7-64 Vid4 outputs from the official TensorFlow checkpoint.

Converts ``../shared/weights/rlsp_tf/ckpt_rlsp_64`` with the ``rlsp-tf`` converter, evaluates it with
the project's own ``gauss1.5`` degradation, ``rlsp`` protocol and ``vsrkit.engine.evaluate`` (saving
the 8-bit Y frames), then compares every saved frame with the authors' outputs in
``../shared/reference/rlsp_7-64_vid4`` and scores those reference frames with the same protocol.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rlsp_official.py [--sequences city walk] [--json OUT]

Prints PSNR/SSIM per clip for our run and for the reference frames, the mean over clips, and the
pixel agreement (share of identical pixels, largest absolute difference). Exits 1 when the result
misses the target (|mean PSNR - reference| > 0.01 dB, < 99.9 % identical pixels or a difference > 1).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from vsrkit import create_model
from vsrkit.degradations import get_degradation
from vsrkit.engine.evaluate import evaluate
from vsrkit.io.frames import list_frames, list_sequences, read_sequence
from vsrkit.metrics import get_protocol
from vsrkit.shared import shared_path
from vsrkit.weights.convert import convert

SCALE = 4


def pixel_agreement(ours_dir: Path, reference_dir: Path) -> dict[str, float]:
    """Identical-pixel share and max |difference| between our PNGs and the reference PNGs, in order."""
    ours, refs = list_frames(ours_dir), list_frames(reference_dir)
    if len(ours) != len(refs):
        raise SystemExit(f"{ours_dir}: {len(ours)} frames, reference {reference_dir} has {len(refs)}")
    equal = total = 0
    worst = 0
    for a_path, b_path in zip(ours, refs):
        a = np.asarray(Image.open(a_path), dtype=np.int16)
        b = np.asarray(Image.open(b_path), dtype=np.int16)
        if a.shape != b.shape:
            raise SystemExit(f"{a_path}: shape {a.shape} differs from the reference {b_path} {b.shape}")
        diff = np.abs(a - b)
        equal += int((diff == 0).sum())
        total += diff.size
        worst = max(worst, int(diff.max()))
    return {
        "frames": len(ours),
        "pixels": total,
        "different_pixels": total - equal,
        "identical": equal / total,
        "max_abs_diff": worst,
    }


def reference_scores(gt_dir: Path, reference_dir: Path, protocol: str) -> dict[str, float]:
    """The protocol's PSNR/SSIM of the authors' saved Y frames against the same target we use."""
    _, target = get_degradation("gauss1.5").pair(read_sequence(gt_dir), SCALE)
    ref = torch.stack(
        [
            torch.from_numpy(np.asarray(Image.open(p), dtype=np.float32) / 255.0)[None]
            for p in list_frames(reference_dir)
        ]
    )
    score = get_protocol(protocol).score(ref, target)
    return {"psnr": score["psnr"], "ssim": score["ssim"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=shared_path("weights", "rlsp_tf", "ckpt_rlsp_64"))
    parser.add_argument("--dataset", type=Path, default=shared_path("data", "vid4", "GT"))
    parser.add_argument("--reference", type=Path, default=shared_path("reference", "rlsp_7-64_vid4"))
    parser.add_argument("--sequences", nargs="*", help="subset of clips (default: all)")
    parser.add_argument("--json", type=Path, help="write the full result here")
    parser.add_argument("--keep-frames", type=Path, help="keep our saved Y frames in this folder")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rlsp_official_") as tmp_name:
        tmp = Path(tmp_name)
        weights = tmp / "rlsp64.safetensors"
        convert("rlsp-tf", args.checkpoint, weights)
        model = create_model("rlsp-7-64", weights=weights)

        dataset = args.dataset
        if args.sequences:
            # A dataset folder of links to the chosen clips (links, not copies, of ../shared).
            dataset = tmp / "subset"
            dataset.mkdir()
            for name in args.sequences:
                (dataset / name).symlink_to((args.dataset / name).resolve(), target_is_directory=True)
        frames_dir = args.keep_frames or tmp / "frames"
        result = evaluate(
            model,
            dataset,
            degradation="gauss1.5",
            protocol="rlsp",
            save_frames=frames_dir,
            weights_label=str(args.checkpoint),
        )

        rows = {}
        for seq in list_sequences(dataset):
            name = seq.name
            rows[name] = {
                "psnr": result["sequences"][name]["psnr"],
                "ssim": result["sequences"][name]["ssim"],
                "reference": reference_scores(seq, args.reference / name, "rlsp"),
                **pixel_agreement(frames_dir / name, args.reference / name),
            }

    n = len(rows)
    mean = {k: sum(r[k] for r in rows.values()) / n for k in ("psnr", "ssim")}
    ref_mean = {k: sum(r["reference"][k] for r in rows.values()) / n for k in ("psnr", "ssim")}
    identical_all = 1 - sum(r["different_pixels"] for r in rows.values()) / sum(
        r["pixels"] for r in rows.values()
    )
    worst = max(r["max_abs_diff"] for r in rows.values())

    print("RLSP 7-64, official TF checkpoint converted by vsrkit; gauss1.5, protocol rlsp (Y, crop 8)")
    header = ("clip", "frames", "PSNR", "ref PSNR", "SSIM", "ref SSIM", "identical", "max|d|")
    widths = (10, 7, 9, 10, 8, 10, 12, 8)
    print("".join(f"{h:<{w}}" if i == 0 else f"{h:>{w}}" for i, (h, w) in enumerate(zip(header, widths))))
    for name, r in rows.items():
        print(
            f"{name:<10}{r['frames']:>7}{r['psnr']:>9.4f}{r['reference']['psnr']:>10.4f}{r['ssim']:>8.4f}"
            f"{r['reference']['ssim']:>10.4f}{100 * r['identical']:>11.4f}%{r['max_abs_diff']:>8}"
        )
    print(
        f"{'mean':<10}{'':>7}{mean['psnr']:>9.4f}{ref_mean['psnr']:>10.4f}{mean['ssim']:>8.4f}"
        f"{ref_mean['ssim']:>10.4f}{100 * identical_all:>11.4f}%{worst:>8}"
    )
    print(f"model speed: {result['fps']:.2f} frames/s ({torch.get_num_threads()} threads)")
    ok = abs(mean["psnr"] - ref_mean["psnr"]) <= 0.01 and all(
        r["identical"] >= 0.999 and r["max_abs_diff"] <= 1 for r in rows.values()
    )
    print("REPRODUCED" if ok else "NOT REPRODUCED")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "sequences": rows,
                    "mean": mean,
                    "reference_mean": ref_mean,
                    "identical": identical_all,
                    "max_abs_diff": worst,
                    "fps": result["fps"],
                    "reproduced": ok,
                },
                indent=2,
            )
            + "\n"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
