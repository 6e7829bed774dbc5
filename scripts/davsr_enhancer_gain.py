"""How much DAVSR's learned enhancer adds to its closed-form data steps (reporting only, never tuning).

    python scripts/davsr_enhancer_gain.py [--model davsr-tiny] [--weights W] [--dataset DIR]

Scores the model twice under ``stvsr`` + ``davsr``: as trained, and with the enhancer's residual
switched off (``conv_last`` zeroed, so every unfolded iteration returns its data step unchanged; the
trained data weights α stay). The difference is what the learned prior contributes. The default
dataset is ``reds_000`` (the validation clip); pass Vid4's GT folder for the test numbers.
"""

from __future__ import annotations

import argparse

import torch

from vsrkit import create_model
from vsrkit.engine.evaluate import evaluate
from vsrkit.shared import shared_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="davsr-tiny")
    parser.add_argument("--weights")
    parser.add_argument("--dataset", default=str(shared_path("data", "lr_only", "reds_000")))
    args = parser.parse_args()
    model = create_model(args.model, weights=args.weights).eval()
    if model.arch != "davsr":
        raise SystemExit(f"{args.model} is not a DAVSR model")
    settings = {"degradation": "stvsr", "protocol": "davsr"}
    full = evaluate(model, args.dataset, **settings)["mean"]
    with torch.no_grad():
        model.enhancer.conv_last.weight.zero_()
        model.enhancer.conv_last.bias.zero_()
    data_steps = evaluate(model, args.dataset, **settings)["mean"]
    print(f"{args.model} on {args.dataset} (stvsr, davsr), {model.iterations} unfolded iteration(s):")
    print(f"  data steps + enhancer  {full['psnr']:.3f} dB / {full['ssim']:.4f}")
    print(f"  data steps alone       {data_steps['psnr']:.3f} dB / {data_steps['ssim']:.4f}")
    print(f"  gain from the enhancer: {full['psnr'] - data_steps['psnr']:+.3f} dB")


if __name__ == "__main__":
    main()
