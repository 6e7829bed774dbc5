"""Metrics: PSNR/SSIM (:mod:`.functional`) and named paper protocols (:mod:`.protocols`)."""

from .functional import crop_border, psnr, ssim
from .protocols import Protocol, get_protocol, list_protocols, register_protocol

__all__ = ["Protocol", "crop_border", "get_protocol", "list_protocols", "psnr", "register_protocol", "ssim"]
