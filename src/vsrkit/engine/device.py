"""Device choice shared by evaluation, training and the upscaler (never a hard-coded "cuda")."""

from __future__ import annotations

import torch

from ..errors import VsrkitError


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
