"""Small PNG charts drawn with Pillow (no matplotlib dependency): line plots and image grids.

Enough for the analysis figures: axes with round-number ticks, a legend, optional horizontal
reference lines. Files are written to a temporary name and renamed, like every vsrkit output.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

PALETTE = [
    (31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
]


def _font() -> ImageFont.ImageFont:
    return ImageFont.load_default()


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round-number ticks covering ``[lo, hi]`` (1, 2, 5 × 10^k steps)."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        raise ValueError(f"non-finite axis range {lo}..{hi}")
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(1, count - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        if t >= lo - step * 1e-9:
            ticks.append(round(t, 10))
        t += step
    return ticks


def _fmt(v: float) -> str:
    return f"{v:g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.1e}"


def save_png(image: Image.Image, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    image.save(tmp, format="PNG", optimize=True)
    tmp.replace(path)
    return path


def line_plot(
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    path: str | Path,
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    ylim: tuple[float, float] | None = None,
    hlines: Sequence[float] = (),
    size: tuple[int, int] = (720, 440),
) -> Path:
    """One chart with one polyline per series (``{label: (xs, ys)}``)."""
    width, height = size
    left, right, top, bottom = 64, 16 + 150, 30, 44
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = _font()
    xs_all = np.concatenate([np.asarray(x, dtype=float) for x, _ in series.values()]) if series else np.zeros(1)
    ys_all = np.concatenate([np.asarray(y, dtype=float) for _, y in series.values()]) if series else np.zeros(1)
    ys_all = ys_all[np.isfinite(ys_all)]
    x0, x1 = float(xs_all.min()), float(xs_all.max())
    if ylim is None:
        y0, y1 = (float(ys_all.min()), float(ys_all.max())) if ys_all.size else (0.0, 1.0)
        pad = 0.05 * (y1 - y0 or 1.0)
        y0, y1 = y0 - pad, y1 + pad
    else:
        y0, y1 = ylim
    if x1 <= x0:
        x1 = x0 + 1.0
    if y1 <= y0:
        y1 = y0 + 1.0
    pw, ph = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return top + (1.0 - (min(max(y, y0), y1) - y0) / (y1 - y0)) * ph

    for t in nice_ticks(y0, y1):
        yy = py(t)
        draw.line([(left, yy), (left + pw, yy)], fill=(232, 232, 232))
        draw.text((4, yy - 6), _fmt(t), fill="black", font=font)
    for t in nice_ticks(x0, x1):
        xx = px(t)
        draw.line([(xx, top + ph), (xx, top + ph + 4)], fill="black")
        draw.text((xx - 8, top + ph + 6), _fmt(t), fill="black", font=font)
    for h in hlines:
        if y0 <= h <= y1:
            draw.line([(left, py(h)), (left + pw, py(h))], fill=(90, 90, 90), width=1)
    draw.rectangle([left, top, left + pw, top + ph], outline="black")
    for i, (label, (xs, ys)) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        pts = [(px(float(x)), py(float(y))) for x, y in zip(xs, ys) if math.isfinite(float(y))]
        if len(pts) > 1:
            draw.line(pts, fill=colour, width=2)
        elif pts:
            draw.ellipse([pts[0][0] - 2, pts[0][1] - 2, pts[0][0] + 2, pts[0][1] + 2], fill=colour)
        ly = top + 8 + 16 * i
        draw.line([(left + pw + 10, ly + 6), (left + pw + 30, ly + 6)], fill=colour, width=3)
        draw.text((left + pw + 34, ly), label[:20], fill="black", font=font)
    draw.text((left, 8), title, fill="black", font=font)
    draw.text((left + pw // 2 - 3 * len(xlabel), height - 16), xlabel, fill="black", font=font)
    draw.text((4, 12), ylabel, fill=(60, 60, 60), font=font)
    return save_png(img, path)


def to_uint8_image(array: np.ndarray) -> np.ndarray:
    """``(H, W)`` or ``(H, W, 3)`` float in [0, 1] -> uint8."""
    return (np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def image_grid(
    rows: Sequence[Sequence[np.ndarray]],
    path: str | Path,
    *,
    row_labels: Sequence[str] = (),
    col_labels: Sequence[str] = (),
    title: str = "",
    gap: int = 2,
) -> Path:
    """Tiles of equal-size ``(H, W)`` or ``(H, W, 3)`` float images in [0, 1], row by row."""
    tiles = [[to_uint8_image(t) for t in row] for row in rows]
    th, tw = tiles[0][0].shape[:2]
    ncols = max(len(r) for r in tiles)
    label_w = 70 if row_labels else 0
    head = (16 if title else 0) + (14 if col_labels else 0)
    width = label_w + ncols * (tw + gap)
    height = head + len(tiles) * (th + gap)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    font = _font()
    if title:
        draw.text((2, 2), title, fill="black", font=font)
    if col_labels:
        for j, lab in enumerate(col_labels):
            draw.text((label_w + j * (tw + gap) + 1, head - 13), lab, fill="black", font=font)
    for i, row in enumerate(tiles):
        y = head + i * (th + gap)
        if i < len(row_labels):
            draw.text((2, y + th // 2 - 6), row_labels[i], fill="black", font=font)
        for j, tile in enumerate(row):
            mode = "L" if tile.ndim == 2 else "RGB"
            img.paste(Image.fromarray(tile, mode=mode).convert("RGB"), (label_w + j * (tw + gap), y))
    return save_png(img, path)
