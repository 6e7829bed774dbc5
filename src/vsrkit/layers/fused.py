"""Convolution followed by ReLU in one oneDNN call on the CPU at inference.

Small recurrent cells (RLSP: nine 3x3 convs on a 180x144 frame) spend a large share of their time in
the separate ReLU pass over each conv output; oneDNN applies the ReLU as a post-op of the
convolution instead. On this project's CPU, one RLSP 7-48 step in bf16 with channels-last inputs went
from 37.4 to 28.6 ms on one thread (``benchmarks/upscale_speed.py`` reports the end result).

The fused kernel is a PyTorch-internal operator (the one TorchInductor emits on CPU) without
autograd, so it is used only when no gradient is recorded, no autocast is active and the operator
exists in the installed torch build with kernels for the dtype on this CPU; otherwise this is ``relu(conv(x))``.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import Tensor, nn


def _find_fused_op() -> Any:
    mkldnn = getattr(torch.ops, "mkldnn", None)
    if mkldnn is None or not torch.backends.mkldnn.is_available():
        return None
    try:
        return mkldnn._convolution_pointwise
    except (AttributeError, RuntimeError):
        return None


_FUSED_CONV = _find_fused_op()
_ONEDNN_PROBES = {torch.bfloat16: "_is_mkldnn_bf16_supported", torch.float16: "_is_mkldnn_fp16_supported"}


@functools.cache
def onednn_supports(dtype: torch.dtype) -> bool:
    """Whether oneDNN has CPU kernels for ``dtype`` here. bf16 and fp16 need AVX-512 (BW/VL/DQ) or AVX-NE-CONVERT:
    on an AVX2-only CPU PyTorch runs their convolutions in reference loops (one 64-channel 3x3 conv at 64x64 on an
    AVX2 AMD EPYC, bf16 against contiguous fp32: 2.2x the time channels-last, 55x contiguous) and the fused operator
    refuses them outright."""
    if dtype == torch.float32:
        return torch.backends.mkldnn.is_available()
    try:
        probe = getattr(torch.ops.mkldnn, _ONEDNN_PROBES[dtype])
        return bool(probe())
    except (KeyError, AttributeError, RuntimeError):
        return False


def _cpu_autocast_enabled() -> bool:
    try:
        return torch.is_autocast_enabled("cpu")
    except TypeError:  # torch < 2.4 has no device argument
        return torch.is_autocast_cpu_enabled()


def fused_conv_relu_available(x: Tensor, conv: nn.Conv2d) -> bool:
    return (
        _FUSED_CONV is not None
        and x.device.type == "cpu"
        and x.dtype in (torch.float32, torch.bfloat16)
        and x.dtype == conv.weight.dtype
        and onednn_supports(x.dtype)
        and conv.padding_mode == "zeros"
        and not isinstance(conv.padding, str)
        and not torch.is_grad_enabled()
        and not _cpu_autocast_enabled()
        # An internal operator: ONNX and TorchScript graphs must hold the plain conv and ReLU.
        and not torch.jit.is_tracing()
    )


def conv_relu(conv: nn.Conv2d, x: Tensor) -> Tensor:
    """``relu(conv(x))``; fused into the convolution on the CPU at inference."""
    if fused_conv_relu_available(x, conv):
        return _FUSED_CONV(
            x, conv.weight, conv.bias, list(conv.padding), list(conv.stride), list(conv.dilation),
            conv.groups, "relu", [], "",
        )
    return torch.relu_(conv(x))
