import copy

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


def test_low_precision_without_cpu_kernels_is_not_fused(monkeypatch: pytest.MonkeyPatch) -> None:
    # On an AVX2-only CPU the fused operator refuses bf16 ("bf16 path needs the cpu support avx_ne_convert or
    # avx512bw..."), where a plain convolution still runs: such a CPU must get the unfused path.
    from vsrkit.layers import fused

    conv32, x32 = nn.Conv2d(3, 4, 3, padding=1), torch.randn(1, 3, 6, 6)
    conv, x = copy.deepcopy(conv32).to(torch.bfloat16), x32.to(torch.bfloat16)
    monkeypatch.setattr(fused, "onednn_supports", lambda dtype: dtype == torch.float32)
    with torch.inference_mode():
        assert not fused_conv_relu_available(x, conv)
        assert fused_conv_relu_available(x32, conv32) == (fused._FUSED_CONV is not None)
        torch.testing.assert_close(conv_relu(conv, x), torch.relu(conv(x)), rtol=0, atol=0)
