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


def test_full_resolution_dis_recovers_a_subpixel_shift_more_accurately() -> None:
    # The medium preset stops at half resolution (finest scale 1) and upsamples the flow; on frames
    # as small as LR crops that costs sub-pixel accuracy, which is what the RLSP models use it for.
    generator = torch.Generator().manual_seed(0)
    supp = F.interpolate(torch.rand(1, 3, 12, 12, generator=generator), size=(64, 64), mode="bicubic",
                         align_corners=False).clamp(0, 1)
    true = torch.tensor([0.6, -1.3]).view(1, 2, 1, 1).expand(1, 2, 64, 64).contiguous()
    ref = flow_warp(supp, true)
    errors = {}
    for finest_scale in (None, 0):
        flow = DISFlow(finest_scale=finest_scale)(ref, supp)
        errors[finest_scale] = (flow - true)[..., 12:-12, 12:-12].norm(dim=1).mean().item()
    assert errors[0] < 0.02 and errors[0] < errors[None] / 2, errors
    with pytest.raises(ValueError, match="finest_scale"):
        DISFlow(finest_scale=-1)
