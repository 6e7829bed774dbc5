"""How much a multi-frame model gains from other frames on Vid4 (reporting only, never tuning).

    python scripts/recurrence_gain.py --model default [--weights W] [--degradation bi --protocol basicsr-y]

Scores the model twice: as it runs (state carried from frame to frame) and with every frame run
alone (a clip of one frame: zero state, the frame replicated as its own neighbours). The difference
is what the model takes from other frames; a model that has only learned single-image
super-resolution shows almost none.
"""

from __future__ import annotations

import argparse

from vsrkit import create_model
from vsrkit.engine.evaluate import evaluate, run_frames_alone
from vsrkit.shared import shared_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--weights")
    parser.add_argument("--degradation", default="bi")
    parser.add_argument("--protocol", default="basicsr-y")
    parser.add_argument("--dataset", default=str(shared_path("data", "vid4", "GT")))
    args = parser.parse_args()
    model = create_model(args.model, weights=args.weights).eval()
    settings = {"degradation": args.degradation, "protocol": args.protocol}
    recurrent = evaluate(model, args.dataset, **settings)["mean"]
    alone = evaluate(model, args.dataset, **settings, run=run_frames_alone)["mean"]
    print(f"{args.model} on {args.dataset} ({args.degradation}, {args.protocol}):")
    print(f"  recurrent     {recurrent['psnr']:.3f} dB / {recurrent['ssim']:.4f}")
    print(f"  frames alone  {alone['psnr']:.3f} dB / {alone['ssim']:.4f}")
    print(f"  gain from other frames: {recurrent['psnr'] - alone['psnr']:+.3f} dB")


if __name__ == "__main__":
    main()
