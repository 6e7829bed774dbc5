"""Degradation registry.

A degradation turns ground-truth HR frames ``(T, 3, H, W)`` (float RGB in [0, 1]) into the model's
LR input and the target the metrics compare against: ``pair(hr, scale) -> (lr, target)``. Spatial
degradations keep one LR frame per HR frame and their target is the HR mod-cropped so that
``target`` is exactly ``scale`` times the LR size. Space-time degradations (``temporal_scale > 1``)
may return fewer LR frames than target frames; evaluation never assumes ``len(lr) == len(target)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from torch import Tensor

from ..errors import VsrkitError


@runtime_checkable
class Degradation(Protocol):
    name: str

    def pair(self, hr: Tensor, scale: int) -> tuple[Tensor, Tensor]: ...


def mod_crop(hr: Tensor, scale: int) -> Tensor:
    """Crop the bottom and right so that H and W are multiples of ``scale`` (BasicSR's convention)."""
    h, w = hr.shape[-2:]
    return hr[..., : h - h % scale, : w - w % scale]


def check_hr(hr: Tensor, scale: int) -> None:
    if not isinstance(scale, int) or isinstance(scale, bool) or scale < 1:
        raise VsrkitError(f"scale must be a positive integer, got {scale!r}")
    if hr.ndim < 3 or hr.shape[-3] != 3:
        raise ValueError(f"expected RGB frames (..., 3, H, W), got shape {tuple(hr.shape)}")
    if not hr.is_floating_point():
        raise TypeError(f"expected float frames in [0, 1], got {hr.dtype}")
    if min(hr.shape[-2:]) < scale:
        raise VsrkitError(f"frames of size {tuple(hr.shape[-2:])} are too small for scale {scale}")


class SpatialDegradation:
    """A per-frame degradation ``fn(hr, scale) -> lr`` applied to the mod-cropped HR.

    ``crop(hr, scale)`` chooses the target (default: :func:`mod_crop`); ``fn`` receives the cropped
    frames and must return frames exactly ``scale`` times smaller.
    """

    temporal_scale = 1

    def __init__(
        self,
        name: str,
        fn: Callable[[Tensor, int], Tensor],
        *,
        description: str = "",
        crop: Callable[[Tensor, int], Tensor] = mod_crop,
        bits: int = 8,
    ) -> None:
        self.name = name
        self.fn = fn
        self.description = description
        self.crop = crop
        # Bit depth of the LR frames it produces (what `vsrkit degrade` writes).
        self.bits = bits

    def pair(self, hr: Tensor, scale: int) -> tuple[Tensor, Tensor]:
        check_hr(hr, scale)
        target = self.crop(hr, scale)
        lr = self.fn(target, scale)
        h, w = target.shape[-2:]
        if lr.shape[-2:] != (h // scale, w // scale):
            raise RuntimeError(
                f"degradation {self.name!r} returned {tuple(lr.shape[-2:])} for {(h, w)} at scale {scale}"
            )
        return lr, target

    def __call__(self, hr: Tensor, scale: int) -> Tensor:
        return self.pair(hr, scale)[0]

    def __repr__(self) -> str:
        return f"SpatialDegradation({self.name!r})"


_DEGRADATIONS: dict[str, Degradation] = {}


def register_degradation(name: str, fn_or_obj: Degradation | Callable[[Tensor, int], Tensor]) -> Degradation:
    """Register an object with ``pair(hr, scale)``, or a plain ``fn(hr, scale) -> lr`` (spatial,
    applied to the mod-cropped HR, which becomes the target)."""
    if name in _DEGRADATIONS:
        raise ValueError(f"degradation {name!r} already registered")
    if hasattr(fn_or_obj, "pair"):
        obj = fn_or_obj
    elif callable(fn_or_obj):
        obj = SpatialDegradation(
            name, fn_or_obj, description=(fn_or_obj.__doc__ or "").strip().split("\n")[0]
        )
    else:
        raise TypeError(f"expected a callable or an object with pair(), got {fn_or_obj!r}")
    _DEGRADATIONS[name] = obj  # type: ignore[assignment]
    return obj  # type: ignore[return-value]


def list_degradations() -> list[str]:
    return sorted(_DEGRADATIONS)


def get_degradation(name: str) -> Degradation:
    try:
        return _DEGRADATIONS[name]
    except KeyError:
        raise VsrkitError(
            f"unknown degradation {name!r}; available: {', '.join(list_degradations())}"
        ) from None


def degrade(hr: Tensor, name: str, scale: int) -> Tensor:
    """LR frames of ``hr`` under the named degradation."""
    return get_degradation(name).pair(hr, scale)[0]
