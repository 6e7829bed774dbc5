"""Modulated deformable convolution against plain conv and a naive per-tap reference."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from vsrkit.layers.dcn import ModulatedDeformConv2d, modulated_deform_conv2d


def _bilinear_zero(img: torch.Tensor, y: float, x: float) -> torch.Tensor:
    """mmcv's sampling of one point from ``img`` (C, H, W): corners outside the image are zero."""
    c, h, w = img.shape
    y0, x0 = math.floor(y), math.floor(x)
    out = torch.zeros(c, dtype=img.dtype)
    for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
        for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
            if 0 <= yy < h and 0 <= xx < w:
                out += wy * wx * img[:, yy, xx]
    return out


def _naive(x, offset, mask, weight, bias, stride, pad, dil, dg):  # type: ignore[no-untyped-def]
    b, cin, h, w = x.shape
    cout, _, kh, kw = weight.shape
    ho = (h + 2 * pad - dil * (kh - 1) - 1) // stride + 1
    wo = (w + 2 * pad - dil * (kw - 1) - 1) // stride + 1
    cpg = cin // dg
    out = torch.zeros(b, cout, ho, wo, dtype=x.dtype)
    for n in range(b):
        for oy in range(ho):
            for ox in range(wo):
                col = torch.zeros(cin, kh, kw, dtype=x.dtype)
                for g in range(dg):
                    for i in range(kh):
                        for j in range(kw):
                            k = i * kw + j
                            dy = offset[n, 2 * (g * kh * kw + k), oy, ox].item()
                            dx = offset[n, 2 * (g * kh * kw + k) + 1, oy, ox].item()
                            m = mask[n, g * kh * kw + k, oy, ox].item()
                            py = oy * stride - pad + i * dil + dy
                            px = ox * stride - pad + j * dil + dx
                            col[g * cpg : (g + 1) * cpg, i, j] = m * _bilinear_zero(x[n, g * cpg : (g + 1) * cpg], py, px)
                out[n, :, oy, ox] = (weight * col).flatten(1).sum(1) + bias
    return out


def test_zero_offset_unit_mask_equals_conv() -> None:
    layer = ModulatedDeformConv2d(8, 5, 3, padding=1, deform_groups=4).double()
    torch.nn.init.normal_(layer.bias)
    x = torch.rand(2, 8, 7, 6, dtype=torch.float64)
    offset = torch.zeros(2, 2 * 4 * 9, 7, 6, dtype=torch.float64)
    mask = torch.ones(2, 4 * 9, 7, 6, dtype=torch.float64)
    torch.testing.assert_close(layer(x, offset, mask), F.conv2d(x, layer.weight, layer.bias, padding=1))


@pytest.mark.parametrize("stride,pad,dil", [(1, 1, 1), (2, 0, 1), (1, 2, 2)])
def test_matches_naive_reference_on_random_offsets(stride: int, pad: int, dil: int) -> None:
    dg, cin, cout = 2, 4, 3
    x = torch.rand(1, cin, 6, 5, dtype=torch.float64)
    weight = torch.randn(cout, cin, 3, 3, dtype=torch.float64)
    bias = torch.randn(cout, dtype=torch.float64)
    ho = (6 + 2 * pad - dil * 2 - 1) // stride + 1
    wo = (5 + 2 * pad - dil * 2 - 1) // stride + 1
    # Offsets up to ±3 px push many taps across the border, exercising the zero corners.
    offset = (torch.rand(1, 2 * dg * 9, ho, wo, dtype=torch.float64) * 6 - 3)
    mask = torch.rand(1, dg * 9, ho, wo, dtype=torch.float64)
    out = modulated_deform_conv2d(
        x, offset, mask, weight, bias, stride=stride, padding=pad, dilation=dil, deform_groups=dg
    )
    torch.testing.assert_close(out, _naive(x, offset, mask, weight, bias, stride, pad, dil, dg))


def test_conv_groups_match_grouped_conv() -> None:
    x = torch.rand(1, 6, 5, 5, dtype=torch.float64)
    weight = torch.randn(4, 3, 3, 3, dtype=torch.float64)
    out = modulated_deform_conv2d(
        x, torch.zeros(1, 18, 5, 5, dtype=torch.float64), None, weight, None, padding=1, groups=2
    )
    torch.testing.assert_close(out, F.conv2d(x, weight, padding=1, groups=2))


def test_gradients_reach_offsets_masks_weights_and_input() -> None:
    layer = ModulatedDeformConv2d(4, 4, 3, padding=1, deform_groups=2)
    x = torch.rand(1, 4, 6, 6, requires_grad=True)
    offset = (torch.rand(1, 36, 6, 6) - 0.5).requires_grad_()
    mask = torch.rand(1, 18, 6, 6).requires_grad_()
    layer(x, offset, mask).square().sum().backward()
    for name, t in {"x": x, "offset": offset, "mask": mask, "weight": layer.weight, "bias": layer.bias}.items():
        assert t.grad is not None and t.grad.abs().sum() > 0, name


def test_bad_offset_shape_is_rejected() -> None:
    layer = ModulatedDeformConv2d(4, 4, 3, padding=1)
    with pytest.raises(ValueError, match="offset"):
        layer(torch.rand(1, 4, 5, 5), torch.zeros(1, 17, 5, 5), None)
