"""Classical, frozen optical flow (OpenCV DIS) with the same interface as :class:`~vsrkit.layers.spynet.SPyNet`.

We cannot ship pretrained SPyNet weights (the Sintel checkpoint is not ours to redistribute) and an
untrained SPyNet outputs near-random flow, so models trained from scratch on a CPU can use this
provider instead: Dense Inverse Search (Kroeger et al., ECCV 2016) from ``opencv-python-headless``
(a core dependency). It has no parameters, runs on the CPU in numpy whatever the
input device, and its output is detached (no gradient flows into it).

``DISFlow()(ref, supp)`` returns ``(N, 2, H, W)`` with ``flow_warp(supp, flow) ≈ ref``, the
convention of :mod:`vsrkit.layers.warp`. Inputs are RGB in [0, 1]; DIS sees 8-bit BT.601 luma.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import VsrkitError

Preset = Literal["ultrafast", "fast", "medium"]


def _cv2():  # type: ignore[no-untyped-def]
    try:
        import cv2
    except ImportError:
        raise VsrkitError(
            "classical flow needs OpenCV: pip install opencv-python-headless"
        ) from None
    return cv2


class DISFlow(nn.Module):
    """OpenCV DIS optical flow between frames of a batch; parameter-free and frozen."""

    def __init__(self, preset: Preset = "medium", *, finest_scale: int | None = None) -> None:
        """``finest_scale``: the finest pyramid level DIS estimates flow at (None: the preset's; 1 for
        ``medium``, i.e. half the input resolution, upsampled). 0 estimates it at full resolution,
        which matters on the small LR frames of super-resolution."""
        super().__init__()
        if preset not in ("ultrafast", "fast", "medium"):
            raise ValueError(f"unknown DIS preset {preset!r}")
        if finest_scale is not None and finest_scale < 0:
            raise ValueError(f"finest_scale must be >= 0, got {finest_scale}")
        self.preset = preset
        self.finest_scale = finest_scale

    def _gray(self, x: Tensor) -> np.ndarray:
        y = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
        return (y.clamp(0, 1) * 255.0).round().to(torch.uint8).cpu().numpy()

    @torch.no_grad()
    def forward(self, ref: Tensor, supp: Tensor) -> Tensor:
        if ref.shape != supp.shape or ref.ndim != 4 or ref.shape[1] != 3:
            raise ValueError(f"expected two (N, 3, H, W) tensors, got {tuple(ref.shape)} and {tuple(supp.shape)}")
        cv2 = _cv2()
        presets = {
            "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
            "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
            "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
        }
        dis = cv2.DISOpticalFlow_create(presets[self.preset])
        if self.finest_scale is not None:
            dis.setFinestScale(self.finest_scale)
        a, b = self._gray(ref.float()), self._gray(supp.float())
        n, h, w = a.shape
        # DIS rejects frames smaller than its patches: edge-pad tiny frames, crop the flow back.
        ph, pw = max(0, 16 - h), max(0, 16 - w)
        if ph or pw:
            a = np.pad(a, ((0, 0), (0, ph), (0, pw)), mode="edge")
            b = np.pad(b, ((0, 0), (0, ph), (0, pw)), mode="edge")
        flows = [dis.calc(a[i], b[i], None)[:h, :w] for i in range(n)]
        flow = torch.from_numpy(np.stack(flows)).permute(0, 3, 1, 2)
        return flow.to(device=ref.device, dtype=ref.dtype).contiguous()
