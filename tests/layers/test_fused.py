import pytest
import torch
from torch import nn

from vsrkit.layers.fused import conv_relu, fused_conv_relu_available


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.bfloat16, 3e-2)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_fused_equals_conv_then_relu_at_inference(dtype: torch.dtype, tol: float, channels_last: bool) -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(7, 5, 3, padding=1).to(dtype)
    x = torch.randn(2, 7, 9, 11).to(dtype)
    if channels_last:
        conv, x = conv.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        ref = torch.relu(conv(x))
        out = conv_relu(conv, x)
    assert out.shape == ref.shape and out.dtype == ref.dtype
    assert (out.float() - ref.float()).abs().max() <= tol * max(1.0, ref.float().abs().max().item())
    assert out.min() >= 0


def test_training_path_keeps_gradients() -> None:
    conv = nn.Conv2d(3, 4, 3, padding=1)
    x = torch.randn(1, 3, 6, 6, requires_grad=True)
    assert not fused_conv_relu_available(x, conv)  # grad mode: never the autograd-less kernel
    conv_relu(conv, x).sum().backward()
    assert conv.weight.grad is not None and x.grad is not None and conv.weight.grad.abs().sum() > 0


def test_autocast_is_respected() -> None:
    conv = nn.Conv2d(3, 4, 3, padding=1)
    x = torch.randn(1, 3, 6, 6)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert not fused_conv_relu_available(x, conv)
        assert conv_relu(conv, x).dtype == torch.bfloat16
