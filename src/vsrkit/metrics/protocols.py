"""Named evaluation protocols: how a paper turns model output and ground truth into PSNR/SSIM.

A protocol scores one sequence: ``score(output, target)`` with ``output`` ``(T, C, H, W)`` in [0, 1]
(C = 1 for Y-only models, 3 for RGB) and ``target`` RGB ``(T, 3, H, W)``. It returns per-frame
values for the frames it scores and their mean. Conventions differ between papers in four places,
all of them fields here: the colour space and Y formula, the 8-bit rounding of each side, the
spatial border crop, and frames skipped at each end of the clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from ..color import MATLAB_Y_WEIGHTS, RLSP_Y_WEIGHTS, rgb_to_y
from ..errors import VsrkitError
from .functional import psnr, ssim


@dataclass(frozen=True)
class Protocol:
    """Scoring conventions of one paper or toolbox.

    Attributes:
        channel: ``"y"`` scores luma (RGB outputs are converted with ``y_weights``), ``"rgb"`` all
            three channels (a Y-only model is an error).
        y_weights: RGB→Y coefficients (on [0, 1] data; +16/255 offset), see :mod:`vsrkit.color`.
        quantize_output: clip the model output to [0, 1] and round it to 8 bit in its own colour
            space first (what a saved PNG holds), before any Y conversion.
        pred_clip: 0-255 range the prediction (after Y conversion) is clipped to (MRVSR: 16-235).
        round_pred / round_target: round that side to integers on the 0-255 scale after the
            colour conversion.
        crop: border pixels removed on every side before both metrics.
        skip_start / skip_end: frames at the start / end of the clip left out of the scores.
        ssim_padding: ``"valid"`` (Wang / MATLAB / skimage) or ``"zero"`` (pytorch-ssim).
    """

    name: str
    channel: Literal["y", "rgb"]
    y_weights: tuple[float, float, float] = MATLAB_Y_WEIGHTS
    quantize_output: bool = True
    pred_clip: tuple[float, float] = (0.0, 255.0)
    round_pred: bool = True
    round_target: bool = True
    crop: int = 0
    skip_start: int = 0
    skip_end: int = 0
    ssim_padding: Literal["valid", "zero"] = "valid"
    description: str = ""

    def _prepare(self, output: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """Both sides on the 0-255 scale, float64, in the protocol's colour space."""
        out = output.detach().double()
        tgt = target.detach().double()
        c = out.shape[-3]
        if c not in (1, 3):
            raise ValueError(f"model output must have 1 or 3 channels, got {c}")
        if self.channel == "rgb" and c != 3:
            raise VsrkitError(
                f"protocol {self.name!r} scores RGB but the model outputs Y only; "
                "use a Y protocol such as basicsr-y"
            )
        if self.quantize_output:
            # What the saved 8-bit frame holds, in the model's own colour space.
            out = torch.round(out.clamp(0, 1) * 255.0) / 255.0
        if self.channel == "y":
            if c == 3:
                out = rgb_to_y(out, weights=self.y_weights)
            tgt = rgb_to_y(tgt, weights=self.y_weights)
        pred = (out * 255.0).clamp(*self.pred_clip)
        gt = tgt * 255.0
        if self.round_pred:
            pred = torch.round(pred)
        if self.round_target:
            gt = torch.round(gt)
        return pred, gt

    def frame_range(self, n_frames: int) -> range:
        """Indices of the frames this protocol scores."""
        return range(self.skip_start, n_frames - self.skip_end)

    def score(self, output: Tensor, target: Tensor) -> dict[str, object]:
        """``{"psnr", "ssim", "frames": [{"psnr", "ssim"}, ...]}`` for one sequence.

        ``frames`` holds the scored frames only, in order (frame ``skip_start`` first).
        """
        if output.ndim != 4 or target.ndim != 4:
            raise ValueError(
                f"expected (T, C, H, W) tensors, got {tuple(output.shape)} and {tuple(target.shape)}"
            )
        if target.shape[-3] != 3:
            raise ValueError(f"target must be RGB, got {target.shape[-3]} channels")
        if output.shape[0] != target.shape[0] or output.shape[-2:] != target.shape[-2:]:
            raise VsrkitError(
                f"model output {tuple(output.shape)} does not match the target {tuple(target.shape)}"
            )
        h, w = target.shape[-2:]
        # Valid-window SSIM needs the window to fit after the crop; zero padding needs one pixel.
        need = 2 * self.crop + (11 if self.ssim_padding == "valid" else 1)
        if min(h, w) < need:
            raise VsrkitError(
                f"frames of {h}x{w} are too small for protocol {self.name!r} (crop {self.crop} per side "
                f"and an 11-pixel SSIM window need at least {need}x{need})"
            )
        idx = self.frame_range(output.shape[0])
        if len(idx) <= 0:
            raise VsrkitError(
                f"protocol {self.name!r} skips {self.skip_start}+{self.skip_end} frames; "
                f"the sequence has only {output.shape[0]}"
            )
        # Frame by frame keeps the float64 working set at one frame.
        frames = []
        for t in idx:
            pred, gt = self._prepare(output[t : t + 1], target[t : t + 1])
            p = psnr(pred, gt, data_range=255.0, crop=self.crop).item()
            s = ssim(pred, gt, data_range=255.0, crop=self.crop, padding=self.ssim_padding).item()
            frames.append({"psnr": p, "ssim": s})
        return {
            "psnr": sum(f["psnr"] for f in frames) / len(frames),
            "ssim": sum(f["ssim"] for f in frames) / len(frames),
            "frames": frames,
        }


_PROTOCOLS: dict[str, Protocol] = {}


def register_protocol(name: str, protocol: Protocol) -> Protocol:
    if name in _PROTOCOLS:
        raise ValueError(f"protocol {name!r} already registered")
    if not hasattr(protocol, "score"):
        raise TypeError(f"a protocol needs a score(output, target) method, got {protocol!r}")
    _PROTOCOLS[name] = protocol
    return protocol


def list_protocols() -> list[str]:
    return sorted(_PROTOCOLS)


def get_protocol(name: str) -> Protocol:
    try:
        return _PROTOCOLS[name]
    except KeyError:
        raise VsrkitError(f"unknown protocol {name!r}; available: {', '.join(list_protocols())}") from None


register_protocol(
    "rlsp",
    Protocol(
        "rlsp",
        channel="y",
        y_weights=RLSP_Y_WEIGHTS,
        crop=8,
        description="RLSP: Y by (65.738R+129.057G+25.064B)/256+16, both sides rounded, crop 8, all frames",
    ),
)
register_protocol(
    "mrvsr",
    Protocol(
        "mrvsr",
        channel="y",
        quantize_output=False,
        pred_clip=(16.0, 235.0),
        round_target=False,
        crop=8,
        skip_start=2,
        skip_end=2,
        ssim_padding="zero",
        description="MRVSR: Y clipped 16-235 and rounded vs unrounded GT Y, crop 8, pytorch-ssim, "
        "first/last 2 frames skipped",
    ),
)
register_protocol(
    "basicsr-y",
    Protocol(
        "basicsr-y",
        channel="y",
        round_pred=False,
        round_target=False,
        description="BasicSR Vid4: 8-bit output, MATLAB Y (unrounded), crop 0, all frames",
    ),
)
register_protocol(
    "basicsr-rgb",
    Protocol("basicsr-rgb", channel="rgb", description="BasicSR REDS4: 8-bit RGB, crop 0, all frames"),
)
