import pytest
import torch

from vsrkit.layers import resize
from vsrkit.layers.resize import imresize


def _dense_reference(x: torch.Tensor, out_h: int, out_w: int) -> torch.Tensor:
    """Both passes as dense float64 matrix products (height first on ties, as MATLAB)."""
    h, w = x.shape[-2:]
    sh, sw = out_h / h, out_w / w
    mh = resize._resize_matrix(h, out_h, sh, True)
    mw = resize._resize_matrix(w, out_w, sw, True)
    y = x.double()
    if sh <= sw:
        y = torch.einsum("ow,...hw->...ho", mw, torch.einsum("oh,...hw->...ow", mh, y))
    else:
        y = torch.einsum("oh,...hw->...ow", mh, torch.einsum("ow,...hw->...ho", mw, y))
    return y


@pytest.mark.parametrize(
    "shape,size",
    [((2, 3, 12, 15), (48, 60)), ((3, 7, 5), (28, 20)), ((1, 9, 16), (36, 8)), ((5, 9), (20, 27)), ((4, 4), (4, 16))],
)
def test_sparse_upscaling_matches_dense_weights(shape: tuple[int, ...], size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    x = torch.rand(shape)
    out = imresize(x, size=size)
    assert out.shape == (*shape[:-2], *size)
    assert torch.allclose(out.double(), _dense_reference(x, *size), atol=1e-6)


def test_upscaling_keeps_constants_and_non_contiguous_input() -> None:
    x = torch.full((2, 6, 8), 0.3)
    assert torch.allclose(imresize(x, scale=4), torch.full((2, 24, 32), 0.3), atol=1e-6)
    y = torch.rand(8, 6, 2).permute(2, 1, 0)  # non-contiguous view
    assert torch.allclose(imresize(y, scale=2), imresize(y.contiguous(), scale=2))
