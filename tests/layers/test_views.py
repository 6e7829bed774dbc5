"""Flips and transposes of frames and of flow fields (vsrkit.layers.views)."""

from __future__ import annotations

import pytest
import torch

from vsrkit.layers.views import VIEWS, flow_to_view, from_view, to_view
from vsrkit.layers.warp import flow_warp


@pytest.mark.parametrize("name", list(VIEWS))
def test_mapping_back_undoes_the_view(name: str) -> None:
    x = torch.rand(2, 3, 5, 7)
    seen = to_view(x, VIEWS[name])
    assert seen.is_contiguous()
    assert seen.shape[-2:] == ((7, 5) if VIEWS[name].transpose else (5, 7))
    assert torch.equal(from_view(seen, VIEWS[name]), x)


@pytest.mark.parametrize("name", list(VIEWS))
def test_a_turned_flow_warps_the_turned_image_as_the_flow_warps_the_image(name: str) -> None:
    """What makes it the same motion: warping commutes with the view."""
    torch.manual_seed(0)
    view = VIEWS[name]
    image = torch.nn.functional.interpolate(torch.rand(1, 3, 6, 8), size=(24, 32), mode="bicubic")
    flow = torch.nn.functional.interpolate(3 * torch.randn(1, 2, 3, 4), size=(24, 32), mode="bilinear")
    warped_then_turned = to_view(flow_warp(image, flow, padding_mode="border"), view)
    turned_then_warped = flow_warp(to_view(image, view), flow_to_view(flow, view), padding_mode="border")
    torch.testing.assert_close(turned_then_warped, warped_then_turned, rtol=0, atol=1e-5)


def test_flows_with_a_time_axis_turn_frame_by_frame() -> None:
    flow = torch.randn(2, 4, 2, 6, 9)  # (B, T, 2, H, W), as the bidirectional RLSP holds them
    view = VIEWS["rot90-cw"]
    turned = flow_to_view(flow, view)
    assert turned.shape == (2, 4, 2, 9, 6)
    torch.testing.assert_close(turned[1, 2], flow_to_view(flow[1, 2], view), rtol=0, atol=0)
