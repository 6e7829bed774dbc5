"""Backward warping of images or features by a dense optical flow.

Flow convention (the one BasicSR, mmedit and every flow model in vsrkit use):

* a flow is a tensor ``(B, 2, H, W)``; channel 0 is the horizontal displacement ``dx`` (pixels,
  positive to the right), channel 1 the vertical ``dy`` (pixels, positive downwards);
* :func:`flow_warp` is a *backward* warp: ``out[:, :, y, x] = src[:, :, y + dy, x + dx]`` sampled
  bilinearly, pixel centres at integer coordinates (``align_corners=True``);
* so a flow "from frame ``a`` to frame ``b``" (``flow = spynet(a, b)``) brings ``b`` onto ``a``:
  ``flow_warp(b, flow) ≈ a``.

Border handling: ``padding_mode="zeros"`` (default; out-of-frame samples read zero, as BasicVSR++
does for features) or ``"border"`` (replicate the edge, as SPyNet does for its image pyramid).

API (stable): :func:`flow_warp`, :func:`compose_flows`, :func:`base_grid`, :func:`neighbour_flows`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

PaddingMode = Literal["zeros", "border", "reflection"]


def base_grid(h: int, w: int, *, device: torch.device, dtype: torch.dtype) -> Tensor:
    """Pixel coordinates ``(1, 2, H, W)``: channel 0 is ``x``, channel 1 is ``y``."""
    ys = torch.arange(h, device=device, dtype=dtype)
    xs = torch.arange(w, device=device, dtype=dtype)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((gx, gy), dim=0).unsqueeze(0)


def flow_warp(
    x: Tensor,
    flow: Tensor,
    *,
    mode: Literal["bilinear", "nearest", "bicubic"] = "bilinear",
    padding_mode: PaddingMode = "zeros",
) -> Tensor:
    """Sample ``x`` ``(B, C, H, W)`` at ``p + flow(p)``; ``flow`` is ``(B, 2, H, W)`` (dx, dy)."""
    if x.ndim != 4 or flow.ndim != 4 or flow.shape[1] != 2:
        raise ValueError(f"expected x (B, C, H, W) and flow (B, 2, H, W), got {tuple(x.shape)}, {tuple(flow.shape)}")
    if x.shape[-2:] != flow.shape[-2:] or x.shape[0] != flow.shape[0]:
        raise ValueError(f"x {tuple(x.shape)} and flow {tuple(flow.shape)} differ in batch or size")
    _, _, h, w = x.shape
    # Coordinates in float32 whatever the compute dtype: bf16 cannot hold 180.3 (8-bit mantissa).
    dt = torch.promote_types(torch.promote_types(x.dtype, flow.dtype), torch.float32)
    pos = base_grid(h, w, device=flow.device, dtype=dt) + flow.to(dt)
    # Pixel coordinates to grid_sample's align_corners=False frame. For sizes > 1 this is the same
    # sampling as BasicSR's align_corners=True normalisation; unlike it, it is also exact for size 1.
    gx = (2.0 * pos[:, 0] + 1.0) / w - 1.0
    gy = (2.0 * pos[:, 1] + 1.0) / h - 1.0
    grid = torch.stack((gx, gy), dim=-1)
    out = F.grid_sample(x.to(dt), grid, mode=mode, padding_mode=padding_mode, align_corners=False)
    return out.to(x.dtype)


def compose_flows(flow_ab: Tensor, flow_bc: Tensor) -> Tensor:
    """Flow from ``a`` to ``c`` given flows ``a→b`` and ``b→c`` (same convention as :func:`flow_warp`).

    ``a(p)`` sits at ``p + f_ab(p)`` in ``b``, which sits at ``p + f_ab(p) + f_bc(p + f_ab(p))`` in ``c``.
    This is BasicVSR++'s second-order flow ``flow_n1 + warp(flow_n2, flow_n1)``.
    """
    return flow_ab + flow_warp(flow_bc, flow_ab)


def neighbour_flows(estimate: Callable[[Tensor, Tensor], Tensor], clip: Tensor) -> tuple[Tensor, Tensor]:
    """Flows between neighbouring frames of ``clip`` ``(B, T, C, H, W)`` by ``estimate(a, b)`` (SPyNet, DIS, ...),
    as BasicVSR-style propagation reads them: ``(forward, backward)``, each ``(B, T-1, 2, H, W)``; ``forward[k]`` is
    estimated from frame k+1 to frame k (it brings frame k onto k+1), ``backward[k]`` from k to k+1."""
    b, t, c, h, w = clip.shape
    earlier = clip[:, :-1].reshape(-1, c, h, w)
    later = clip[:, 1:].reshape(-1, c, h, w)
    forward = estimate(later, earlier).reshape(b, t - 1, 2, h, w)
    backward = estimate(earlier, later).reshape(b, t - 1, 2, h, w)
    return forward, backward
