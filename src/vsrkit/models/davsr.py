"""DAVSR: space-time VSR by unfolded alternating optimisation (Cao et al., ECCV 2022; specs §2).

Task: a blurry, low-frame-rate, low-resolution clip in, a sharp clip with ``temporal_scale = 5``
times the frames and ``scale = 4`` times the size out. The observation model is the ``stvsr``
degradation (:mod:`vsrkit.degradations.stvsr`): ``Y = (X ⊛ K)↓(5, 4, 4)`` with ``K`` a 5-frame
temporal box times the bicubic ×4 anti-aliasing kernel, LR frame ``i`` ↔ HR frames ``5i .. 5i+4``.

Forward pass (half-quadratic splitting unrolled ``iterations`` times, weights shared):

1. initial estimate ``X₀``: frame interpolation to the HR time grid (LR frame ``i`` placed at HR
   frame ``5i + 2``; :mod:`vsrkit.layers.interpolation`), then bilinear ×4;
2. HyPaNet, a 1×1 conv MLP (the official 1×1×1 Conv3d) on ``[noise σ, s_t, s] = [0, 5, 4]``, gives the data weights
   ``α_1..α_K`` (and ``β_1..β_K``, which the official configuration, with 3 image channels, never
   uses; kept so the layer matches the official one);
3. for ``k = 1..K``: ``Z_k`` = closed-form Fourier data step
   ``argmin ||Y - (Z ⊛ K)↓s||² + α_k ||Z - X_{k-1}||²`` (:mod:`vsrkit.layers.fourier`), then
   ``X_k`` = recurrent video enhancer (BasicVSR++ in same-size mode) applied to ``Z_k``.

The enhancer, built from :mod:`vsrkit.layers.propagation`: feature extraction by two stride-2
convs (+LReLU 0.1) and a conv + residual-block trunk, so propagation runs at ¼ of the HR size;
flows from SPyNet on the bicubic ×¼ of ``Z_k`` (or from a classical frozen flow, ``flow="dis"``);
four second-order deformable propagation branches (backward₁, forward₁, backward₂, forward₂);
reconstruction by residual blocks on 5·C channels, two ×2 pixel-shuffle upsamplers, conv_hr and
conv_last; the output is added to ``Z_k`` (same-size residual).

Parameters of the full preset ``davsr`` (:func:`parameter_breakdown`; a test checks these numbers):

====================================================================  ===========
SPyNet                                                                   1,440,300
feature extraction: 2 stride-2 convs, conv 64→64 + 5 residual blocks       444,928
4 × second-order deformable alignment (DCN 128→64, offset convs)         2,039,488
4 × propagation trunk: conv (2..5)·64→64 + 7 residual blocks             2,584,320
reconstruction (conv 320→64 + 5 blocks), 2 × pixel-shuffle, hr, last       887,747
HyPaNet (3→16→16→6, 1×1 convs)                                                  438
**total**                                                                **7,397,221**
====================================================================  ===========

The official total, ≈ 7.47 M, also counts a KAIR ResUNet prior (≈ 72 K) that the official network
instantiates but never calls; it is left out here (an unused layer would get no gradient). The
frozen Super-SloMo of the official initial estimate is not part of either count.

Differences from the official code, all deliberate:

* initial estimate: the official frozen Super-SloMo has no obtainable weights; ``interpolation``
  selects ``"spynet"`` (flow interpolation with the enhancer's own SPyNet), ``"dis"`` (OpenCV DIS
  flow, frozen) or ``"linear"`` (cross-fade). See :mod:`vsrkit.layers.interpolation`;
* time grid: by our reading of specs §2.3 (``p2o`` rolls the 5-tap box by −2, samples at
  ``[0::5]``) the official data step models LR frame ``i`` as HR frames ``5i-2 .. 5i+2`` while its
  data pairs it with ``5i .. 5i+4``; here the data step uses the pairing of the data;
* bilinear ×4 of ``X₀`` with ``align_corners=False``, the sampling geometry of the bicubic kernel
  (the official uses ``align_corners=True``);
* spatial kernel: the exact MATLAB bicubic ×4 taps (16×16 separable) instead of the 25×25
  ``ker_x4`` approximation of them;
* no zero-padding of inputs to a multiple of 32 (every layer here accepts any size);
* flows for the enhancer on MATLAB-bicubic ×¼ (:func:`~vsrkit.layers.resize.imresize`, the one
  resize) rather than ``F.interpolate`` bicubic;
* initialisation: HyPaNet starts with ``α ≈ 0.01`` and ``conv_last`` small (std 1e-2), so the untrained
  network is close to the unfolded data steps on ``X₀`` (the official initialisation is unknown, specs §2.3).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..layers.fourier import bicubic_kernel_1d, fourier_data_step, kernel_to_otf
from ..layers.interpolation import FlowInterpolator, LinearInterpolator, upsample_time
from ..layers.propagation import ConvResidualBlocks, SecondOrderDeformableAlignment
from ..layers.resize import imresize
from ._registry import register_model, shipped_weights
from .base import VSRModel

FlowSource = Literal["spynet", "dis"]
Interpolation = Literal["spynet", "dis", "linear"]
BRANCHES = ("backward_1", "forward_1", "backward_2", "forward_2")


class HyPaNet(nn.Module):
    """Hyper-parameter net: ``[σ, s_t, s]`` → ``(α_1..α_K, β_1..β_K)``, positive (Softplus + 1e-6).

    The official layers are 1×1×1 ``Conv3d``; these are the same maps as 1×1 ``Conv2d`` (official
    weights load after dropping one singleton dimension). 4-D weights keep the model convertible to
    ``channels_last`` as a whole, which the upscaler does on CPU.
    """

    def __init__(self, *, iterations: int = 3, hidden: int = 16) -> None:
        super().__init__()
        self.iterations = iterations
        self.mlp = nn.Sequential(
            nn.Conv2d(3, hidden, 1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, hidden, 1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, 2 * iterations, 1), nn.Softplus(),
        )
        # Start the data weights near 0.01 rather than Softplus(0) ≈ 0.7. The blur-and-sample operator
        # has AAᵀ ≈ 1/80 at low frequencies, so with α ≈ 0.7 the data step would move the estimate by
        # ~2 % at initialisation; α ≈ 0.01 makes it a real correction from the first iteration.
        with torch.no_grad():
            self.mlp[4].bias[:iterations].fill_(math.log(math.expm1(0.01)))

    def forward(self, hyper: Tensor) -> tuple[Tensor, Tensor]:
        """``hyper`` ``(B, 3)``; returns ``alpha, beta`` each ``(B, iterations)``."""
        out = self.mlp(hyper.view(*hyper.shape, 1, 1)).flatten(1) + 1e-6
        return out[:, : self.iterations], out[:, self.iterations :]


class _UpsamplePack(nn.Module):
    """conv 3×3 to 4·C channels, then pixel shuffle ×2 (mmedit ``PixelShufflePack``)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.upsample_conv = nn.Conv2d(in_channels, out_channels * 4, 3, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        return F.pixel_shuffle(self.upsample_conv(x), 2)


class RecurrentVideoEnhancer(nn.Module):
    """BasicVSR++ in same-size mode: ``(B, N, 3, H, W)`` → ``(B, N, 3, H, W)``, H and W multiples of 4."""

    def __init__(
        self,
        *,
        mid_channels: int = 64,
        num_extract_blocks: int = 5,
        num_propagation_blocks: int = 7,
        num_reconstruction_blocks: int = 5,
        deform_groups: int = 16,
        max_residue_magnitude: float = 10.0,
        flow: FlowSource = "spynet",
        hr_channels: int = 64,
    ) -> None:
        super().__init__()
        c = mid_channels
        self.mid_channels = c
        self.flow_source = flow
        if flow == "spynet":
            from ..layers.spynet import SPyNet

            self.spynet: nn.Module = SPyNet()
        elif flow == "dis":
            from ..layers.classical_flow import DISFlow

            self.spynet = DISFlow()
        else:
            raise ValueError(f"flow must be 'spynet' or 'dis', got {flow!r}")
        self.feat_extract = nn.Sequential(
            nn.Conv2d(3, c, 3, 2, 1), nn.LeakyReLU(0.1, inplace=True),
            nn.Conv2d(c, c, 3, 2, 1), nn.LeakyReLU(0.1, inplace=True),
            ConvResidualBlocks(c, c, num_extract_blocks),
        )
        self.deform_align = nn.ModuleDict(
            {
                name: SecondOrderDeformableAlignment(
                    c, deform_groups=deform_groups, max_residue_magnitude=max_residue_magnitude
                )
                for name in BRANCHES
            }
        )
        self.backbone = nn.ModuleDict(
            {name: ConvResidualBlocks((2 + i) * c, c, num_propagation_blocks) for i, name in enumerate(BRANCHES)}
        )
        self.reconstruction = ConvResidualBlocks(5 * c, c, num_reconstruction_blocks)
        self.upsample1 = _UpsamplePack(c, c)
        self.upsample2 = _UpsamplePack(c, hr_channels)
        self.conv_hr = nn.Conv2d(hr_channels, hr_channels, 3, 1, 1)
        self.conv_last = nn.Conv2d(hr_channels, 3, 3, 1, 1)
        # Start near the identity (X_k ≈ Z_k): the untrained network is then close to the unfolded
        # data steps alone, which already deblur and upsample; training learns the prior on top.
        # Small but not tiny: every gradient reaching the enhancer passes through conv_last, and with
        # std 1e-4 one-batch overfitting sat on a ~100-step plateau (loss 0.0262 -> 0.0231 at step
        # 100) before learning, against 0.0156 at step 100 with std 1e-2 (scripts/overfit_batch.py).
        nn.init.normal_(self.conv_last.weight, std=1e-2)
        nn.init.zeros_(self.conv_last.bias)
        self.lrelu = nn.LeakyReLU(0.1, inplace=True)
        # Frames reconstructed per batch (memory vs. speed; no effect on the result).
        self.reconstruction_batch = 8

    def _flows(self, small: Tensor) -> tuple[Tensor, Tensor]:
        b, n = small.shape[:2]
        a = small[:, :-1].flatten(0, 1)
        nxt = small[:, 1:].flatten(0, 1)
        # One call for both directions: backward[i] goes from frame i to i+1, forward[i] from i+1 to i.
        flows = self.spynet(torch.cat([a, nxt]), torch.cat([nxt, a]))
        m = a.shape[0]
        shape = (b, n - 1, 2, *small.shape[-2:])
        return flows[:m].view(shape), flows[m:].view(shape)

    def _propagate(self, feats: dict[str, list[Tensor]], flows: Tensor, name: str) -> None:
        n = len(feats["spatial"])
        order = range(n - 1, -1, -1) if name.startswith("backward") else range(n)
        align = self.deform_align[name]
        props: list[Tensor] = []
        feat_prop = feats["spatial"][0].new_zeros(feats["spatial"][0].shape)
        prev_idx: int | None = None
        for i, idx in enumerate(order):
            current = feats["spatial"][idx]
            if i > 0:
                # Flow from this frame to the previously processed neighbour.
                flow_n1 = flows[:, idx] if name.startswith("backward") else flows[:, idx - 1]
                if i > 1:
                    assert prev_idx is not None
                    flow_n2 = flows[:, prev_idx] if name.startswith("backward") else flows[:, prev_idx - 1]
                    feat_prop, _, _ = align.align(feat_prop, current, flow_n1, props[-2], flow_n2)
                else:
                    feat_prop, _, _ = align.align(feat_prop, current, flow_n1)
            others = [feats[k][idx] for k in feats if k not in ("spatial", name)]
            feat_prop = feat_prop + self.backbone[name](torch.cat([current, *others, feat_prop], dim=1))
            props.append(feat_prop)
            prev_idx = idx
        feats[name] = props[::-1] if name.startswith("backward") else props

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 5 or x.shape[2] != 3:
            raise ValueError(f"expected (B, N, 3, H, W), got {tuple(x.shape)}")
        b, n, _, h, w = x.shape
        if h % 4 or w % 4:
            raise ValueError(f"enhancer input size {h}x{w} must be a multiple of 4")
        feats_all = self.feat_extract(x.flatten(0, 1)).view(b, n, self.mid_channels, h // 4, w // 4)
        feats: dict[str, list[Tensor]] = {"spatial": list(feats_all.unbind(1))}
        if n > 1:
            small = imresize(x, scale=0.25)
            flows_backward, flows_forward = self._flows(small)
        else:
            flows_backward = flows_forward = x.new_zeros(b, 0, 2, h // 4, w // 4)
        for name in BRANCHES:
            self._propagate(feats, flows_backward if name.startswith("backward") else flows_forward, name)
        outputs = []
        # Frames are independent from here on: reconstruct a few at a time, batched.
        for start in range(0, n, self.reconstruction_batch):
            idx = range(start, min(n, start + self.reconstruction_batch))
            hr = torch.cat([torch.stack([feats[k][i] for i in idx], 1) for k in ("spatial", *BRANCHES)], dim=2)
            hr = self.reconstruction(hr.flatten(0, 1))
            hr = self.lrelu(self.upsample1(hr))
            hr = self.lrelu(self.upsample2(hr))
            hr = self.lrelu(self.conv_hr(hr))
            hr = self.conv_last(hr).view(b, len(idx), 3, h, w)
            outputs.append(hr + x[:, idx.start : idx.stop])
        return torch.cat(outputs, dim=1)


class DAVSR(VSRModel):
    """DAVSR space-time SR: ``(B, T, 3, h, w)`` → ``(B, 5T, 3, 4h, 4w)``, RGB in [0, 1] (unclamped).

    Output frame ``5i + j`` (``j = 0..4``) is the sharp HR frame ``j`` of the exposure of LR frame ``i``.
    """

    arch = "davsr"
    kind = "bidirectional"
    output = "RGB"
    temporal_scale = 5
    # LR frames of context per chunk side; the official test runs 10-frame chunks without overlap.
    chunk_warmup = 2

    def __init__(
        self,
        *,
        scale: int = 4,
        iterations: int = 3,
        mid_channels: int = 64,
        num_extract_blocks: int = 5,
        num_propagation_blocks: int = 7,
        num_reconstruction_blocks: int = 5,
        deform_groups: int = 16,
        max_residue_magnitude: float = 10.0,
        flow: FlowSource = "spynet",
        interpolation: Interpolation = "spynet",
        hr_channels: int = 64,
        hypanet_hidden: int = 16,
        noise_sigma: float = 0.0,
    ) -> None:
        super().__init__()
        if scale != 4:
            # The enhancer works at ¼ of the HR size through two stride-2 convs: ×4 only.
            raise ValueError(f"DAVSR supports scale 4 only, got {scale}")
        if iterations < 1:
            raise ValueError(f"iterations must be >= 1, got {iterations}")
        if interpolation not in ("spynet", "dis", "linear"):
            raise ValueError(f"interpolation must be 'spynet', 'dis' or 'linear', got {interpolation!r}")
        if interpolation == "spynet" and flow != "spynet":
            raise ValueError("interpolation='spynet' uses the enhancer's SPyNet: it needs flow='spynet'")
        self.scale = scale
        self.iterations = iterations
        self.noise_sigma = noise_sigma
        self.interpolation = interpolation
        self.hypanet = HyPaNet(iterations=iterations, hidden=hypanet_hidden)
        self.enhancer = RecurrentVideoEnhancer(
            mid_channels=mid_channels, num_extract_blocks=num_extract_blocks,
            num_propagation_blocks=num_propagation_blocks, num_reconstruction_blocks=num_reconstruction_blocks,
            deform_groups=deform_groups, max_residue_magnitude=max_residue_magnitude, flow=flow,
            hr_channels=hr_channels,
        )
        taps, anchor = bicubic_kernel_1d(scale)
        with torch.device("cpu"):
            box = torch.full((self.temporal_scale,), 1.0 / self.temporal_scale, dtype=torch.float64)
            kernel = box.view(-1, 1, 1) * taps.view(1, -1, 1) * taps.view(1, 1, -1)
        # Constants of the degradation model, not weights: not saved with the checkpoint.
        self.register_buffer("kernel", kernel, persistent=False)
        self.kernel_anchor = (0, anchor, anchor)

    def _interpolator(self):  # type: ignore[no-untyped-def]
        if self.interpolation == "linear":
            return LinearInterpolator()
        if self.interpolation == "spynet":
            return FlowInterpolator(self.enhancer.spynet)
        from ..layers.classical_flow import DISFlow

        return FlowInterpolator(DISFlow())

    def initial_estimate(self, lr: Tensor) -> Tensor:
        """``X₀``: frames interpolated to the HR time grid, then bilinear ×scale."""
        frames = upsample_time(lr, self.temporal_scale, self._interpolator())
        b, n = frames.shape[:2]
        up = F.interpolate(frames.flatten(0, 1), scale_factor=self.scale, mode="bilinear", align_corners=False)
        return up.view(b, n, *up.shape[1:])

    def hyper_parameters(self, batch: int, like: Tensor) -> tuple[Tensor, Tensor]:
        hyper = torch.tensor(
            [self.noise_sigma, float(self.temporal_scale), float(self.scale)], device=like.device, dtype=like.dtype
        )
        return self.hypanet(hyper.expand(batch, 3))

    def forward(self, lr: Tensor) -> Tensor:
        if lr.ndim != 5 or lr.shape[2] != 3:
            raise ValueError(f"expected (B, T, 3, H, W), got {tuple(lr.shape)}")
        b, t, _, h, w = lr.shape
        s = (self.temporal_scale, self.scale, self.scale)
        x = self.initial_estimate(lr)
        otf = kernel_to_otf(self.kernel.to(torch.float64), self.kernel_anchor, (s[0] * t, s[1] * h, s[2] * w))
        y = lr.transpose(1, 2)  # (B, 3, T, h, w): the data step works on (t, h, w) per channel
        alpha, _ = self.hyper_parameters(b, lr)
        for k in range(self.iterations):
            z = fourier_data_step(y, x.transpose(1, 2), otf, alpha[:, k].view(b, 1, 1, 1, 1), s)
            x = self.enhancer(z.transpose(1, 2).contiguous())
        return x


def parameter_breakdown(model: DAVSR) -> dict[str, int]:
    """Trainable parameters per part (the docstring's table)."""
    e = model.enhancer

    def count(module: nn.Module) -> int:
        return sum(p.numel() for p in module.parameters())

    return {
        "spynet": count(e.spynet),
        "feat_extract": count(e.feat_extract),
        "deform_align": count(e.deform_align),
        "propagation_trunks": count(e.backbone),
        "reconstruction_and_upsampling": count(e.reconstruction) + count(e.upsample1) + count(e.upsample2)
        + count(e.conv_hr) + count(e.conv_last),
        "hypanet": count(model.hypanet),
    }


register_model(
    "davsr", DAVSR,
    description="DAVSR space-time SR (x5 frames, x4 size, deblur): Fourier data step + BasicVSR++ enhancer, K=3",
)
# One unfolded iteration: on CPU, K = 3 costs 3.3x per sample (benchmarks/davsr_train_step.py) and
# its enhancer did not learn in the time we had; the K = 1 enhancer did, but run three times it scores
# worse (README, DAVSR notes).
register_model(
    "davsr-tiny", DAVSR,
    description="DAVSR, CPU-trainable: K=1, 16 channels, short trunks, DIS flow",
    iterations=1, mid_channels=16, num_extract_blocks=1, num_propagation_blocks=1, num_reconstruction_blocks=1,
    deform_groups=4, hr_channels=8, flow="dis", interpolation="dis",
    weights=shipped_weights("davsr_tiny.safetensors"),
)
