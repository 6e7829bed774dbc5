"""How consistent a Y-output model is with its LR input under ``bi``, and what projecting onto that consistency gains.

    python scripts/lr_consistency.py --model default --sets shared:data/lr_only/reds_000 data_cache/photo_val

For each clip (``bi`` + ``basicsr-y``; never run it on Vid4 to choose anything): the model's output ``x``, the LR luma
``y`` (BT.601, the protocol's weights) and ``A``, MATLAB's bicubic x1/4 as a matrix per axis. Printed: the residual
``mean((A x - y)^2)`` of the output and of the ground truth (the truth's own residual is the 8-bit rounding of the LR),
and the PSNR of the output after the orthogonal projection onto ``{x : A x = y}`` (optionally regularised by
``lambda``), then clamped to the luma range. The projection can only bring ``x`` closer to the truth in the part of
the error ``A`` sees; when the output's residual is no larger than the truth's, that part is rounding noise.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import Tensor

from vsrkit import create_model
from vsrkit.color import rgb_to_y
from vsrkit.degradations import get_degradation
from vsrkit.io.frames import list_sequences, read_sequence
from vsrkit.layers.resize import imresize
from vsrkit.metrics import get_protocol
from vsrkit.shared import shared_path

Y_MIN, Y_MAX = 16 / 255, 235 / 255


def downscale_matrix(n: int, scale: int) -> Tensor:
    """``(n / scale, n)``: what ``imresize(..., 1/scale)`` does along one axis (MATLAB's borders included)."""
    basis = torch.eye(n, dtype=torch.float64)[:, :, None].expand(n, n, scale).contiguous()
    return imresize(basis, scale=1.0 / scale)[..., 0].T


def project(x: Tensor, y: Tensor, ah: Tensor, aw: Tensor, lam: float) -> Tensor:
    """``x + A^T (A A^T + lam)^-1 (y - A x)`` for the separable ``A = (ah, aw)`` (eigenbases of ``A A^T`` per axis),
    clamped."""
    dh, uh = torch.linalg.eigh(ah @ ah.T)
    dw, uw = torch.linalg.eigh(aw @ aw.T)
    residual = uh.T @ (y - ah @ x @ aw.T) @ uw
    residual = residual / (dh[:, None] * dw[None, :] + lam)
    return (x + ah.T @ (uh @ residual @ uw.T) @ aw).clamp(Y_MIN, Y_MAX)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--sets", nargs="+", required=True, help="dataset folders; shared:PATH for ../shared/PATH")
    parser.add_argument("--lambdas", nargs="+", type=float, default=[0.0, 0.01])
    args = parser.parse_args()
    model = create_model(args.model).eval()
    if model.output != "Y":
        raise SystemExit(f"{args.model} outputs {model.output}; this measures Y-output models")
    bi, protocol, scale = get_degradation("bi"), get_protocol("basicsr-y"), model.scale
    gains: dict[float, list[float]] = {lam: [] for lam in args.lambdas}
    for folder in args.sets:
        path = shared_path(*folder.split(":", 1)[1].split("/")) if folder.startswith("shared:") else Path(folder)
        for clip in list_sequences(path):
            lr, target = bi.pair(read_sequence(clip), scale)
            with torch.inference_mode():
                out = model(lr[None])[0].double()
            y = rgb_to_y(lr.double())
            ah, aw = downscale_matrix(out.shape[-2], scale), downscale_matrix(out.shape[-1], scale)
            a_out = (ah @ out @ aw.T - y) ** 2
            a_truth = (ah @ rgb_to_y(target.double()) @ aw.T - y) ** 2
            raw = protocol.score(out.float(), target)["psnr"]
            line = f"{clip.name:<12} residual output {a_out.mean():.2e} truth {a_truth.mean():.2e}  PSNR {raw:.4f}"
            for lam in args.lambdas:
                projected = protocol.score(project(out, y, ah, aw, lam).float(), target)["psnr"]
                gains[lam].append(projected - raw)
                line += f"  projected (lambda {lam:g}) {projected - raw:+.4f}"
            print(line, flush=True)
    for lam, values in gains.items():
        print(f"mean gain, lambda {lam:g}: {sum(values) / len(values):+.4f} dB over {len(values)} clips")


if __name__ == "__main__":
    main()
