import av
import numpy as np
import pytest
import torch
from av.video.reformatter import ColorRange, Colorspace

from vsrkit.color import (
    LUMA_TO_RGB_GAIN,
    VIDEO_MATRICES,
    chroma_to_rgb,
    rgb_to_ycbcr,
    rgb_to_yuv420,
    ycbcr_to_rgb,
)
from vsrkit.layers.resize import imresize


def test_chroma_part_plus_luma_is_the_inverse_transform() -> None:
    torch.manual_seed(0)
    rgb = torch.rand(2, 3, 10, 12)
    y = torch.rand(2, 1, 10, 12) * 0.8 + 0.1
    cbcr = rgb_to_ycbcr(rgb)[:, 1:]
    expected = ycbcr_to_rgb(torch.cat([y, cbcr], dim=1))
    assert torch.allclose(chroma_to_rgb(rgb) + LUMA_TO_RGB_GAIN * (y - 16 / 255), expected, atol=1e-6)
    # Resampling commutes with it (the Upscaler upsamples the chroma part at LR size).
    y_hr = torch.rand(2, 1, 40, 48)
    old = ycbcr_to_rgb(torch.cat([y_hr, imresize(cbcr, scale=4)], dim=1))
    new = imresize(chroma_to_rgb(rgb), scale=4) + LUMA_TO_RGB_GAIN * (y_hr - 16 / 255)
    assert torch.allclose(old, new, atol=1e-5)


def _swscale_and_ours(rgb: np.ndarray, matrix: Colorspace, full_range: bool) -> tuple[np.ndarray, np.ndarray]:
    arr = (rgb * 255).round().astype(np.uint8)
    ref = av.VideoFrame.from_ndarray(arr, format="rgb24").reformat(
        format="yuv420p", dst_colorspace=matrix, dst_color_range=ColorRange.JPEG if full_range else ColorRange.MPEG
    ).to_ndarray()
    kr, kb = VIDEO_MATRICES[int(matrix)]
    ours = rgb_to_yuv420(torch.from_numpy(arr).permute(2, 0, 1).float() / 255, kr=kr, kb=kb, full_range=full_range)
    assert ours.dtype == torch.uint8 and tuple(ours.shape) == ref.shape == (rgb.shape[0] * 3 // 2, rgb.shape[1])
    return ours.numpy().astype(int), ref.astype(int)


@pytest.mark.parametrize("matrix", [Colorspace.ITU601, Colorspace.ITU709, Colorspace.BT2020])
@pytest.mark.parametrize("full_range", [False, True])
def test_yuv420_matches_libswscale(matrix: Colorspace, full_range: bool) -> None:
    h, w = 16, 24
    flat = np.broadcast_to(np.array([0.1, 0.6, 0.3]), (h, w, 3))
    ours, ref = _swscale_and_ours(flat, matrix, full_range)
    assert np.abs(ours - ref).max() <= 1
    yy, xx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
    ramp = np.stack([yy, xx, 1 - 0.5 * (xx + yy)], axis=-1)
    ours, ref = _swscale_and_ours(ramp, matrix, full_range)
    assert np.abs(ours[:h] - ref[:h]).max() <= 1  # luma
    assert np.abs(ours[h:] - ref[h:]).max() <= 2  # chroma: 2x2 mean vs swscale's own filter


def test_yuv420_rejects_odd_sizes() -> None:
    with pytest.raises(ValueError, match="even"):
        rgb_to_yuv420(torch.rand(3, 5, 8), kr=0.299, kb=0.114, full_range=False)
