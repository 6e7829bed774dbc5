"""MRVSR: Middle Recurrent VSR (Chiche et al., "Stable Long-Term Recurrent Video Super-Resolution",
CVPR 2022), specs/architectures.md §1.3-1.4.

Per step, from frames ``x[t-1], x[t], x[t+1]`` (RGB in [0, 1], 9 channels) and the state ``h[t-1]``:

* ξ (feed-forward encoder): 3 × (conv3×3 + ReLU), 9 → F → F → F;
* Φ (the only recurrent part): Φ0 = conv F→F + ReLU on ``h[t-1]``; Φ1 = conv 2F→F + ReLU on
  ``cat(ξ(x), Φ0(h[t-1]))``, whose output is ``h[t]``;
* Ψ (decoder): conv 2F→F + ReLU on ``cat(h[t], h[t-1])``, conv F→F + ReLU, conv F→s², plus the
  centre frame's Y repeated s² times, then pixel shuffle (nearest-neighbour Y residual).

There is no output feedback. Y is MATLAB BT.601 (``16/255 + 0.256788 R + 0.504129 G + 0.097906 B``)
on [0, 1] inputs, as the official code computes it. The state starts at zero.

SRNL (``srnl_target``, default 1.0) holds the operator norms of Φ0 and Φ1 at the target, so the
state update is ``srnl_target²``-Lipschitz in ``h`` (ReLU is 1-Lipschitz). ``srnl_target=None``
gives the unconstrained recurrent model; :meth:`MRVSR.baked` exports plain normalised weights.
Boundary frames are replicated (the official training loop instead starts at frame 1).
"""

from __future__ import annotations

import copy
from typing import ClassVar

import torch
from torch import Tensor, nn

from ..color import rgb_to_y
from ..layers.spectral_norm import SpectralNormConv2d, bake_spectral_norm, spectral_norm_cache
from ._registry import register_model
from .base import StreamingVSRModel


def _conv(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, padding=1)


class MRVSR(StreamingVSRModel):
    """``(B, T, 3, H, W)`` RGB in, ``(B, T, 1, sH, sW)`` Y out; recurrent state ``h`` of F channels."""

    arch = "mrvsr"
    kind = "recurrent"
    output = "Y"
    radius = 1
    # SRNL normalises its weights once per sequence, inside the first step (spectral_norm_cache); a step recomputed
    # in the backward pass, outside that sequence, would run the power iteration again on other tensors.
    supports_gradient_checkpointing = False
    # Layers inside the recurrence h[t-1] -> h[t] (the spectrum analysis flags them).
    recurrent_layers: ClassVar[tuple[str, ...]] = ("phi0", "phi1")

    def __init__(
        self,
        *,
        filters: int = 128,
        scale: int = 4,
        srnl_target: float | None = 1.0,
        srnl_size: int = 32,
        srnl_iterations: int = 1,
    ) -> None:
        super().__init__()
        if srnl_target is not None and not srnl_target > 0:
            raise ValueError(f"srnl_target must be > 0 or None, got {srnl_target}")
        self.scale = scale
        self.filters = filters
        f = filters
        in_ch = 3 * (2 * self.radius + 1)
        self.xi = nn.ModuleList([_conv(in_ch, f), _conv(f, f), _conv(f, f)])
        if srnl_target is None:
            self.phi0, self.phi1 = _conv(f, f), _conv(2 * f, f)
        else:
            sn = {"target": srnl_target, "size": srnl_size, "iterations": srnl_iterations}
            self.phi0 = SpectralNormConv2d(f, f, 3, **sn)
            self.phi1 = SpectralNormConv2d(2 * f, f, 3, **sn)
        self.psi = nn.ModuleList([_conv(2 * f, f), _conv(f, f)])
        self.psi_out = _conv(f, scale * scale)
        self.act = nn.ReLU(inplace=True)
        self.shuffle = nn.PixelShuffle(scale)
        for m in self.modules():
            if isinstance(m, nn.Conv2d) and not m.weight.is_meta:
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def initial_state(self, frame: Tensor) -> Tensor:
        b, _, h, w = frame.shape
        return frame.new_zeros(b, self.filters, h, w)

    def step(self, window: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        b, n, c, h, w = window.shape
        x = window.reshape(b, n * c, h, w)
        for conv in self.xi:
            x = self.act(conv(x))
        h_prev = state
        # Not in-place: h_prev is reused by the decoder below.
        hidden = torch.relu(self.phi0(h_prev))
        h_new = torch.relu(self.phi1(torch.cat([x, hidden], dim=1)))
        z = torch.cat([h_new, h_prev], dim=1)
        for conv in self.psi:
            z = self.act(conv(z))
        y_lr = rgb_to_y(window[:, self.radius])
        z = self.psi_out(z) + y_lr.repeat(1, self.scale * self.scale, 1, 1)
        return self.shuffle(z), h_new

    def forward(self, lr: Tensor, burn_in: int = 0) -> Tensor:
        # One SRNL normalisation (one power step in training) per unrolled sequence, not per frame.
        with spectral_norm_cache(self):
            return super().forward(lr, burn_in)

    def baked(self, n: int = 128) -> MRVSR:
        """A copy with SRNL folded into plain weights (``srnl_target=None``), for export."""
        clone = copy.deepcopy(self)
        bake_spectral_norm(clone, n)
        clone.hparams = {**getattr(self, "hparams", {}), "srnl_target": None}
        return clone


register_model(
    "mrvsr", MRVSR,
    description="MRVSR (CVPR'22) F=128, SRNL on the recurrent layers Φ0/Φ1, Y output",
)
