"""Degradations: HR frames to (LR input, target) pairs. See :mod:`._registry` for the contract.

Registered: ``bi`` (MATLAB bicubic), ``bd`` (Gaussian σ = 1.6), ``gauss1.5`` (RLSP), ``mrvsr`` and
``mrvsr-qsv`` (MRVSR, 16-bit LR), ``bi-x264-18/23/28/33`` (``bi``, then H.264 at that CRF), ``bi-x264-mix`` (clean or a CRF from 18 to 33 per clip). Spatial ones
mod-crop the HR at the bottom/right to a multiple of the scale; ``mrvsr`` centre-crops to a multiple of 32.
"""

from . import bicubic, compression, gaussian, stvsr  # noqa: F401
from ._registry import (
    Degradation,
    SpatialDegradation,
    degrade,
    get_degradation,
    list_degradations,
    mod_crop,
    register_degradation,
)

__all__ = [
    "Degradation",
    "SpatialDegradation",
    "degrade",
    "get_degradation",
    "list_degradations",
    "mod_crop",
    "register_degradation",
]
