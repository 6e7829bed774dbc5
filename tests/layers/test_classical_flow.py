"""OpenCV DIS flow provider: convention matches flow_warp on a smooth translated image."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vsrkit.layers.warp import flow_warp

pytest.importorskip("cv2", reason="optional extra vsrkit[flow]")

from vsrkit.layers.classical_flow import DISFlow


def test_dis_recovers_a_translation_in_warp_convention() -> None:
    torch.manual_seed(0)
    base = F.interpolate(torch.rand(1, 3, 12, 16), size=(72, 96), mode="bicubic", align_corners=False).clamp(0, 1)
    ref = base[..., 4:68, 4:92]
    supp = base[..., 4:68, 7:95]  # content moved 3 px left: ref(x) = supp(x - 3)
    flow = DISFlow("medium")(ref, supp)
    centre = flow[..., 16:-16, 16:-16]
    assert abs(centre[:, 0].median().item() + 3) < 0.5 and abs(centre[:, 1].median().item()) < 0.5
    warped = flow_warp(supp, flow)
    assert (warped - ref)[..., 16:-16, 16:-16].abs().mean() < (supp - ref)[..., 16:-16, 16:-16].abs().mean() / 3
