"""HiRN: Hierarchical Recurrent Network with two-stage feature evolution (Choi & Kim, ASC 2023).

Per specs/architectures.md §4, parameter names as the official ``hirn_arch.py`` so ``HiRN.pth``
converts by name (``vsrkit convert --from basicsr``). ×4, RGB in and out. 7,513,855 parameters
with SPyNet (the full preset).

* features: conv 3→C + LeakyReLU + 5 residual blocks per frame; flow between neighbouring LR frames
  in both directions (SPyNet, or frozen OpenCV DIS with ``flow="dis"``, at full LR resolution with
  ``dis_finest_scale=0``);
* stage 1: ``backward_1`` then ``forward_1``, BasicVSR++ second-order flow-guided deformable
  alignment at each step, a TWA module on ``[warped n1, f, warped n2]`` (``f`` = spatial feature in
  backward_1, the backward_1 feature in forward_1), and
  ``prop += ResBlocks(cat(spatial, earlier branches, aligned prop, TWA))``;
* TWA: EDVR-style temporal attention fused to C channels, then a parameter-free wavelet attention
  (one-level Haar DWT, each sub-band bicubic-upsampled ×2, sigmoid, times the map) giving 4C;
* stage 2 (``group_1``): frames in hierarchical-B order inside GOPs (:func:`gop_schedule`); each
  frame is aligned from its past (l0) and future (l1) references of the same branch, with flows
  chained across the frames in between;
* reconstruction: cat(spatial, backward_1, forward_1, group_1) → conv + 5 residual blocks →
  2× (conv, PixelShuffle 2, LeakyReLU) → conv_hr → conv_last, plus bilinear ×4 of the LR frame.

Official edge-case behaviour (specs §4.2 quirks) and what we do:

(a) a GOP reference past the last frame is clamped (l0 → f, l1 → last frame), and a reference that
    is not computed yet reads a zero placeholder. *We*: a missing future reference is absent (zero
    feature, zero flow), which is what the official code does for GOP anchors (l1 = f).
(b) GOP 7 steps groups by 7 but the ordering ends at frame 6, so with 8–15 frames frames 7 and 14
    are never computed (their group feature stays zero). *We*: consecutive groups share their anchor
    (step 6 for GOP 7, 16 for GOP 16), so every frame is computed exactly once.
(c) the l1 flow chain indexes the backward flow of frame ``k-1`` where ``k`` is meant. *We*: chain
    ``flow(f→f+1) ∘ flow(f+1→f+2) ∘ ... → l1``.
(d) the CPU-cache path writes features to index -1 (wrong frame) for sequences over 100 frames.
    *We*: no CPU cache (the upscaler's temporal chunks bound memory instead); nothing to reproduce.

``official_quirks=True`` reproduces (a)–(c) exactly, for numerical parity with official ``HiRN.pth``
outputs; weights are the same either way (the quirks touch no parameters).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..layers.classical_flow import DISFlow
from ..layers.propagation import ConvResidualBlocks, SecondOrderDeformableAlignment
from ..layers.spynet import SPyNet
from ..layers.warp import flow_warp, neighbour_flows
from ._registry import register_model, shipped_weights
from .base import VSRModel

# (frame, past reference l0, future reference l1) in processing order, relative to the GOP start.
GOP16 = (
    (0, 0, 0), (16, 0, 16), (8, 0, 16), (4, 0, 8), (2, 0, 4), (1, 0, 2), (3, 2, 4), (6, 4, 8), (5, 4, 6),
    (7, 6, 8), (12, 8, 16), (10, 8, 12), (9, 8, 10), (11, 10, 12), (14, 12, 16), (13, 12, 14), (15, 14, 16),
)
GOP7 = ((0, 0, 0), (6, 0, 6), (3, 0, 6), (1, 0, 3), (2, 1, 3), (4, 3, 6), (5, 4, 6))


def gop_schedule(num_frames: int, *, official: bool = False) -> list[tuple[int, int | None, int | None]]:
    """Stage-2 processing order: ``(frame, l0, l1)`` with absolute indices.

    ``l0``/``l1`` is ``None`` when the frame has no such reference (frame 0, GOP anchors, and
    future references past the end). With ``official=True`` the list is the official code's,
    quirks (a) and (b) included: references are clamped instead of ``None`` (``l1 == frame`` means
    "none") and, with GOP 7, frames 7, 14 are missing.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    order = GOP16 if num_frames >= 16 else GOP7
    anchor = order[1][0]  # 16 or 6: the last frame of a GOP, the first of the next
    last = num_frames - 1
    schedule: list[tuple[int, int | None, int | None]] = []
    if official:
        gop = 16 if num_frames >= 16 else 7
        for g in range(math.ceil(num_frames / gop)):
            base = g * gop
            for f, l0, l1 in order:
                if base + f > last or (g != 0 and f == 0):
                    continue
                l0 = f if base + l0 > last else l0
                l1 = last - base if base + l1 > last else l1
                schedule.append((base + f, base + l0, base + l1))
        return schedule
    for g in range(max(1, math.ceil(last / anchor))):
        base = g * anchor
        for f, l0, l1 in order:
            if base + f > last or (g != 0 and f == 0):
                continue
            past = base + l0 if l0 != f else None
            future = base + l1 if (l1 != f and base + l1 <= last) else None
            schedule.append((base + f, past, future))
    return schedule


