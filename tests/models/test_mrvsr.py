"""MRVSR and RFS3 as specified in specs §1.3: sizes, Y residual, recurrence, SRNL wiring."""

from __future__ import annotations

import pytest
import torch

from vsrkit import create_model
from vsrkit.color import rgb_to_y
from vsrkit.layers.spectral_norm import SpectralNormConv2d
from vsrkit.models import count_parameters


def test_parameter_counts_and_submodule_sizes() -> None:
    assert count_parameters("mrvsr") == 1_209_360
    assert count_parameters("rfs3") == 766_864
    with torch.device("meta"):
        m = create_model("mrvsr", pretrained=False)
    size = lambda mods: sum(p.numel() for mod in mods for p in mod.parameters())
    assert size([m.xi]) == 305_664
    assert size([m.phi0, m.phi1]) == 442_624
    assert size([m.psi, m.psi_out]) == 461_072


@pytest.mark.parametrize("name", ["mrvsr", "rfs3"])
def test_zero_output_layer_gives_nearest_neighbour_y(name: str) -> None:
    model = create_model(name, pretrained=False, filters=4).eval()
    head = model.psi_out if name == "mrvsr" else model.output_head
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        clip = torch.rand(1, 3, 3, 5, 6)
        out = model(clip)
    expected = rgb_to_y(clip[0]).repeat_interleave(4, -2).repeat_interleave(4, -1)
    torch.testing.assert_close(out[0], expected, rtol=0, atol=1e-6)
    # MATLAB BT.601 as the official code: 16/255 + 0.256788 R + 0.504129 G + 0.097906 B.
    rgb = torch.tensor([0.2, 0.5, 0.9]).view(3, 1, 1)
    assert rgb_to_y(rgb).item() == pytest.approx(16 / 255 + 0.256788235 * 0.2 + 0.504129412 * 0.5 + 0.097905882 * 0.9)


def test_mrvsr_remembers_rfs3_does_not() -> None:
    clip = torch.rand(1, 6, 3, 8, 8)
    changed = clip.clone()
    changed[:, 0] = torch.rand(3, 8, 8)
    for name, remembers in (("mrvsr", True), ("rfs3", False)):
        model = create_model(name, pretrained=False, filters=4, **({"srnl_target": None} if name == "mrvsr" else {}))
        with torch.no_grad():
            diff = (model.eval()(clip)[:, 4:] - model(changed)[:, 4:]).abs().max().item()
        assert (diff > 0) == remembers, name


def test_srnl_wiring() -> None:
    m = create_model("mrvsr", pretrained=False, filters=4)
    assert isinstance(m.phi0, SpectralNormConv2d) and isinstance(m.phi1, SpectralNormConv2d)
    assert m.phi0.target == 1.0
    plain = create_model("mrvsr", pretrained=False, filters=4, srnl_target=None)
    assert type(plain.phi0) is torch.nn.Conv2d
    assert set(m.state_dict()) == set(plain.state_dict())
    with pytest.raises(ValueError, match="srnl_target"):
        create_model("mrvsr", pretrained=False, filters=4, srnl_target=-1.0)
