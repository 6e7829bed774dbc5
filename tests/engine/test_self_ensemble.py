"""Geometric self-ensemble: views mapped back exactly, streaming and chunked paths both honoured."""

from __future__ import annotations

import pytest
import torch

from vsrkit import create_model
from vsrkit.engine.self_ensemble import with_self_ensemble
from vsrkit.engine.upscaler import Upscaler
from vsrkit.errors import VsrkitError
from vsrkit.models.base import VSRModel


def _views_by_hand(model: torch.nn.Module, lr: torch.Tensor) -> torch.Tensor:
    """The 8-view mean written out, transform by transform."""
    outs = []
    for transpose in (False, True):
        for dims in ((), (-1,), (-2,), (-2, -1)):
            x = lr.transpose(-1, -2) if transpose else lr
            x = x.flip(dims) if dims else x
            y = model(x.contiguous())
            y = y.flip(dims) if dims else y
            outs.append(y.transpose(-1, -2) if transpose else y)
    return torch.stack(outs).mean(0)


@pytest.mark.parametrize("name", ["rlsp-dis-7-48", "rlsp-bi-dis-7-48"])
def test_eight_views_are_the_mean_of_the_transformed_runs(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name, pretrained=False, filters=8).eval()
    lr = torch.rand(1, 3, 3, 12, 16)
    with torch.no_grad():
        ensembled = with_self_ensemble(model, 8)(lr)
        single = model(lr)
        torch.testing.assert_close(ensembled, _views_by_hand(model, lr), rtol=0, atol=1e-6)
    assert ensembled.shape == single.shape
    assert (ensembled - single).abs().max() > 1e-4  # a random network is not equivariant


def test_an_equivariant_model_is_unchanged() -> None:
    """Bicubic resizing is symmetric, so every view maps back to the same output."""
    lr = torch.rand(1, 2, 3, 10, 14)
    model = create_model("bicubic")
    with torch.no_grad():
        torch.testing.assert_close(with_self_ensemble(model, 8)(lr), model(lr), rtol=0, atol=1e-5)


def test_upscaler_streams_the_ensemble_with_one_state_per_view() -> None:
    """Frame by frame through the Upscaler (recurrent path) equals the wrapped whole-clip run."""
    torch.manual_seed(1)
    model = create_model("rlsp-7-48", pretrained=False, filters=8, value_range=1.0).eval()
    lr = torch.rand(5, 3, 12, 16)
    up = Upscaler(model, device="cpu", precision="fp32", self_ensemble=4)
    assert up.name == "rlsp-7-48 x4 self-ensemble"
    streamed = torch.cat([out for _, out, _ in up._outputs(iter(lr))])
    with torch.no_grad():
        whole = with_self_ensemble(model, 4)(lr[None])[0]
    torch.testing.assert_close(streamed, whole, rtol=0, atol=1e-5)


def test_sizes_other_than_1_2_4_8_are_refused() -> None:
    with pytest.raises(VsrkitError, match="--self-ensemble must be one of 1, 2, 4, 8, got 3"):
        with_self_ensemble(create_model("bicubic"), 3)
    model = create_model("bicubic")
    assert with_self_ensemble(model, 1) is model


class _CornerAnchoredLinear(VSRModel):
    """What a model trained on corner-sampled LR does: LR pixel i lands on HR pixel S * i (linear in
    between, the edge repeated past the last sample), so a linear ramp sampled at [0::S] comes back exactly."""

    arch = "corner-linear"
    kind = "sliding-window"
    scale = 4

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        b, t, c, h, w = lr.shape
        x = torch.nn.functional.pad(lr.reshape(b * t, c, h, w), (0, 1, 0, 1), mode="replicate")
        up = torch.nn.functional.interpolate(x, size=(4 * h + 1, 4 * w + 1), mode="bilinear", align_corners=True)
        return up[..., : 4 * h, : 4 * w].reshape(b, t, c, 4 * h, 4 * w)


@pytest.mark.parametrize("views", [2, 4, 8])
def test_mirrored_views_of_corner_sampled_models_are_put_back_in_phase(views: int) -> None:
    """A mirrored view of [0::4]-sampled LR is the mirrored HR sampled at the other corner; mapped back
    naively the output is 3 px off (default-bd fell from 25.51 to 21.90 dB on Vid4 with 8 views)."""
    ys, xs = torch.meshgrid(torch.arange(32.0), torch.arange(40.0), indexing="ij")
    hr = ((0.3 + 0.011 * xs + 0.007 * ys) / 2).expand(1, 2, 3, 32, 40)
    lr = hr[..., ::4, ::4]
    model = _CornerAnchoredLinear()
    interior = (..., slice(0, 28), slice(0, 36))  # the last S - 1 rows and columns repeat the edge
    torch.testing.assert_close(model(lr)[interior], hr[interior], rtol=0, atol=1e-6)
    naive = with_self_ensemble(model, views)(lr)
    assert (naive - hr)[interior].abs().max() > 0.005
    model.trained_for = "gauss1.5"
    ensembled = with_self_ensemble(model, views)
    assert ensembled.trained_for == "gauss1.5"
    torch.testing.assert_close(ensembled(lr)[interior], hr[interior], rtol=0, atol=1e-6)


def test_shipped_models_know_their_training_degradation() -> None:
    assert create_model("default-bd").trained_for == "gauss1.5"
    assert create_model("default").trained_for == "bi"
