"""RLSP: Recurrent Latent Space Propagation (Fuoli, Gu, Timofte, ICCVW 2019).

Layer by layer as the authors' TensorFlow graph (specs/architectures.md §3.2), so that the official
checkpoints load unchanged (``vsrkit convert --from rlsp-tf``):

* input per step: frames ``x[t-1], x[t], x[t+1]`` (9 ch), hidden state ``h[t-1]`` (F ch) and the
  previous Y output folded by space-to-depth (s² ch), concatenated in that order;
* trunk: ``num_layers - 1`` conv3×3 + ReLU (the first maps ``9 + F + s²`` to F channels);
* heads: state conv F→F + ReLU gives ``h[t]``; output conv F→s² plus Y(x[t]) repeated s² times,
  then depth-to-space gives the HR luma. The skip is therefore nearest-neighbour upsampled LR luma.

The TF model works on 0-255 values; ``value_range=255`` keeps that so imported weights see the
inputs they were trained on. Inputs and outputs of :meth:`forward` are still [0, 1].
Zero initial state and feedback; boundary frames replicated.

``align="dis"`` is vsrkit's variant, not in the paper: before each step, frozen OpenCV DIS flow
(:class:`~vsrkit.layers.classical_flow.DISFlow`) from ``x[t]`` to its neighbours warps ``x[t-1]``,
``x[t+1]``, the hidden state and the previous HR output onto frame ``t``. The network then fuses
aligned inputs instead of having to learn motion compensation implicitly, which plain RLSP only
learns after far more training than a CPU gives it (weights/shipped/MODEL_CARD.md). Same
parameters as plain RLSP, so plain RLSP weights are a valid starting point.
``dis_finest_scale`` is DIS's finest pyramid level: 1 (its ``medium`` preset) estimates flow at half
the LR resolution and upsamples it; 0 estimates it at full LR resolution, a better alignment on small
LR frames for about 1 % more inference time (0.13 dB on validation for the shipped ``default``).

The TF variables ``layer0 .. layer{L-2}`` are ``trunk``, ``layer{L-1}`` is ``state_head`` and
``layer{L}`` is ``output_head`` (:mod:`vsrkit.weights.convert_rlsp_tf`). Verified against the
authors' Vid4 outputs: with the official 7-64 checkpoint and the ``gauss1.5`` degradation, the
saved 8-bit Y frames equal theirs on 99.996 % of pixels and the rest differ by 1, all of them values
within 1e-4 of a .5 rounding tie (float summation order); mean Y-PSNR 26.8394 dB, as theirs
(``tests/models/test_rlsp_official.py``, ``benchmarks/rlsp_official.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..color import RLSP_Y_WEIGHTS, rgb_to_y
from ..layers.classical_flow import DISFlow
from ..layers.fused import conv_relu
from ..layers.shuffle import depth_to_space_tf, space_to_depth_tf
from ..layers.views import VIEWS, flow_to_view, from_view, to_view
from ..layers.warp import flow_warp
from ._registry import build_model, full_hparams, register_model, shipped_weights
from .base import StreamingVSRModel, VSRModel


def _conv(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, padding=1)


def alignment_kwargs(flow: DISFlow | None) -> dict[str, Any]:
    """Constructor arguments giving another RLSP the same alignment as a model with ``flow``."""
    if flow is None:
        return {"align": "none"}
    return {"align": "dis", "dis_finest_scale": 1 if flow.finest_scale is None else flow.finest_scale}


def _flows_to_neighbours(flow: DISFlow, prev: Tensor, centre: Tensor, nxt: Tensor) -> tuple[Tensor, Tensor]:
    """Flow from each centre frame to its previous and to its next frame, in one batched call."""
    to_prev, to_next = flow(torch.cat([centre, centre]), torch.cat([prev, nxt])).chunk(2)
    return to_prev, to_next


class RLSP(StreamingVSRModel):
    """RLSP L-F with Y output. ``(B, T, 3, H, W)`` RGB in, ``(B, T, 1, sH, sW)`` Y out."""

    arch = "rlsp"
    kind = "recurrent"
    output = "Y"
    radius = 1
    low_precision_weights = True

    def __init__(
        self,
        *,
        num_layers: int = 7,
        filters: int = 64,
        scale: int = 4,
        value_range: float = 255.0,
        align: Literal["none", "dis"] = "none",
        dis_finest_scale: int = 1,
        guide_channels: int = 0,
    ) -> None:
        super().__init__()
        if guide_channels < 0:
            raise ValueError(f"guide_channels must be >= 0, got {guide_channels}")
        if num_layers < 3:
            raise ValueError(f"num_layers must be >= 3, got {num_layers}")
        if align not in ("none", "dis"):
            raise ValueError(f"align must be 'none' or 'dis', got {align!r}")
        self.flow = DISFlow(finest_scale=dis_finest_scale) if align == "dis" else None
        self.scale = scale
        self.filters = filters
        self.value_range = value_range
        s2 = scale * scale
        self.guide_channels = guide_channels
        in_ch = 3 * (2 * self.radius + 1) + filters + s2 + guide_channels
        self.trunk = nn.ModuleList(
            [_conv(in_ch, filters)] + [_conv(filters, filters) for _ in range(num_layers - 2)]
        )
        self.state_head = _conv(filters, filters)
        self.output_head = _conv(filters, s2)

    @torch.no_grad()
    def grown(
        self, *, num_layers: int, filters: int, noise: float = 0.01, generator: torch.Generator | None = None
    ) -> RLSP:
        """A wider and/or deeper RLSP computing the same function (Net2Net, Chen et al. 2016), to warm-start
        a bigger model from a trained one instead of training it from scratch.

        Wider: every new feature channel copies a random old one (so does the hidden state, which is
        the state head's output), and every layer reading a copied channel divides its weights by
        the number of copies. Deeper: new trunk layers are identity convs, exact because they follow
        a ReLU. ``noise`` (relative to each layer's weight std) perturbs the copies' incoming weights:
        without it, copies get identical gradients and never become different channels.
        """
        old_f, old_layers = self.filters, len(self.trunk) + 1
        if filters < old_f or num_layers < old_layers:
            raise ValueError(f"can only grow: {old_layers}-{old_f} to {num_layers}-{filters}")
        big = RLSP(num_layers=num_layers, filters=filters, scale=self.scale, value_range=self.value_range,
                   guide_channels=self.guide_channels, **alignment_kwargs(self.flow)).to(self.output_head.weight)
        extra = torch.randint(old_f, (filters - old_f,), generator=generator)
        source = torch.cat([torch.arange(old_f), extra])
        share = 1.0 / torch.bincount(source, minlength=old_f)[source].to(big.output_head.weight)

        def copy_out(conv: nn.Conv2d, new: nn.Conv2d, in_weight: Tensor) -> None:
            new.weight.copy_(in_weight[source])
            new.bias.copy_(conv.bias[source])
            copies = new.weight[old_f:]
            copies.add_(noise * conv.weight.std() * torch.randn(copies.shape, generator=generator).to(copies))

        def read_features(weight: Tensor) -> Tensor:
            return weight[:, source] * share[None, :, None, None]

        frames = 3 * (2 * self.radius + 1)
        first = self.trunk[0].weight
        first_in = torch.cat([first[:, :frames], read_features(first[:, frames : frames + old_f]),
                              first[:, frames + old_f :]], dim=1)
        copy_out(self.trunk[0], big.trunk[0], first_in)
        for conv, new in zip(self.trunk[1:], big.trunk[1 : len(self.trunk)]):
            copy_out(conv, new, read_features(conv.weight))
        for new in big.trunk[len(self.trunk) :]:
            nn.init.dirac_(new.weight)
            nn.init.zeros_(new.bias)
        copy_out(self.state_head, big.state_head, read_features(self.state_head.weight))
        big.output_head.weight.copy_(read_features(self.output_head.weight))
        big.output_head.bias.copy_(self.output_head.bias)
        return big

    @torch.no_grad()
    def with_guide(self, guide_channels: int) -> RLSP:
        """A copy taking ``guide_channels`` more input channels, whose weights start at zero: it computes
        the same function until trained to read them."""
        if self.guide_channels:
            raise ValueError("with_guide adds guide channels to a cell that has none")
        guided = build_model(RLSP, {
            "num_layers": len(self.trunk) + 1, "filters": self.filters, "scale": self.scale,
            "value_range": self.value_range, "guide_channels": guide_channels, **alignment_kwargs(self.flow),
        }).to(self.output_head.weight)
        state = self.state_dict()
        first = state["trunk.0.weight"]
        widened = first.new_zeros(guided.trunk[0].weight.shape)
        widened[:, : first.shape[1]] = first
        state["trunk.0.weight"] = widened
        guided.load_state_dict(state)
        return guided

    def initial_state(self, frame: Tensor) -> tuple[Tensor, Tensor]:
        b, _, h, w = frame.shape
        hidden = frame.new_zeros(b, self.filters, h, w)
        feedback = frame.new_zeros(b, self.scale * self.scale, h, w)
        return hidden, feedback

    def _flows(self, window: Tensor) -> tuple[Tensor, Tensor]:
        """DIS flow from the centre frame to its previous and next neighbour, ``(B, 2, H, W)`` each."""
        assert self.flow is not None
        return _flows_to_neighbours(self.flow, *window.float().unbind(1))

    def _align(
        self, window: Tensor, hidden: Tensor, feedback: Tensor, flow_prev: Tensor, flow_next: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Warp the neighbours, the state and the previous output onto the centre frame."""
        prev, centre, nxt = window.float().unbind(1)
        window = torch.stack([
            flow_warp(prev, flow_prev, padding_mode="border"),
            centre,
            flow_warp(nxt, flow_next, padding_mode="border"),
        ], dim=1).to(window.dtype)
        # flow_warp samples at fp32 coordinates whatever the state's dtype (bf16 cannot hold them).
        hidden = flow_warp(hidden, flow_prev, padding_mode="border")
        s = self.scale
        # The previous output is warped at HR, where the flow is s times longer, and folded again.
        flow_hr = F.interpolate(flow_prev, scale_factor=s, mode="bilinear", align_corners=False) * s
        previous_hr = flow_warp(depth_to_space_tf(feedback, s), flow_hr, padding_mode="border")
        return window, hidden, space_to_depth_tf(previous_hr, s)

    def step(self, window: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        flows = self._flows(window) if self.flow is not None else None
        y_hr, _, new_state = self.cell(window, state, flows)
        return y_hr, new_state

    def cell(
        self, window: Tensor, state: tuple[Tensor, Tensor], flows: tuple[Tensor, Tensor] | None,
        guide: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor]]:
        """One recurrent step on inputs aligned by ``flows`` (centre to previous, centre to next;
        ``None``: unaligned). ``guide``: ``guide_channels`` more inputs, already aligned with the centre
        frame (a cell built with them needs them). Returns the HR Y output, the trunk's features and
        the new state."""
        if (guide is None) != (self.guide_channels == 0):
            raise ValueError(f"this cell takes {self.guide_channels} guide channels, got "
                             f"{'none' if guide is None else guide.shape[1]}")
        hidden, feedback = state
        if flows is not None:
            window, hidden, feedback = self._align(window, hidden, feedback, *flows)
        b, n, c, h, w = window.shape
        # Convolutions run in the weights' dtype (bf16 weights: the Upscaler's CPU fast path); the
        # LR-luma skip and the output stay in the window's dtype, since bf16 keeps 8 significant
        # bits, too few for the 0-255 luma the residual is added to.
        conv_dtype = self.output_head.weight.dtype
        frames = (window.reshape(b, n * c, h, w) * self.value_range).to(conv_dtype)
        parts = [frames, hidden.to(conv_dtype), feedback.to(conv_dtype)]
        if guide is not None:
            parts.append(guide.to(conv_dtype))
        if self.output_head.weight.is_contiguous(memory_format=torch.channels_last):
            # Weights in channels-last (the Upscaler on CPU): inputs too, or oneDNN reorders them.
            parts = [p.contiguous(memory_format=torch.channels_last) for p in parts]
        x = torch.cat(parts, dim=1)
        for conv in self.trunk:
            x = conv_relu(conv, x)
        new_hidden = conv_relu(self.state_head, x)
        centre = window[:, self.radius] * self.value_range
        # Y on the value_range scale: rgb_to_y adds 16/255, which is 16 at value_range 255.
        y_lr = rgb_to_y(centre / self.value_range, weights=RLSP_Y_WEIGHTS) * self.value_range
        residual = self.output_head(x).to(y_lr.dtype) + y_lr
        y_hr = depth_to_space_tf(residual, self.scale)
        new_feedback = space_to_depth_tf(y_hr, self.scale)
        return y_hr / self.value_range, x, (new_hidden, new_feedback)


class _BackwardStep(NamedTuple):
    """The backward cell at one frame, mapped back from its view: HR output, trunk features (with a fusion
    net) and what the forward cell reads of it (with ``backward_guide``)."""

    output: Tensor
    features: Tensor | None
    guide: Tensor | None


class _ForwardCarry(NamedTuple):
    """What a chunk hands the next: the forward cell's state and how many frames it has seen."""

    state: tuple[Tensor, Tensor]
    frames_seen: int


class BidirectionalRLSP(VSRModel):
    """Two RLSP cells, one running forward in time and one backward, fused per frame (vsrkit variant,
    not in the paper). ``(B, T, 3, H, W)`` RGB in, ``(B, T, 1, sH, sW)`` Y out.

    A causal RLSP at frame ``t`` has seen only the past; the backward cell brings the future, which
    the first frames of a clip otherwise lack entirely. Output: the mean of the two cells' HR luma
    plus a correction that a small fusion net (``fusion_layers`` convs) computes from both trunks'
    features. :meth:`start_from_unidirectional` zeroes the last fusion conv, which gives a model that
    is exactly the average of a trained RLSP run both ways; training starts from there.
    ``fusion_layers=0`` has no fusion net: the output is that average, a temporal self-ensemble of
    one causal RLSP (the shipped ``default``; why not a trained fusion: MODEL_CARD.md).
    With ``align="dis"`` the DIS flows of every frame to its neighbours are computed once and
    shared by both cells.

    ``tied=True`` runs one cell both ways (no ``backward_cell``): half the parameters, and training
    can then only improve the cell itself, not make two cells lean on each other (two untied cells
    trained with a fusion net co-adapted and failed on real footage; MODEL_CARD.md).

    ``fusion="blend"`` makes the fusion net weigh the two estimates per HR pixel instead of adding a
    correction: ``y_b + sigmoid(w) * (y_f - y_b)``, a convex combination that can choose between what
    the two directions saw but cannot draw texture of its own. Its last conv also starts at zero, i.e.
    at the mean. Measured on `default`'s fixed cell, it lost on held-out foliage as much as the
    additive fusion did (MODEL_CARD.md, "Session 15").

    ``backward_view`` (a name from :data:`vsrkit.layers.views.VIEWS`) runs the backward cell on the
    clip flipped or transposed that way, with the shared flows turned to match, and maps its output
    back: the two estimates then differ in how the cell's kernels meet the image as well as in time,
    and their mean is better with no extra computation (+0.05 dB on validation for ``default``; MODEL_CARD.md).
    Views that mirror an axis assume centred LR sampling (``bi``): for corner-sampled degradations
    (``gauss1.5``, ``bd``) their output would be off by ``scale - 1`` HR pixels, so use ``identity``
    or ``transpose`` there.

    ``horizon_tau > 0`` replaces the plain mean by a weighted one: a direction that has seen ``k`` frames
    (its own start included) counts ``1 - exp(-k / horizon_tau)``, so at a clip's ends the direction that
    has only just started, with an empty state, counts less. That pays only for a cell whose state does
    not drift over the clip's length (MODEL_CARD.md, "Session 17"). In chunks, the forward cell's count
    travels with its carried state, so the output still equals a whole-clip run's up to the backward
    cell's shorter context.

    ``backward_guide=True`` (untied cells only) lets the forward cell read the backward run at each frame:
    the backward cell's state after that frame and its HR output folded by space-to-depth (``F + s²``
    more input channels of the forward cell's first conv), so the forward recurrence carries what the
    future showed, not only the final mix. :meth:`with_backward_guide` adds them with zero weights,
    i.e. exactly the model without; training then teaches the forward cell to use them.
    ``forward_only=True`` (with ``backward_guide``) outputs the forward cell's estimate alone, which has then
    read both directions: to train that estimate as an estimate of the frame (the loss on the mix would
    make it whatever complements the backward output, and the cell feeds it back to itself).

    ``preroll=K``: a direction that starts cold first runs over the next ``K`` frames the other way in time and
    turns round (the forward cell sees ``K, ..., 1, 0, 1, 2, ...``; the backward cell the clip's end mirrored the
    same way), so that at a clip's ends neither estimate comes from an empty state: the outputs of a run on the
    clip mirrored in time at both ends, cropped, at ``K`` more steps per direction, not ``2K``. The cells are
    trained with temporal reversal, so running them the other way is what they were trained for. The pre-roll
    counts as frames seen for ``horizon_tau``. In chunks, the backward cell pre-rolls at the end of each chunk's
    right context, the forward cell only at the start of the video (later chunks carry its state).
    """

    arch = "rlsp-bi"
    kind = "bidirectional"
    output = "Y"
    low_precision_weights = True
    # Context frames after each chunk for the backward cell (the forward cell carries its state from
    # chunk to chunk: run_chunk). For the shipped `default` (chunks of 16, 64x64 LR crops of two
    # 70-100-frame training clips, benchmarks/chunk_warmup.py): 4 frames put the chunked output
    # within 0.003 dB of a whole-clip run, largest difference 7.0/255 (with none: -0.03 dB, 18/255).
    chunk_warmup = 4
    carries_chunk_state = True
    supports_gradient_checkpointing = True
    chunk_left_context = 1  # the forward cell's window reaches back one frame

    def __init__(
        self,
        *,
        num_layers: int = 7,
        filters: int = 48,
        scale: int = 4,
        value_range: float = 1.0,
        align: Literal["none", "dis"] = "dis",
        fusion_layers: int = 3,
        tied: bool = False,
        dis_finest_scale: int = 1,
        backward_view: str = "identity",
        fusion: Literal["add", "blend"] = "add",
        horizon_tau: float = 0.0,
        backward_guide: bool = False,
        forward_only: bool = False,
        preroll: int = 0,
    ) -> None:
        super().__init__()
        if preroll < 0:
            raise ValueError(f"preroll must be >= 0, got {preroll}")
        self.preroll = preroll
        if forward_only and not (backward_guide and fusion_layers == 0):
            raise ValueError("forward_only needs backward_guide and no fusion net: else it is a causal RLSP")
        if backward_guide and tied:
            raise ValueError("backward_guide needs two cells (tied=False): the backward cell has no guide")
        if fusion not in ("add", "blend"):
            raise ValueError(f"fusion must be 'add' or 'blend', got {fusion!r}")
        if horizon_tau < 0 or (horizon_tau > 0 and fusion == "blend" and fusion_layers > 0):
            raise ValueError(f"horizon_tau must be >= 0, and 0 with a blend fusion, got {horizon_tau}")
        if backward_view not in VIEWS:
            raise ValueError(f"backward_view must be one of {', '.join(VIEWS)}, got {backward_view!r}")
        if fusion_layers < 0:
            raise ValueError(f"fusion_layers must be >= 0, got {fusion_layers}")
        if align not in ("none", "dis"):
            raise ValueError(f"align must be 'none' or 'dis', got {align!r}")
        cell_args = {"num_layers": num_layers, "filters": filters, "scale": scale, "value_range": value_range}
        # The cells are built unaligned: this model computes the flows once and hands them over.
        self.backward_guide = backward_guide
        self.forward_only = forward_only
        guide_channels = filters + scale * scale if backward_guide else 0
        self.forward_cell = RLSP(**cell_args, guide_channels=guide_channels)
        self.tied = tied
        if not tied:
            self.backward_cell = RLSP(**cell_args)
        self.flow = DISFlow(finest_scale=dis_finest_scale) if align == "dis" else None
        self.backward_view = VIEWS[backward_view]
        self.scale = scale
        self.value_range = value_range
        widths = [2 * filters] + [filters] * (fusion_layers - 1)
        self.fusion = nn.ModuleList([_conv(cin, filters) for cin in widths[:-1]])
        self.fusion_out = _conv(widths[-1], scale * scale) if fusion_layers else None
        self.blend = fusion == "blend"
        self.horizon_tau = float(horizon_tau)

    def start_from_unidirectional(self, model: RLSP) -> None:
        """Copy a trained RLSP into both cells and zero the fusion's last conv: the output is then
        exactly the mean of that RLSP run forward and backward in time (guide inputs, if any, at zero)."""
        forward = model.with_guide(self.forward_cell.guide_channels) if self.backward_guide else model
        self.forward_cell.load_state_dict(forward.state_dict())
        if not self.tied:
            self.backward_cell.load_state_dict(model.state_dict())
        if self.fusion_out is not None:
            nn.init.zeros_(self.fusion_out.weight)
            nn.init.zeros_(self.fusion_out.bias)

    def with_backward_guide(self) -> BidirectionalRLSP:
        """A copy whose forward cell also reads the backward run (``backward_guide``), its new weights at zero:
        the same outputs as this model, and the start of training them."""
        if self.backward_guide:
            raise ValueError("this model's forward cell already reads the backward run")
        cell = self.forward_cell
        guided = build_model(BidirectionalRLSP, {
            "num_layers": len(cell.trunk) + 1, "filters": cell.filters, "scale": self.scale,
            "value_range": self.value_range, "fusion_layers": len(self.fusion) + 1 if self.fusion_out is not None else 0,
            "tied": self.tied, "backward_view": next(name for name, view in VIEWS.items() if view == self.backward_view), "fusion": "blend" if self.blend else "add",
            "horizon_tau": self.horizon_tau, "backward_guide": True, "preroll": self.preroll,
            **alignment_kwargs(self.flow),
        }).to(cell.output_head.weight)
        state = self.state_dict()
        state.update({f"forward_cell.{k}": v
                      for k, v in cell.with_guide(guided.forward_cell.guide_channels).state_dict().items()})
        guided.load_state_dict(state)
        return guided

    def single_cell(self) -> RLSP:
        """The one causal RLSP this model runs both ways (tied, or two equal cells and no fusion net:
        the `default` of sessions 9-16), aligned as this model is. A copy; raises if there is no such RLSP."""
        cells = [self.forward_cell] + ([] if self.tied else [self.backward_cell])
        states = [cell.state_dict() for cell in cells]
        if self.fusion_out is not None or any(not torch.equal(states[0][k], other[k]) for other in states[1:]
                                               for k in states[0]):
            raise ValueError("this model has two different cells or a fusion net: it is not one RLSP run both ways")
        return self.direction_cell("forward")

    def direction_cell(self, direction: Literal["forward", "backward"]) -> RLSP:
        """A copy of the causal RLSP one direction runs (with a guide input, if it has one), aligned as this model
        is: e.g. the shipped ``default``'s backward cell, to pair with another forward cell."""
        if direction not in ("forward", "backward"):
            raise ValueError(f"direction must be 'forward' or 'backward', got {direction!r}")
        cell = self.backward_cell if direction == "backward" and not self.tied else self.forward_cell
        hparams = full_hparams(RLSP, {
            "num_layers": len(cell.trunk) + 1, "filters": cell.filters, "scale": cell.scale,
            "value_range": cell.value_range, "guide_channels": cell.guide_channels, **alignment_kwargs(self.flow)})
        copy = RLSP(**hparams)
        copy.hparams = hparams  # as the registry sets it, so the copy can be saved
        copy.load_state_dict(cell.state_dict())
        return copy.to(cell.output_head.weight)

    def _neighbour_flows(self, lr: Tensor, first: int = 0) -> tuple[Tensor, Tensor] | None:
        """Flows of frames ``first ..`` to their previous and to their next frame, ``(B, T - first, 2,
        H, W)`` each (boundary frames replicated, as the cells see them)."""
        if self.flow is None:
            return None
        b, t, c, h, w = lr.shape
        frames = lr.float()
        steps = range(first, t)
        prev = frames[:, [max(i - 1, 0) for i in steps]]
        nxt = frames[:, [min(i + 1, t - 1) for i in steps]]
        n = len(steps)
        to_prev, to_next = _flows_to_neighbours(
            self.flow, *(x.reshape(b * n, c, h, w) for x in (prev, frames[:, first:], nxt))
        )
        return to_prev.reshape(b, n, 2, h, w), to_next.reshape(b, n, 2, h, w)

    def _cell_steps(
        self, cell: RLSP, lr: Tensor, flows: tuple[Tensor, Tensor] | None, order: Sequence[int], direction: int,
        state: tuple[Tensor, Tensor] | None = None, flows_from: int = 0,
        backward: dict[int, _BackwardStep] | None = None,
    ) -> Iterator[tuple[int, Tensor, Tensor, tuple[Tensor, Tensor]]]:
        """Run one cell over the frames ``order`` (indices into ``lr``): ``(t, HR output, trunk features, state
        after t)`` per step. ``direction`` (+1, or -1 for the backward cell) is the way time runs where the
        order does not say: past a single frame, and at the order's last frame. The order may turn round
        (a pre-roll: ``2, 1, 0, 1, 2, ...``); each window then holds the frames the cell came from and
        goes to, and with ``preroll`` a window reaching past the clip's end reads it mirrored. A cold start
        (``state`` None) replicates its first frame as the frame before it, as at a clip's end. ``flows`` begin at frame ``flows_from``; ``backward``: the backward run, whose guide a
        guided forward cell reads at each frame."""
        t_len = lr.shape[1]
        cold = state is None
        if state is None:
            state = cell.initial_state(lr[:, 0])
        last = len(order) - 1
        for p, t in enumerate(order):
            if p > 0:
                before = order[p - 1]
            else:
                before = t if cold else t - (order[1] - t if last > 0 else direction)
            after = order[p + 1] if p < last else t + (t - order[p - 1] if p > 0 else direction)
            if self.preroll:
                # The clip mirrored in time at its ends: past the last frame comes the one before it.
                before, after = (-i if i < 0 else 2 * (t_len - 1) - i if i >= t_len else i for i in (before, after))
            before, after = (min(max(i, 0), t_len - 1) for i in (before, after))
            cell_flows = None
            if flows is not None:
                to_prev, to_next = flows[0][:, t - flows_from], flows[1][:, t - flows_from]

                def towards(i: int, t: int = t, to_prev: Tensor = to_prev, to_next: Tensor = to_next) -> Tensor:
                    if i == t and 0 < t < t_len - 1:
                        # Only a pre-roll starts inside a clip; DIS between equal frames is exactly zero.
                        return torch.zeros_like(to_prev)
                    return to_prev if i < t or (i == t and t == 0) else to_next

                cell_flows = (towards(before), towards(after))
            guide = backward[t].guide if cell.guide_channels and backward is not None else None
            y_hr, features, state = self.checkpointed(cell.cell, lr[:, [before, t, after]], state, cell_flows, guide)
            yield t, y_hr, features, state

    def _forward_weight(self, seen_forward: int, seen_backward: int) -> float:
        """The forward estimate's share of a frame, from how many frames each direction has seen there."""
        if self.forward_only:
            return 1.0
        if self.horizon_tau == 0:
            return 0.5
        trust_forward, trust_backward = (-math.expm1(-k / self.horizon_tau) for k in (seen_forward, seen_backward))
        return trust_forward / (trust_forward + trust_backward)

    def _run(
        self, lr: Tensor, first: int, stop: int, carry: _ForwardCarry | None
    ) -> tuple[Tensor, _ForwardCarry]:
        if lr.ndim != 5:
            raise ValueError(f"expected (B, T, C, H, W), got {tuple(lr.shape)}")
        t_len = lr.shape[1]
        if not 0 <= first < stop <= t_len:
            raise ValueError(f"frames {first}..{stop - 1} are not in a clip of {t_len}")
        flows = self._neighbour_flows(lr, first)
        fusion_out = self.fusion_out
        # The backward run is kept whole (from the clip's end, which may be right context); the
        # forward run is fused frame by frame as it goes, so only one direction's outputs (and
        # features, with a fusion net) are ever held.
        backward = self._backward_run(lr, flows, first, stop, keep_features=fusion_out is not None)
        preroll = self._preroll_frames(t_len, first)
        # A cold forward start (carry None: first is 0) has seen its pre-roll, as the backward cell has its own.
        seen_before = preroll if carry is None else carry.frames_seen
        results = []
        for t, y_f, x_f, state in self._forward_steps(lr, flows, first, stop, carry, backward):
            y_b, x_b, _ = backward.pop(t)
            w = self._forward_weight(seen_before + t - first + 1, t_len - t + preroll)
            # With w = 0.5 this is bit for bit (y_f + y_b) / 2: halving is exact in binary floats.
            y = w * y_f + (1 - w) * y_b
            if fusion_out is not None:
                x = torch.cat([x_f, x_b], dim=1)
                for conv in self.fusion:
                    x = conv_relu(conv, x)
                fused = depth_to_space_tf(fusion_out(x).to(y_f.dtype), self.scale)
                if self.blend:
                    y = y_b + torch.sigmoid(fused) * (y_f - y_b)
                else:
                    y = y + fused / self.value_range
            results.append(y)
        return torch.stack(results, dim=1), _ForwardCarry(state, seen_before + stop - first)

    def _preroll_frames(self, t_len: int, first: int) -> int:
        """How many frames a direction that starts cold runs the other way first (``preroll``, within the clip)."""
        return min(self.preroll, t_len - 1 - first)

    def _forward_steps(
        self, lr: Tensor, flows: tuple[Tensor, Tensor] | None, first: int, stop: int, carry: _ForwardCarry | None,
        backward: dict[int, _BackwardStep],
    ) -> Iterator[tuple[int, Tensor, Tensor, tuple[Tensor, Tensor]]]:
        """The forward cell over frames ``first .. stop - 1``, after its pre-roll if it starts cold."""
        preroll = self._preroll_frames(lr.shape[1], first) if carry is None else 0
        order = [*range(first + preroll, first, -1), *range(first, stop)]
        steps = self._cell_steps(self.forward_cell, lr, flows, order, +1, None if carry is None else carry.state,
                                 flows_from=first, backward=backward)
        for _ in range(preroll):
            next(steps)
        yield from steps

    def _backward_run(
        self, lr: Tensor, flows: tuple[Tensor, Tensor] | None, first: int, stop: int, *, keep_features: bool
    ) -> dict[int, _BackwardStep]:
        """The backward cell from the clip's last frame down to ``first`` (after its pre-roll), for ``first <= t <
        stop``, and for the forward cell's pre-roll frames when it has a guide; mapped back from the backward view."""
        view = self.backward_view
        # The backward cell sees the clip in its own view (flows turned with it, not re-estimated),
        # so that its errors differ more from the forward cell's and their mean is better.
        backward_lr = to_view(lr, view)
        backward_flows = None if flows is None else (flow_to_view(flows[0], view), flow_to_view(flows[1], view))
        cell = self.forward_cell if self.tied else self.backward_cell
        t_len = lr.shape[1]
        preroll = self._preroll_frames(t_len, first)
        order = [*range(t_len - 1 - preroll, t_len - 1), *range(t_len - 1, first - 1, -1)]
        # A guided forward cell reads the backward run on its pre-roll too.
        keep_below = max(stop, first + preroll + 1) if self.backward_guide else stop
        steps = {}
        for p, (t, y, x, (hidden, _)) in enumerate(
            self._cell_steps(cell, backward_lr, backward_flows, order, -1, flows_from=first)
        ):
            if p < preroll or t >= keep_below:
                continue
            y = from_view(y, view)
            guide = None
            if self.backward_guide:
                # The state turns back with the image; the output is folded only after turning back, so
                # that its space-to-depth channels mean the same sub-pixel positions as the forward cell's.
                # Held in the state's dtype (the cells' conv dtype, which the forward cell casts the guide to).
                folded = space_to_depth_tf(y * self.value_range, self.scale)
                guide = torch.cat([from_view(hidden, view), folded.to(hidden.dtype)], dim=1)
            steps[t] = _BackwardStep(y, from_view(x, view) if keep_features else None, guide)
        return steps

    def forward(self, lr: Tensor) -> Tensor:
        return self._run(lr, 0, lr.shape[1], None)[0]

    def run_directions(self, lr: Tensor) -> tuple[Tensor, Tensor]:
        """The forward and the backward cell's HR outputs on the whole clip, before any fusion, ``(B, T, 1,
        sH, sW)`` each: for analysis (``scripts/direction_profile.py``: how each direction's quality changes
        with the number of frames it has seen)."""
        t_len = lr.shape[1]
        flows = self._neighbour_flows(lr)
        backward = self._backward_run(lr, flows, 0, t_len, keep_features=False)
        forward = [y for _, y, _, _ in self._forward_steps(lr, flows, 0, t_len, None, backward)]
        return torch.stack(forward, dim=1), torch.stack([backward[t].output for t in range(t_len)], dim=1)

    def run_chunk(
        self, lr: Tensor, carry: _ForwardCarry | None, first: int, stop: int
    ) -> tuple[Tensor, _ForwardCarry]:
        """See :meth:`VSRModel.run_chunk`. The forward cell continues from ``carry`` (its state after
        the previous chunk), so its output equals a whole-clip run; the backward cell starts at the
        end of the right context, as in a chunk without carry."""
        if carry is None and first != 0:
            raise ValueError("a chunk with left context needs the previous chunk's state")
        return self._run(lr, first, stop, carry)


class RLSPRGB(StreamingVSRModel):
    """The RGB-output RLSP of the authors' PyTorch port (specs §3.2).

    Input per step: frames (9 ch), space-to-depth of the previous RGB output (3 s² ch), state (F ch),
    in that order. One output conv gives ``3 s² + F`` channels: the first ``3 s²`` plus ``x[t]``
    repeated s² times go through TF-order depth-to-space; the rest, after ReLU, is the new state.
    """

    arch = "rlsp-rgb"
    kind = "recurrent"
    output = "RGB"
    radius = 1

    def __init__(
        self, *, num_layers: int = 7, filters: int = 128, scale: int = 4, value_range: float = 255.0
    ) -> None:
        super().__init__()
        self.scale = scale
        self.filters = filters
        self.value_range = value_range
        s2 = scale * scale
        in_ch = 3 * (2 * self.radius + 1) + 3 * s2 + filters
        self.trunk = nn.ModuleList(
            [_conv(in_ch, filters)] + [_conv(filters, filters) for _ in range(num_layers - 2)]
        )
        self.output_head = _conv(filters, 3 * s2 + filters)
        self.act = nn.ReLU(inplace=True)

    def initial_state(self, frame: Tensor) -> tuple[Tensor, Tensor]:
        b, _, h, w = frame.shape
        return frame.new_zeros(b, self.filters, h, w), frame.new_zeros(b, 3 * self.scale**2, h, w)

    def step(self, window: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        hidden, feedback = state
        b, n, c, h, w = window.shape
        x = torch.cat([window.reshape(b, n * c, h, w) * self.value_range, feedback, hidden], dim=1)
        for conv in self.trunk:
            x = self.act(conv(x))
        out = self.output_head(x)
        s2 = self.scale**2
        centre = window[:, self.radius] * self.value_range
        rgb_hr = depth_to_space_tf(out[:, : 3 * s2] + centre.repeat(1, s2, 1, 1), self.scale)
        new_hidden = self.act(out[:, 3 * s2 :])
        return rgb_hr / self.value_range, (new_hidden, space_to_depth_tf(rgb_hr, self.scale))


for _f in (48, 64, 128, 256):
    register_model(
        f"rlsp-7-{_f}", RLSP, num_layers=7, filters=_f,
        description=f"RLSP 7-{_f} (TF original, Y output)",
    )
register_model(
    "rlsp-dis-7-48", RLSP, num_layers=7, filters=48, align="dis",
    description="RLSP 7-48 with frozen DIS flow aligning inputs and state (vsrkit variant)",
)
register_model(
    "rlsp-dis-10-64", RLSP, num_layers=10, filters=64, align="dis",
    description="RLSP 10-64 with frozen DIS flow (vsrkit variant; grown from 7-48 by RLSP.grown)",
)
register_model(
    "rlsp-dis-10-96", RLSP, num_layers=10, filters=96, align="dis",
    description="RLSP 10-96 with frozen DIS flow (vsrkit variant; grown from 10-64 by RLSP.grown)",
)
register_model(
    "rlsp-bi-dis-7-48", BidirectionalRLSP, num_layers=7, filters=48, align="dis",
    description="Two RLSP 7-48 cells, forward and backward in time, DIS-aligned and fused (vsrkit variant)",
)
register_model(
    "rlsp-bi-dis-10-64", BidirectionalRLSP, num_layers=10, filters=64, align="dis",
    description="Two RLSP 10-64 cells, forward and backward in time, DIS-aligned and fused (vsrkit variant)",
)
register_model(
    "rlsp-bi-dis-10-96", BidirectionalRLSP, num_layers=10, filters=96, align="dis",
    description="Two RLSP 10-96 cells, forward and backward in time, DIS-aligned and fused (vsrkit variant)",
)
register_model("rlsp-rgb", RLSPRGB, description="RLSP PyTorch port, RGB output, F=128")

# The project's own models (weights/shipped/MODEL_CARD.md), registered only when their weights are
# installed. `default-causal` and `default-bd-causal` are RLSP 7-48 with DIS alignment, trained for
# BI and for gauss1.5; they stream with one frame of look-ahead. `default` (used by `vsrkit upscale`
# and `make demo`) runs a bigger cell, RLSP 10-64 grown from `default-causal` and trained further,
# forward and backward in time, no fusion net: since session 17 two cells (forward: fine-tuned with
# mixed clip lengths; backward: the session-13 cell), weighted by the frames each has seen. The best
# quality, and the slowest. `default-bd` runs one cell fine-tuned for gauss1.5 both ways, averaged.
# `default-fast` is plain RLSP 7-48; `default-fast-x264` the same fine-tuned on H.264-compressed LR, and
# `default-x264` is `default` (both cells) fine-tuned that way.
_OWN_MODELS = (
    # name, class, extra constructor arguments, alignment, (layers, filters), what it is for
    ("default", BidirectionalRLSP, {"fusion_layers": 0, "tied": False}, "dis", (10, 64),
     "BI x4, forward and backward weighted by frames seen: the best quality"),
    ("default-causal", RLSP, {}, "dis", (7, 48), "BI x4, causal: streams, faster than default"),
    ("default-fast", RLSP, {}, "none", (7, 48), "BI x4, no alignment: the fastest"),
    ("default-fast-x264", RLSP, {}, "none", (7, 48), "H.264-compressed LR (bi, then CRF 23) x4, no alignment"),
    ("default-x264", BidirectionalRLSP, {"fusion_layers": 0, "tied": False}, "dis", (10, 64),
     "H.264-compressed LR (bi, then CRF 23) x4, forward and backward weighted by frames seen"),
    ("default-bd", BidirectionalRLSP, {"fusion_layers": 0, "tied": True}, "dis", (10, 64),
     "blurry LR, gauss1.5 x4, forward and backward averaged"),
    ("default-bd-causal", RLSP, {}, "dis", (7, 48), "blurry LR, gauss1.5 x4, causal"),
)
for _name, _cls, _extra, _align, (_layers, _filters), _purpose in _OWN_MODELS:
    _weights = shipped_weights(f"{_name.replace('-', '_')}.safetensors")
    if _weights is not None:
        register_model(
            _name, _cls, num_layers=_layers, filters=_filters, value_range=1.0, align=_align, **_extra,
            weights=_weights,
            description=f"RLSP {_layers}-{_filters}{' with DIS alignment' if _align == 'dis' else ''} trained by "
                        f"vsrkit ({_purpose}; Y output; see MODEL_CARD.md)",
        )
