"""The eight flips and transposes of the square (the dihedral group), applied to frames and to flows.

A network run on a transformed copy of its input and mapped back makes slightly different errors
from the same network on the original, which is what geometric self-ensembles average
(:mod:`vsrkit.engine.self_ensemble`) and what the bidirectional RLSP uses to make its two
directions disagree more (``backward_view``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


class View(NamedTuple):
    """Transpose first, then flip rows (upside down), then flip columns (left-right)."""

    transpose: bool
    flip_rows: bool
    flip_cols: bool


# In the order self-ensembles take them: the first n of them make an n-view ensemble. Two views
# add the horizontal mirror, four all flips, eight also the transposes.
VIEWS: dict[str, View] = {
    "identity": View(False, False, False),
    "flip-lr": View(False, False, True),
    "flip-ud": View(False, True, False),
    "rot180": View(False, True, True),
    "transpose": View(True, False, False),
    "rot90-cw": View(True, False, True),
    "rot90-ccw": View(True, True, False),
    "anti-transpose": View(True, True, True),
}


def to_view(x: Tensor, view: View) -> Tensor:
    """``x`` (``..., H, W``) seen in ``view``."""
    if view.transpose:
        x = x.transpose(-1, -2)
    if view.flip_rows:
        x = x.flip(-2)
    if view.flip_cols:
        x = x.flip(-1)
    # Contiguous, since OpenCV (the DIS flow inside aligned models) refuses strided arrays.
    return x.contiguous()


def _advance(x: Tensor, dim: int, pixels: int) -> Tensor:
    """``x`` sampled ``pixels`` further along ``dim``, the edge repeated at the end."""
    if pixels == 0:
        return x
    size = x.shape[dim]
    edge = x.narrow(dim, size - 1, 1).expand(*[pixels if d == dim % x.ndim else -1 for d in range(x.ndim)])
    return torch.cat([x.narrow(dim, pixels, size - pixels), edge], dim=dim)


def from_view(x: Tensor, view: View, phase: int = 0) -> Tensor:
    """Map an output computed in ``view`` back. ``phase``: HR pixels the output of a mirrored axis is
    off by, for models trained on corner-sampled LR (:data:`vsrkit.engine.self_ensemble.CORNER_SAMPLED`)."""
    if view.flip_cols:
        x = _advance(x.flip(-1), -1, phase)
    if view.flip_rows:
        x = _advance(x.flip(-2), -2, phase)
    if view.transpose:
        x = x.transpose(-1, -2)
    return x


def flow_to_view(flow: Tensor, view: View) -> Tensor:
    """A flow field ``(..., 2, H, W)`` of (dx, dy) displacements, as the same motion seen in ``view``:
    the field moves like an image, and its vectors turn with it."""
    if view == VIEWS["identity"]:
        return flow
    dx, dy = flow.unbind(-3)
    if view.transpose:
        dx, dy = dy, dx
    if view.flip_rows:
        dy = -dy
    if view.flip_cols:
        dx = -dx
    return to_view(torch.stack([dx, dy], dim=-3), view)
