"""Can a model learn at all? Train it on one fixed batch and watch the loss (a training-path check).

    python scripts/overfit_batch.py --model davsr-tiny --degradation stvsr [--steps 200] [--lr 1e-3] [--holdout]

Takes 15 frames of the Temple clip (a 96×96 HR crop, never Vid4), degrades them, and runs Adam on that
one batch with the Charbonnier loss from a random initialisation. Prints the gradient norm of every
top-level module at the first step (a module with no gradient, or one orders of magnitude below the
rest, shows where the training signal dies) and the loss every ``--every`` steps. A model whose loss
stays flat here cannot learn from real batches either. ``--holdout`` also prints, at the same steps,
the loss on a second crop of the clip that is never trained on: if it does not fall while the
training loss does, the model memorises the batch instead of learning something that generalises.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from vsrkit import create_model
from vsrkit.color import rgb_to_y
from vsrkit.degradations import get_degradation
from vsrkit.engine.losses import get_loss
from vsrkit.io.frames import read_sequence
from vsrkit.shared import shared_path


def module_grad_norms(model: nn.Module) -> dict[str, tuple[int, int, float]]:
    """``name -> (parameters with a gradient, trainable parameters, gradient norm)`` per leaf-most
    child that owns parameters (one level below a wrapper such as DAVSR's ``enhancer``)."""
    out = {}
    for name, child in model.named_children():
        children = [(f"{name}.{n}", c) for n, c in child.named_children()] if len(list(child.children())) > 1 else []
        for label, module in children or [(name, child)]:
            params = [p for p in module.parameters() if p.requires_grad]
            if not params:
                continue
            grads = [p.grad for p in params if p.grad is not None]
            norm = float(torch.sqrt(sum((g.float() ** 2).sum() for g in grads))) if grads else 0.0
            out[label] = (len(grads), len(params), norm)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="davsr-tiny")
    parser.add_argument("--degradation", default="stvsr")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--every", type=int, default=25)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--holdout", action="store_true", help="also track the loss on an unseen crop")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    model = create_model(args.model, pretrained=False).train()
    clip = read_sequence(shared_path("data", "temple", "GT"))[:15]
    degradation = get_degradation(args.degradation)

    def pair(top: int, left: int) -> tuple[torch.Tensor, torch.Tensor]:
        lr, target = degradation.pair(clip[:, :, top : top + 96, left : left + 96], model.scale)
        return lr, rgb_to_y(target) if model.output == "Y" else target

    lr, target = pair(100, 200)
    held_lr, held_target = pair(500, 700)
    loss_fn = get_loss("charbonnier")
    optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], args.lr)
    print(f"{args.model}: LR {tuple(lr.shape)} -> target {tuple(target.shape)}, {args.degradation}, lr {args.lr}")
    for step in range(args.steps + 1):
        t0 = time.perf_counter()
        loss = loss_fn(model(lr[None])[0], target)
        optimiser.zero_grad()
        loss.backward()
        if step == 0:
            for name, (with_grad, total, norm) in module_grad_norms(model).items():
                print(f"  grad {name:<32} {with_grad}/{total} tensors, norm {norm:.3e}")
        optimiser.step()
        if step % args.every == 0:
            held = ""
            if args.holdout:
                with torch.no_grad():
                    held = f" holdout {loss_fn(model(held_lr[None])[0], held_target).item():.5f}"
            print(f"step {step:4d} loss {loss.item():.5f}{held} ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
