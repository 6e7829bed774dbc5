"""The contract every vsrkit model follows.

Tensors are ``(B, T, C, H, W)`` float in [0, 1], RGB in, RGB or Y out (``output`` says which; Y is
BT.601 studio-range luma divided by 255, see :mod:`vsrkit.color`).

Three temporal kinds exist, and the :class:`~vsrkit.engine.upscaler.Upscaler` treats them
differently:

* ``recurrent``: causal models with a carried state (RLSP, MRVSR). They implement
  :meth:`StreamingVSRModel.step`, so a video of any length streams through in flat memory.
* ``sliding-window``: stateless models that see ``2 * radius + 1`` frames (RFS3, bicubic). They also
  implement ``step`` (with an empty state).
* ``bidirectional``: models that need the whole clip (bidirectional RLSP, HiRN, IART, DAVSR). They
  run on overlapping temporal chunks; ``chunk_warmup`` says how many context frames each side of a
  chunk they need for output indistinguishable from a whole-sequence run.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
import torch.utils.checkpoint
from torch import Tensor, nn

Kind = Literal["recurrent", "sliding-window", "bidirectional"]
Output = Literal["Y", "RGB"]
State = Any


class VSRModel(nn.Module):
    """Base of all models. Subclasses set the class attributes and implement ``forward``."""

    arch: ClassVar[str]
    kind: ClassVar[Kind]
    output: ClassVar[Output] = "RGB"
    # Output frames per input frame (5 for DAVSR's space-time SR).
    temporal_scale: ClassVar[int] = 1
    # Input height/width must be a multiple of this; the Upscaler pads.
    size_multiple: ClassVar[int] = 1
    # Frames of context per side a bidirectional chunk needs (the Upscaler's default warm-up).
    chunk_warmup: ClassVar[int] = 0
    # Bidirectional models that implement ``run_chunk``: their forward-in-time state is handed from
    # chunk to chunk, so only the backward direction needs warm-up (and only on the right). Then
    # ``chunk_left_context`` frames before the chunk are given (the forward step's look-back).
    carries_chunk_state: ClassVar[bool] = False
    chunk_left_context: ClassVar[int] = 0
    # True when the model runs correctly with its weights cast to bf16/fp16 (it keeps its
    # precision-sensitive additions in the input's dtype itself); the Upscaler then casts the
    # weights instead of using autocast, which costs a dtype conversion per op on small frames.
    low_precision_weights: ClassVar[bool] = False

    # Models whose per-frame step can be recomputed in the backward pass (``gradient_checkpointing``): training
    # then holds one frame's activations instead of the whole clip's, at the cost of a second forward pass.
    supports_gradient_checkpointing: ClassVar[bool] = False
    gradient_checkpointing: bool = False

    scale: int
    # Constructor keyword arguments, set by the registry; saved with weights.
    hparams: dict[str, Any]

    def checkpointed(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)``; with ``gradient_checkpointing`` on and autograd recording, its activations are not kept but
        recomputed in the backward pass (the same values: RNG state is restored, and the steps are deterministic)."""
        if self.gradient_checkpointing and torch.is_grad_enabled():
            return torch.utils.checkpoint.checkpoint(fn, *args, use_reentrant=False)
        return fn(*args)

    @property
    def out_channels(self) -> int:
        return 1 if self.output == "Y" else 3

    def forward(self, lr: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def run_chunk(self, lr: Tensor, carry: State, first: int, stop: int) -> tuple[Tensor, State]:
        """Outputs for frames ``first .. stop - 1`` of ``lr`` ``(B, T, 3, H, W)``, a chunk of a longer
        video, and the state to hand to the next chunk (``carries_chunk_state`` models only).

        ``carry`` is what the previous chunk returned (``None`` at the start of the video, where
        ``first`` is 0). ``lr[:, :first]`` and ``lr[:, stop:]`` are context; ``first`` equals
        ``chunk_left_context`` except at the start.
        """
        raise NotImplementedError(f"{self.arch} does not carry state across chunks")


class StreamingVSRModel(VSRModel):
    """A model that produces frame ``t`` from frames ``t - radius .. t + radius`` and a state.

    ``forward`` is defined here on top of :meth:`step`, with boundary frames replicated, so the
    whole-sequence and the streaming path are one implementation.
    """

    radius: ClassVar[int] = 1
    supports_gradient_checkpointing: ClassVar[bool] = True

    def initial_state(self, frame: Tensor) -> State:
        """State before the first frame, for LR frames shaped like ``frame`` ``(B, 3, H, W)``."""
        return None

    def step(self, window: Tensor, state: State) -> tuple[Tensor, State]:  # pragma: no cover
        """``window`` is ``(B, 2*radius+1, 3, H, W)``; returns ``((B, C, sH, sW), new_state)``."""
        raise NotImplementedError

    def forward(self, lr: Tensor, burn_in: int = 0) -> Tensor:
        """Outputs for every frame of ``lr``; with ``burn_in``, for frames ``burn_in ..`` only.

        The first ``burn_in`` frames then only build the state, without autograd: training can show the
        loss the state a long history leaves (where a recurrence drifts) at the cost of the frames it
        learns from, as in R2D2's burn-in (Kapturowski et al., ICLR 2019).
        """
        if lr.ndim != 5:
            raise ValueError(f"expected (B, T, C, H, W), got {tuple(lr.shape)}")
        t_len = lr.shape[1]
        if not 0 <= burn_in < t_len:
            raise ValueError(f"burn_in must be in [0, {t_len}) for {t_len} frames, got {burn_in}")
        state = self.initial_state(lr[:, 0])
        outputs = []
        offsets = torch.arange(-self.radius, self.radius + 1)
        for t in range(t_len):
            # Replicate boundary frames: [x0, x0, x1] at t = 0, as RLSP and MRVSR do.
            idx = (offsets + t).clamp(0, t_len - 1).tolist()
            if t < burn_in:
                with torch.no_grad():
                    _, state = self.step(lr[:, idx], state)
                continue
            out, state = self.checkpointed(self.step, lr[:, idx], state)
            outputs.append(out)
        return torch.stack(outputs, dim=1)
