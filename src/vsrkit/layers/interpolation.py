"""Frame interpolation for space-time SR: ``T`` LR frames to ``factor·T`` frames on the HR time grid.

Time grid (the ``stvsr`` pairing, :mod:`vsrkit.degradations.stvsr`): LR frame ``i`` is the exposure
average of HR frames ``factor·i .. factor·i + factor - 1``, so it is the best estimate of the centre
frame ``factor·i + c`` with ``c = (factor - 1) // 2`` (2 for factor 5). :func:`upsample_time` puts
LR frame ``i`` there, synthesises the ``factor - 1`` frames between consecutive LR frames at
``t = 1/factor .. (factor-1)/factor``, and fills the ``c`` leading and ``factor - 1 - c`` trailing
frames, which have no LR neighbour on one side, by repeating the first / last frame.

Interpolators (pluggable; anything with ``__call__(a, b, times) -> list of frames`` works):

* :class:`LinearInterpolator`: blends ``(1 - t)·a + t·b``. The cascade baseline's temporal step.
* :class:`FlowInterpolator`: estimates the flows ``a→b`` and ``b→a`` with a given flow function
  (SPyNet from :mod:`vsrkit.layers.spynet`, a classical frozen flow, ...), approximates the flows
  from time ``t`` to both ends assuming linear motion (Super-SloMo's Eq. 4) and blends the two
  backward-warped frames with weights ``1 - t`` and ``t``.

Difference from the official DAVSR: its initial estimate comes from a frozen, pretrained Super-SloMo
(two U-Nets, ~39 M parameters, trained on Adobe-240fps), which additionally refines the
intermediate flows and predicts soft visibility maps for occlusions. Its weights are not obtainable,
so here the flows come from a flow network or a classical method and occlusions are handled only by
the time-weighted blend. The interpolator only provides DAVSR's *initial* estimate ``X₀``; the
unfolded data/prior iterations correct it, so a weaker ``X₀`` mostly costs accuracy in early
iterations, not correctness.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import torch
from torch import Tensor

from .warp import flow_warp

FlowFn = Callable[[Tensor, Tensor], Tensor]


class Interpolator(Protocol):
    def __call__(self, a: Tensor, b: Tensor, times: Sequence[float]) -> list[Tensor]:
        """Frames at each ``t`` in ``times`` (0 < t < 1) between ``a`` and ``b`` (both ``(N, C, H, W)``)."""
        ...


class LinearInterpolator:
    """Cross-fade between the two frames (no motion model)."""

    def __call__(self, a: Tensor, b: Tensor, times: Sequence[float]) -> list[Tensor]:
        return [torch.lerp(a, b, t) for t in times]

    def __repr__(self) -> str:
        return "LinearInterpolator()"


class FlowInterpolator:
    """Bidirectional backward warping with linearly scaled flows.

    Args:
        flow: ``flow(ref, supp) -> (N, 2, H, W)`` with ``flow_warp(supp, flow) ≈ ref`` (the
            convention of :mod:`vsrkit.layers.warp`), e.g. a :class:`~vsrkit.layers.spynet.SPyNet`.
            It is held by reference, not registered as a submodule, so a model can share its own
            flow network without storing it twice.
    """

    def __init__(self, flow: FlowFn) -> None:
        self.flow = flow

    def __call__(self, a: Tensor, b: Tensor, times: Sequence[float]) -> list[Tensor]:
        n = a.shape[0]
        # One batched call for both directions. f_ab(p): where a's pixel p is found in b.
        flows = self.flow(torch.cat([a, b]), torch.cat([b, a]))
        f_ab, f_ba = flows[:n], flows[n:]
        frames = []
        for t in times:
            # Flows from the (unknown) frame at t to a and to b, linear motion through t.
            f_ta = -(1 - t) * t * f_ab + t * t * f_ba
            f_tb = (1 - t) * (1 - t) * f_ab - t * (1 - t) * f_ba
            from_a = flow_warp(a, f_ta, padding_mode="border")
            from_b = flow_warp(b, f_tb, padding_mode="border")
            frames.append((1 - t) * from_a + t * from_b)
        return frames

    def __repr__(self) -> str:
        return f"FlowInterpolator(flow={self.flow.__class__.__name__})"


def upsample_time(frames: Tensor, factor: int, interpolator: Interpolator) -> Tensor:
    """``(B, T, C, H, W)`` -> ``(B, factor·T, C, H, W)`` on the exposure-centred grid (module docstring)."""
    if frames.ndim != 5:
        raise ValueError(f"expected (B, T, C, H, W), got {tuple(frames.shape)}")
    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    b, t_len = frames.shape[:2]
    centre = (factor - 1) // 2
    if factor == 1:
        return frames
    times = [k / factor for k in range(1, factor)]
    out = [frames[:, :1]] * centre
    if t_len > 1:
        a = frames[:, :-1].flatten(0, 1)
        nxt = frames[:, 1:].flatten(0, 1)
        between = torch.stack(interpolator(a, nxt, times), dim=1)  # (B·(T-1), factor-1, C, H, W)
        between = between.view(b, t_len - 1, factor - 1, *frames.shape[2:])
        # Interleave: LR frame i followed by its factor-1 successors.
        body = torch.cat([frames[:, :-1].unsqueeze(2), between], dim=2).flatten(1, 2)
        out.append(body)
    out.extend([frames[:, -1:]] * (factor - centre))
    return torch.cat(out, dim=1)