def haar_dwt(x: Tensor) -> Tensor:
    """One-level orthonormal Haar DWT of ``(..., H, W)`` (H, W even) → ``(..., 4, H/2, W/2)``.

    Sub-bands in the official order LL, HL, LH, HH, each a ±½-weighted sum of the polyphase
    components ``x[0::2, 0::2]``, ``x[1::2, 0::2]``, ``x[0::2, 1::2]``, ``x[1::2, 1::2]``.
    """
    a, b = x[..., 0::2, 0::2], x[..., 1::2, 0::2]
    c, d = x[..., 0::2, 1::2], x[..., 1::2, 1::2]
    ll = (a + b + c + d) / 2
    hl = (-a - b + c + d) / 2
    lh = (-a + b - c + d) / 2
    hh = (a - b - c + d) / 2
    return torch.stack((ll, hl, lh, hh), dim=-3)


def haar_idwt(bands: Tensor) -> Tensor:
    """Inverse of :func:`haar_dwt` (the transform is orthonormal, so it is its transpose)."""
    ll, hl, lh, hh = bands.unbind(dim=-3)
    a = (ll - hl - lh + hh) / 2
    b = (ll - hl + lh - hh) / 2
    c = (ll + hl - lh - hh) / 2
    d = (ll + hl + lh + hh) / 2
    h, w = ll.shape[-2:]
    out = ll.new_empty(*ll.shape[:-2], 2 * h, 2 * w)
    out[..., 0::2, 0::2], out[..., 1::2, 0::2], out[..., 0::2, 1::2], out[..., 1::2, 1::2] = a, b, c, d
    return out


class TemporalAttention(nn.Module):
    """EDVR-style temporal attention over 3 frames (centre = 1), fused to ``nf`` channels."""

    def __init__(self, nf: int = 64, nframes: int = 3, center: int = 1) -> None:
        super().__init__()
        self.center = center
        self.tAtt_1 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.tAtt_2 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.sAtt_1 = nn.Conv2d(nf * nframes, nf, 3, 1, 1)
        self.sAtt_2 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.sAtt_3 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.sAtt_4 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.sAtt_5 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.1, inplace=True)

    def forward(self, frames: Tensor) -> Tensor:
        b, n, c, h, w = frames.shape
        emb_ref = self.tAtt_2(frames[:, self.center])
        emb = self.tAtt_1(frames.reshape(b * n, c, h, w)).reshape(b, n, -1, h, w)
        prob = torch.sigmoid((emb * emb_ref.unsqueeze(1)).sum(dim=2, keepdim=True))
        weighted = (frames * prob).reshape(b, n * c, h, w)
        att = self.lrelu(self.sAtt_1(weighted))
        skip = att
        att = self.lrelu(self.sAtt_3(self.lrelu(self.sAtt_2(att))))
        att = att + skip
        return self.lrelu(self.sAtt_5(self.lrelu(self.sAtt_4(att))))


