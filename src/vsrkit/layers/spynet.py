"""SPyNet optical flow (Ranjan & Black, CVPR 2017), trainable, 1,440,300 parameters.

Layer layout and parameter names follow BasicSR's ``SpyNet`` (``basic_module.{level}.basic_module.
{0,2,4,6,8}``), so the BasicSR checkpoint ``spynet_sintel_final-3d2a1287.pth`` and the SPyNet inside
the official HiRN / IART checkpoints load by name. mmedit's layout (``...basic_module.{j}.conv.*``)
is renamed by :func:`vsrkit.weights.convert_basicsr.rename_spynet_mmedit`.

Computation (identical to BasicSR / mmedit):

1. inputs ``(N, 3, H, W)`` RGB in [0, 1] are normalised with ImageNet mean/std and resized
   (bilinear, ``align_corners=False``) to the next multiple of 32 in each dimension;
2. a 6-level average-pool pyramid is processed coarse to fine: the flow so far is upsampled ×2
   (bilinear, ``align_corners=True``) and doubled, the support frame is warped by it with border
   padding, and each level's 5-conv module predicts a residual flow from
   ``[ref, warped supp, upsampled flow]`` (8 channels);
3. the flow is resized back to ``H × W`` and each component rescaled by the size ratio.

API (stable): ``SPyNet()(ref, supp) -> flow (N, 2, H, W)`` with ``flow_warp(supp, flow) ≈ ref``
(convention of :mod:`vsrkit.layers.warp`). The mean/std are non-persistent buffers: constants, not
weights, so they are not stored in vsrkit files (converters drop BasicSR's ``mean``/``std`` keys).
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .warp import flow_warp

LEVELS = 6
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


class SPyNetBasicModule(nn.Module):
    """One pyramid level: 8 → 32 → 64 → 32 → 16 → 2 channels, 7×7 convs, ReLU between."""

    def __init__(self) -> None:
        super().__init__()
        chans = (8, 32, 64, 32, 16, 2)
        layers: list[nn.Module] = []
        for i, (cin, cout) in enumerate(itertools.pairwise(chans)):
            layers.append(nn.Conv2d(cin, cout, 7, 1, 3))
            if i < len(chans) - 2:
                layers.append(nn.ReLU(inplace=False))
        self.basic_module = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.basic_module(x)


class SPyNet(nn.Module):
    """Flow from ``ref`` to ``supp`` (both ``(N, 3, H, W)`` RGB [0, 1]); see the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.basic_module = nn.ModuleList([SPyNetBasicModule() for _ in range(LEVELS)])
        self.register_buffer("mean", torch.tensor(_MEAN).reshape(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).reshape(1, 3, 1, 1), persistent=False)

    def _process(self, ref: Tensor, supp: Tensor) -> Tensor:
        refs = [(ref - self.mean) / self.std]
        supps = [(supp - self.mean) / self.std]
        for _ in range(LEVELS - 1):
            refs.insert(0, F.avg_pool2d(refs[0], kernel_size=2, stride=2, count_include_pad=False))
            supps.insert(0, F.avg_pool2d(supps[0], kernel_size=2, stride=2, count_include_pad=False))
        n, _, h0, w0 = refs[0].shape
        # BasicSR upsamples a zero flow of half the coarsest size; starting from zeros at the coarsest
        # size is the same and also works when that level is 1×1 (inputs of at most 32 pixels).
        flow = refs[0].new_zeros(n, 2, h0, w0)
        for level in range(LEVELS):
            if level == 0:
                up = flow
            else:
                up = F.interpolate(flow, scale_factor=2, mode="bilinear", align_corners=True) * 2.0
            # Odd pyramid sizes: pad the upsampled flow by one replicated row/column (as BasicSR).
            if up.shape[2] != refs[level].shape[2]:
                up = F.pad(up, [0, 0, 0, 1], mode="replicate")
            if up.shape[3] != refs[level].shape[3]:
                up = F.pad(up, [0, 1, 0, 0], mode="replicate")
            warped = flow_warp(supps[level], up, padding_mode="border")
            flow = self.basic_module[level](torch.cat([refs[level], warped, up], dim=1)) + up
        return flow

    def forward(self, ref: Tensor, supp: Tensor) -> Tensor:
        if ref.shape != supp.shape or ref.ndim != 4 or ref.shape[1] != 3:
            raise ValueError(f"expected two (N, 3, H, W) tensors, got {tuple(ref.shape)} and {tuple(supp.shape)}")
        h, w = ref.shape[-2:]
        h32, w32 = math.ceil(h / 32) * 32, math.ceil(w / 32) * 32
        ref_r = F.interpolate(ref, size=(h32, w32), mode="bilinear", align_corners=False)
        supp_r = F.interpolate(supp, size=(h32, w32), mode="bilinear", align_corners=False)
        flow = F.interpolate(self._process(ref_r, supp_r), size=(h, w), mode="bilinear", align_corners=False)
        scale = torch.tensor([w / w32, h / h32], dtype=flow.dtype, device=flow.device).reshape(1, 2, 1, 1)
        return flow * scale
