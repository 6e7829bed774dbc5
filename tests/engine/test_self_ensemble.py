"""Geometric self-ensemble: views mapped back exactly, streaming and chunked paths both honoured."""

from __future__ import annotations

import pytest
import torch

from vsrkit import create_model
from vsrkit.engine.self_ensemble import with_self_ensemble
from vsrkit.engine.upscaler import Upscaler
from vsrkit.errors import VsrkitError


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
    streamed = torch.cat([out for out, _ in up._outputs(iter(lr))])
    with torch.no_grad():
        whole = with_self_ensemble(model, 4)(lr[None])[0]
    torch.testing.assert_close(streamed, whole, rtol=0, atol=1e-5)


def test_sizes_other_than_1_2_4_8_are_refused() -> None:
    with pytest.raises(VsrkitError, match="--self-ensemble must be one of 1, 2, 4, 8, got 3"):
        with_self_ensemble(create_model("bicubic"), 3)
    model = create_model("bicubic")
    assert with_self_ensemble(model, 1) is model


def test_models_trained_on_corner_sampled_lr_are_refused() -> None:
    """default-bd learned gauss1.5's [0::4] sampling phase, which mirrored views move by 3 HR pixels
    (measured: 25.51 -> 21.90 dB on Vid4 with 8 views); default was trained on centred bicubic."""
    bd = create_model("default-bd")
    assert bd.trained_for == "gauss1.5"
    with pytest.raises(VsrkitError, match="trained on 'gauss1.5'"):
        with_self_ensemble(bd, 2)
    with pytest.raises(VsrkitError, match="trained on 'gauss1.5'"):
        Upscaler(bd, device="cpu", precision="fp32", self_ensemble=8)
    assert create_model("default").trained_for == "bi"
    assert with_self_ensemble(create_model("default"), 2) is not None
