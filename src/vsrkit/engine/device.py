"""Device choice shared by evaluation, training and the upscaler (never a hard-coded "cuda")."""

from __future__ import annotations

import torch

from ..errors import VsrkitError
from ..layers.fused import onednn_supports

# Precision names as the CLI, the Upscaler and training configs (`amp`) spell them.
PRECISION_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """``None``/``"auto"``: the available accelerator (CUDA, MPS, ...), else CPU; otherwise as given."""
    if isinstance(name, torch.device):
        return name
    if name is None or name == "auto":
        acc = torch.accelerator.current_accelerator(check_available=True) if hasattr(torch, "accelerator") else None
        return acc if acc is not None else torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise VsrkitError(f"unknown device {name!r} (use auto, cpu or an accelerator name)") from None
    if device.type != "cpu":
        module = getattr(torch, device.type, None)
        if module is None or not module.is_available():
            raise VsrkitError(f"device {name!r} is not available on this machine")
    return device


def slow_precision_warning(device: torch.device, dtype: torch.dtype, instead: str) -> str | None:
    """Why ``dtype`` will run slower than fp32 on ``device``, or None: bf16 or fp16 on a CPU without oneDNN kernels
    for it (an AVX2-only CPU; the upscaler's `auto` never picks it there). ``instead`` names the faster choice."""
    if device.type != "cpu" or dtype == torch.float32 or onednn_supports(dtype):
        return None
    name = next(k for k, v in PRECISION_DTYPES.items() if v == dtype)
    return (f"{name} on this CPU has no native kernels (PyTorch needs AVX-512 or AVX-NE-CONVERT for them) and runs "
            f"slower than fp32 here; {instead} is faster")
