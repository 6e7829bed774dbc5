"""Geometric self-ensemble: run a model on flipped and transposed copies of the input and average.

The outputs are mapped back before averaging, so a model that is exactly equivariant to these
transforms gives its own output. Trained networks are not, and the mean of their views is usually
a little better (EDSR's "+" rows; measured for our models in weights/shipped/MODEL_CARD.md) at 2, 4
or 8 times the cost. Only for models trained on symmetric downsampling (``bi``): see
:data:`CORNER_SAMPLED`. :func:`with_self_ensemble` wraps any registered model; the wrapper keeps the
model's kind, so the :class:`~vsrkit.engine.upscaler.Upscaler` still streams recurrent models
(one state per view) and chunks bidirectional ones.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ..errors import VsrkitError
from ..models.base import StreamingVSRModel, VSRModel

# (transpose, flip rows, flip columns); the first n of them make an n-view ensemble. Two views add
# the horizontal mirror, four all flips, eight also the transposes: the dihedral group of the square.
_VIEWS: tuple[tuple[bool, bool, bool], ...] = (
    (False, False, False), (False, False, True), (False, True, False), (False, True, True),
    (True, False, False), (True, False, True), (True, True, False), (True, True, True),
)
ENSEMBLE_SIZES = (1, 2, 4, 8)
# Degradations that keep the top-left HR pixel of every S x S block ([0::S, 0::S]). A mirrored view
# of such LR is the mirrored HR sampled at the other corner, S - 1 HR pixels away, so a model trained
# on them answers a mirrored view with an output shifted by S - 1 pixels: `default-bd` fell from
# 25.51 to 21.90 dB on Vid4 (gauss1.5 + rlsp) with 8 views. Bicubic (`bi`) is centred and symmetric.
CORNER_SAMPLED = frozenset({"bd", "gauss1.5", "mrvsr", "mrvsr-qsv"})


def _to_view(x: Tensor, view: tuple[bool, bool, bool]) -> Tensor:
    transpose, flip_rows, flip_cols = view
    if transpose:
        x = x.transpose(-1, -2)
    if flip_rows:
        x = x.flip(-2)
    if flip_cols:
        x = x.flip(-1)
    # Contiguous, since OpenCV (the DIS flow inside aligned models) refuses strided arrays.
    return x.contiguous()


def _from_view(x: Tensor, view: tuple[bool, bool, bool]) -> Tensor:
    transpose, flip_rows, flip_cols = view
    if flip_cols:
        x = x.flip(-1)
    if flip_rows:
        x = x.flip(-2)
    if transpose:
        x = x.transpose(-1, -2)
    return x


def _copy_contract(wrapper: VSRModel, model: VSRModel, views: int) -> None:
    """The wrapper answers the Upscaler's and evaluate's questions as the wrapped model does."""
    for name in ("arch", "kind", "output", "temporal_scale", "size_multiple", "chunk_warmup",
                 "low_precision_weights", "scale", "hparams"):
        if hasattr(model, name):
            setattr(wrapper, name, getattr(model, name))
    label = getattr(model, "preset_name", None) or model.arch
    wrapper.preset_name = f"{label} x{views} self-ensemble"  # type: ignore[attr-defined]


class _ClipEnsemble(VSRModel):
    def __init__(self, model: VSRModel, views: int) -> None:
        super().__init__()
        self.model = model
        self.views = _VIEWS[:views]
        _copy_contract(self, model, views)

    def forward(self, lr: Tensor) -> Tensor:
        total = None
        for view in self.views:
            out = _from_view(self.model(_to_view(lr, view)), view)
            total = out if total is None else total + out
        assert total is not None
        return total / len(self.views)


class _StreamingEnsemble(StreamingVSRModel):
    def __init__(self, model: StreamingVSRModel, views: int) -> None:
        super().__init__()
        self.model = model
        self.views = _VIEWS[:views]
        self.radius = model.radius  # type: ignore[misc]
        _copy_contract(self, model, views)

    def initial_state(self, frame: Tensor) -> list[Any]:
        return [self.model.initial_state(_to_view(frame, view)) for view in self.views]

    def step(self, window: Tensor, state: list[Any]) -> tuple[Tensor, list[Any]]:
        total = None
        new_state = []
        for view, view_state in zip(self.views, state):
            out, view_state = self.model.step(_to_view(window, view), view_state)
            out = _from_view(out, view)
            total = out if total is None else total + out
            new_state.append(view_state)
        assert total is not None
        return total / len(self.views), new_state


def check_views(views: int) -> None:
    """Refuse ensemble sizes other than 1, 2, 4 and 8 (before any model is built)."""
    if views not in ENSEMBLE_SIZES:
        raise VsrkitError(f"--self-ensemble must be one of {', '.join(map(str, ENSEMBLE_SIZES))}, got {views}")


def with_self_ensemble(model: VSRModel, views: int) -> VSRModel:
    """``model`` averaged over ``views`` (1, 2, 4 or 8) flipped/transposed views; 1 returns ``model``."""
    check_views(views)
    if views == 1:
        return model
    trained_for = getattr(model, "trained_for", None)
    if trained_for in CORNER_SAMPLED:
        label = getattr(model, "preset_name", None) or model.arch
        raise VsrkitError(
            f"--self-ensemble does not suit {label}: it was trained on {trained_for!r} LR, sampled at one "
            "corner of each block, which mirrored views move (use it with models trained on 'bi')"
        )
    if isinstance(model, StreamingVSRModel):
        return _StreamingEnsemble(model, views)
    return _ClipEnsemble(model, views)
