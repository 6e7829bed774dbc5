"""Geometric self-ensemble: run a model on flipped and transposed copies of the input and average.

The outputs are mapped back before averaging, so a model that is exactly equivariant to these
transforms gives its own output. Trained networks are not, and the mean of their views is usually
a little better (EDSR's "+" rows; measured for our models in weights/shipped/MODEL_CARD.md) at 2, 4
or 8 times the cost. Models trained on corner-sampled LR get their mirrored views shifted back into
phase (:data:`CORNER_SAMPLED`). :func:`with_self_ensemble` wraps any registered model; the wrapper keeps the
model's kind, so the :class:`~vsrkit.engine.upscaler.Upscaler` still streams recurrent models
(one state per view) and chunks bidirectional ones.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ..errors import VsrkitError
from ..layers.views import VIEWS, from_view, to_view
from ..models.base import StreamingVSRModel, VSRModel

# The first n views (vsrkit.layers.views.VIEWS, in order) make an n-view ensemble.
_VIEWS = tuple(VIEWS.values())
ENSEMBLE_SIZES = (1, 2, 4, 8)
# Degradations that keep the top-left HR pixel of every S x S block ([0::S, 0::S]). A mirrored view
# of such LR is the mirrored HR sampled at the other corner: LR'[i] is HR'[S i + S - 1], so a model
# trained on them answers a mirrored view with an output S - 1 pixels off. Uncorrected, `default-bd`
# fell from 25.51 to 21.90 dB on Vid4 (gauss1.5 + rlsp) with 8 views. So the mapped-back output of
# every mirrored axis is moved by S - 1 pixels (the last S - 1 rows or columns repeat the edge).
# Transposes keep the corner; bicubic (`bi`) is centred and symmetric and needs no shift.
CORNER_SAMPLED = frozenset({"bd", "gauss1.5", "mrvsr", "mrvsr-qsv"})


def _phase(model: VSRModel) -> int:
    return model.scale - 1 if getattr(model, "trained_for", None) in CORNER_SAMPLED else 0


def _copy_contract(wrapper: VSRModel, model: VSRModel, views: int) -> None:
    """The wrapper answers the Upscaler's and evaluate's questions as the wrapped model does."""
    for name in ("arch", "kind", "output", "temporal_scale", "size_multiple", "chunk_warmup",
                 "low_precision_weights", "scale", "hparams", "trained_for", "carries_chunk_state",
                 "chunk_left_context"):
        if hasattr(model, name):
            setattr(wrapper, name, getattr(model, name))
    label = getattr(model, "preset_name", None) or model.arch
    wrapper.preset_name = f"{label} x{views} self-ensemble"  # type: ignore[attr-defined]


class _ClipEnsemble(VSRModel):
    def __init__(self, model: VSRModel, views: int) -> None:
        super().__init__()
        self.model = model
        self.views = _VIEWS[:views]
        self.phase = _phase(model)
        _copy_contract(self, model, views)

    def forward(self, lr: Tensor) -> Tensor:
        total = None
        for view in self.views:
            out = from_view(self.model(to_view(lr, view)), view, self.phase)
            total = out if total is None else total + out
        assert total is not None
        return total / len(self.views)

    def run_chunk(self, lr: Tensor, carry: list[Any] | None, first: int, stop: int) -> tuple[Tensor, list[Any]]:
        """Chunks of models that carry state across them: one carry per view."""
        total = None
        new_carry = []
        for view, view_carry in zip(self.views, carry or [None] * len(self.views)):
            out, view_carry = self.model.run_chunk(to_view(lr, view), view_carry, first, stop)
            out = from_view(out, view, self.phase)
            total = out if total is None else total + out
            new_carry.append(view_carry)
        assert total is not None
        return total / len(self.views), new_carry


class _StreamingEnsemble(StreamingVSRModel):
    def __init__(self, model: StreamingVSRModel, views: int) -> None:
        super().__init__()
        self.model = model
        self.views = _VIEWS[:views]
        self.radius = model.radius  # type: ignore[misc]
        self.phase = _phase(model)
        _copy_contract(self, model, views)

    def initial_state(self, frame: Tensor) -> list[Any]:
        return [self.model.initial_state(to_view(frame, view)) for view in self.views]

    def step(self, window: Tensor, state: list[Any]) -> tuple[Tensor, list[Any]]:
        total = None
        new_state = []
        for view, view_state in zip(self.views, state):
            out, view_state = self.model.step(to_view(window, view), view_state)
            out = from_view(out, view, self.phase)
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
    if isinstance(model, StreamingVSRModel):
        return _StreamingEnsemble(model, views)
    return _ClipEnsemble(model, views)
