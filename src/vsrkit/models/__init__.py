"""All registered architectures. Importing a model file registers its presets; the list is explicit."""

from . import bicubic, cascade, davsr, hirn, iart, mrvsr, rfs3, rlsp  # noqa: F401
from ._registry import count_parameters, create_model, get_preset, list_models, register_model
from .base import StreamingVSRModel, VSRModel

__all__ = [
    "StreamingVSRModel",
    "VSRModel",
    "count_parameters",
    "create_model",
    "get_preset",
    "list_models",
    "register_model",
]