class WaveletAttention(nn.Module):
    """Parameter-free: ``cat_k(x * sigmoid(bicubic_up2(DWT_k(x))))`` over the 4 Haar sub-bands."""

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        bands = haar_dwt(x).transpose(1, 2).reshape(b * 4, c, h // 2, w // 2)
        up = F.interpolate(bands, scale_factor=2, mode="bicubic", align_corners=False)
        gates = torch.sigmoid(up).reshape(b, 4, c, h, w)
        return (x.unsqueeze(1) * gates).reshape(b, 4 * c, h, w)


def _chain(flows: Tensor, steps: list[int]) -> Tensor:
    """Compose ``flows[:, k]`` for ``k`` in ``steps`` (first step first) into one flow."""
    flow = flows[:, steps[0]]
    for k in steps[1:]:
        flow = flow + flow_warp(flows[:, k], flow)
    return flow


class HiRN(VSRModel):
    """HiRN ×4; ``(B, T, 3, H, W)`` RGB → ``(B, T, 3, 4H, 4W)``. Odd H/W are padded internally."""

    arch = "hirn"
    kind = "bidirectional"
    supports_gradient_checkpointing = True
    output = "RGB"
    # Stage-2 references reach one GOP (16 frames) away; the recurrences decay within about as much.
    chunk_warmup = 16

    def __init__(
        self,
        *,
        mid_channels: int = 64,
        num_blocks: int = 7,
        extract_blocks: int = 5,
        recon_blocks: int = 5,
        deform_groups: int = 16,
        max_residue_magnitude: float = 10.0,
        hr_channels: int = 64,
        flow: Literal["spynet", "dis"] = "spynet",
        dis_finest_scale: int = 1,
        official_quirks: bool = False,
        scale: int = 4,
    ) -> None:
        super().__init__()
        if scale != 4:
            raise ValueError(f"the architecture is fixed at x4 (two PixelShuffle x2 stages), got scale={scale}")
        if flow not in ("spynet", "dis"):
            raise ValueError(f"flow must be 'spynet' or 'dis', got {flow!r}")
        self.scale = scale
        self.mid_channels = mid_channels
        self.official_quirks = official_quirks
        c = mid_channels
        self.spynet: nn.Module = SPyNet() if flow == "spynet" else DISFlow(finest_scale=dis_finest_scale)
        self.feat_extract = ConvResidualBlocks(3, c, extract_blocks)
        self.deform_align = nn.ModuleDict()
        self.backbone = nn.ModuleDict()
        self.twa = nn.ModuleDict()
        for i, name in enumerate(("backward_1", "forward_1", "group_1")):
            self.deform_align[name] = SecondOrderDeformableAlignment(
                c, deform_groups=deform_groups, max_residue_magnitude=max_residue_magnitude
            )
            self.twa[name] = nn.Sequential(TemporalAttention(c), WaveletAttention())
            # spatial + earlier branches (i) + aligned prop + TWA (4C)
            self.backbone[name] = ConvResidualBlocks((6 + i) * c, c, num_blocks)
        self.reconstruction = ConvResidualBlocks(4 * c, c, recon_blocks)
        # Official: upconv1 C→4C, upconv2 C→4·64, conv_hr 64→64 (64 hard-coded; hr_channels here).
        self.upconv1 = nn.Conv2d(c, c * 4, 3, 1, 1)
        self.upconv2 = nn.Conv2d(c, hr_channels * 4, 3, 1, 1)
        self.pixel_shuffle = nn.PixelShuffle(2)
        self.conv_hr = nn.Conv2d(hr_channels, hr_channels, 3, 1, 1)
        self.conv_last = nn.Conv2d(hr_channels, 3, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.1, inplace=True)

    # -- flows -------------------------------------------------------------------------------
    def compute_flow(self, lr: Tensor) -> tuple[Tensor, Tensor]:
        """``(forward, backward)`` flows ``(B, T-1, 2, H, W)``: forward[k] is k+1→k, backward[k] is k→k+1."""
        return neighbour_flows(lambda a, b: self.checkpointed(self.spynet, a, b), lr)

    # -- stage 1 -----------------------------------------------------------------------------
    def _propagate(self, feats: dict[str, list[Tensor]], flows_f: Tensor, flows_b: Tensor, name: str) -> None:
        spatial = feats["spatial"]
        t = len(spatial)
        backward = name.startswith("backward")
        order = list(range(t - 1, -1, -1)) if backward else list(range(t))
        earlier = [k for k in feats if k not in ("spatial", name)]
        out: list[Tensor | None] = [None] * t
        zeros = torch.zeros_like(spatial[0])
        feat_prop = zeros
        for i, idx in enumerate(order):
            current = spatial[idx]
            feat_f = spatial[idx] if backward else feats["backward_1"][idx]
            if i == 0:
                cond_n1 = cond_n2 = zeros
            else:
                flow_n1 = flows_b[:, idx] if backward else flows_f[:, idx - 1]
                feat_n2 = flow_n2 = None
                if i > 1:
                    feat_n2 = out[order[i - 2]]
                    flow_n2 = flows_b[:, idx + 1] if backward else flows_f[:, idx - 2]
                feat_prop, cond_n1, cond_n2 = self.checkpointed(
                    self.deform_align[name].align, feat_prop, current, flow_n1, feat_n2, flow_n2
                )
            twa = self.checkpointed(self.twa[name], torch.stack([cond_n1, feat_f, cond_n2], dim=1))
            x = torch.cat([current] + [feats[k][idx] for k in earlier] + [feat_prop, twa], dim=1)
            feat_prop = feat_prop + self.checkpointed(self.backbone[name], x)
            out[idx] = feat_prop
        feats[name] = out  # type: ignore[assignment]

    # -- stage 2 -----------------------------------------------------------------------------
    def _propagate_group(self, feats: dict[str, list[Tensor]], flows_f: Tensor, flows_b: Tensor) -> None:
        name = "group_1"
        spatial = feats["spatial"]
        t = len(spatial)
        zeros = torch.zeros_like(spatial[0])
        group: list[Tensor] = [zeros] * t
        official = self.official_quirks
        for f, l0, l1 in gop_schedule(t, official=official):
            current = spatial[f]
            if f == 0:
                feat_prop, cond_l0, cond_l1 = zeros, zeros, zeros
            else:
                assert l0 is not None  # every frame but 0 has a past reference
                feat_l0 = group[l0]
                # flows_f[k] is k+1→k: chain f→f-1→...→l0. (A clamped l0 == f keeps f→f-1, as official.)
                flow_l0 = _chain(flows_f, list(range(f - 1, l0 - 1, -1)) if l0 < f else [f - 1])
                if l1 is None or l1 == f:
                    feat_l1, flow_l1 = zeros, torch.zeros_like(flow_l0)
                else:
                    # Quirk (c): the official chain uses flow k-1→k where k→k+1 is meant.
                    steps = [f] + [k - 1 if official else k for k in range(f + 1, l1)]
                    feat_l1, flow_l1 = group[l1], _chain(flows_b, steps)
                cond_l0 = flow_warp(feat_l0, flow_l0)
                cond_l1 = flow_warp(feat_l1, flow_l1)
                cond = torch.cat([cond_l0, current, cond_l1], dim=1)
                feat_prop = self.checkpointed(
                    self.deform_align[name], torch.cat([feat_l0, feat_l1], dim=1), cond, flow_l0, flow_l1)
            twa = self.checkpointed(self.twa[name], torch.stack([cond_l0, feats["forward_1"][f], cond_l1], dim=1))
            x = torch.cat([current, feats["backward_1"][f], feats["forward_1"][f], feat_prop, twa], dim=1)
            group[f] = feat_prop + self.checkpointed(self.backbone[name], x)
        feats[name] = group

    def forward(self, lr: Tensor) -> Tensor:
        if lr.ndim != 5 or lr.shape[2] != 3:
            raise ValueError(f"expected (B, T, 3, H, W), got {tuple(lr.shape)}")
        b, t, c, h, w = lr.shape
        # The wavelet attention needs even sizes: replicate-pad by one pixel and crop afterwards.
        ph, pw = h % 2, w % 2
        x = F.pad(lr.reshape(b * t, c, h, w), (0, pw, 0, ph), mode="replicate") if ph or pw else lr.reshape(b * t, c, h, w)
        hp, wp = h + ph, w + pw
        x5 = x.reshape(b, t, c, hp, wp)
        spatial = self.checkpointed(self.feat_extract, x).reshape(b, t, -1, hp, wp)
        feats: dict[str, list[Tensor]] = {"spatial": list(spatial.unbind(1))}
        if t > 1:
            flows_f, flows_b = self.compute_flow(x5)
        else:
            flows_f = flows_b = x.new_zeros(b, 0, 2, hp, wp)
        self._propagate(feats, flows_f, flows_b, "backward_1")
        self._propagate(feats, flows_f, flows_b, "forward_1")
        self._propagate_group(feats, flows_f, flows_b)
        outputs = []
        for i in range(t):
            hr = torch.cat([feats[k][i] for k in ("spatial", "backward_1", "forward_1", "group_1")], dim=1)
            hr = self.checkpointed(self._reconstruct, hr, x5[:, i])
            outputs.append(hr[..., : 4 * h, : 4 * w])
        return torch.stack(outputs, dim=1)

    def _reconstruct(self, feat: Tensor, lr: Tensor) -> Tensor:
        """One frame's HR output from its concatenated branch features and its LR frame."""
        hr = self.reconstruction(feat)
        hr = self.lrelu(self.pixel_shuffle(self.upconv1(hr)))
        hr = self.lrelu(self.pixel_shuffle(self.upconv2(hr)))
        hr = self.conv_last(self.lrelu(self.conv_hr(hr)))
        return hr + F.interpolate(lr, scale_factor=4, mode="bilinear", align_corners=False)


register_model(
    "hirn", HiRN,
    description="HiRN (ASC 2023) full: SPyNet, 2nd-order DCN, TWA, hierarchical GOP stage 2; 7.51M",
)
register_model(
    "hirn-tiny", HiRN,
    description="HiRN tiny: 16 channels, 2 blocks, frozen DIS flow; trained by vsrkit (BI x4)",
    weights=shipped_weights("hirn_tiny.safetensors"),
    mid_channels=16, num_blocks=2, extract_blocks=2, recon_blocks=2, deform_groups=8, hr_channels=16,
    flow="dis",
)
