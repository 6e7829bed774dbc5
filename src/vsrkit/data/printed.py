"""Procedurally rendered printed matter: pages of text, tables, signs and fine regular patterns.

The photographs the package registries hold are almost all nature; none shows printed text, and
only a few show the regular structure of buildings (windows, railings, tiles). Real video is full
of both (signs, captions, calendars, facades), and they are where a super-resolution model most
needs other frames: a stroke or a grid line narrower than an LR pixel aliases differently in every
frame. This module renders such pages at twice their stored size with real fonts (from Debian font
packages), blurs them slightly like a lens, and stores them downscaled, so that
:mod:`vsrkit.data.motion` can film them like the corpus's photographs.

Deterministic: page ``i`` of a build is drawn from ``(seed, i)`` and the sorted font list alone.
Training and validation use disjoint font packages (:data:`TRAIN_FONT_PACKAGES`,
:data:`VAL_FONT_PACKAGES`), so validation measures text the model has never seen rendered.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ..errors import VsrkitError
from ..io.jsonfile import write_json
from ..layers.resize import imresize
from .corpus import debian_package

TRAIN_FONT_PACKAGES = (
    "fonts-dejavu-core", "fonts-urw-base35", "fonts-freefont-ttf", "fonts-open-sans",
    "fonts-roboto-unhinted", "fonts-linuxlibertine",
)
VAL_FONT_PACKAGES = ("fonts-liberation2", "fonts-crosextra-carlito", "fonts-crosextra-caladea", "fonts-cantarell")
PRINTED_VERSION = 1

# English letter frequencies (per mille), for pseudo-words with realistic letter shapes and widths.
_LETTERS = "etaoinshrdlcumwfgypbvkjxqz"
_LETTER_P = np.array([127, 91, 82, 75, 70, 67, 63, 61, 60, 43, 40, 28, 28, 24, 24, 22, 20, 20, 19, 15, 10, 8, 2, 2, 1, 1],
                     dtype=np.float64)
_LETTER_P /= _LETTER_P.sum()


def _renders_latin(path: Path) -> bool:
    # A font without ordinary letters draws the missing-glyph box for each, which teaches nothing a
    # rectangle does not.
    font = ImageFont.truetype(str(path), 40)
    missing = np.asarray(font.getmask("\u0378"))
    for letter in "aeg":
        mask = np.asarray(font.getmask(letter))
        if mask.shape == missing.shape and np.array_equal(mask, missing):
            return False
    return True


def font_files(roots: list[Path]) -> list[Path]:
    """Every TrueType/OpenType file under ``roots`` that draws Latin letters, sorted by name."""
    files = sorted((p for root in roots for p in root.rglob("*") if p.suffix.lower() in (".ttf", ".otf")
                    and _renders_latin(p)), key=lambda p: p.name)
    if not files:
        raise VsrkitError(f"no fonts found under {', '.join(map(str, roots))}")
    return files


def fetch_fonts(dest: Path, packages: tuple[str, ...]) -> list[Path]:
    """Font files of Debian ``packages``, extracted under ``dest`` (once)."""
    return font_files([debian_package(dest, p) for p in packages])


def detail_level(frame: np.ndarray) -> float:
    """Mean absolute horizontal difference of a uint8 ``(H, W, 3)`` frame's luma, in 8-bit levels:
    0 for a flat sheet, well under 0.1 for its lighting gradient, a few levels for text."""
    luma = frame.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return float(np.abs(np.diff(luma, axis=1)).mean())


def _word(rng: np.random.Generator) -> str:
    kind = rng.random()
    if kind < 0.12:
        return str(int(rng.integers(0, 10 ** int(rng.integers(1, 5)))))
    letters = "".join(rng.choice(list(_LETTERS), size=int(rng.integers(1, 10)), p=_LETTER_P))
    if kind < 0.3:
        letters = letters.capitalize()
    elif kind < 0.36:
        letters = letters.upper()
    if rng.random() < 0.08:
        letters += str(rng.choice(list(".,:;!?-)")))
    return letters


def _line(rng: np.random.Generator, n_words: int) -> str:
    return " ".join(_word(rng) for _ in range(n_words))


def _colour(rng: np.random.Generator, lo: int, hi: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(lo, hi, size=3))  # type: ignore[return-value]


def _contrasting(rng: np.random.Generator, background: tuple[int, int, int]) -> tuple[int, int, int]:
    light = sum(background) / 3 > 128
    return _colour(rng, 0, 90) if light else _colour(rng, 170, 256)


def _font(fonts: list[Path], rng: np.random.Generator, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(fonts[int(rng.integers(len(fonts)))]), size=max(6, size))


def _text_block(draw: ImageDraw.ImageDraw, rng, fonts, box, background) -> None:
    # Lines run past the block's right edge and are cut by its tile: text is not justified.
    left, top, _, bottom = box
    size = int(np.exp(rng.uniform(math.log(14), math.log(90))))
    font, ink = _font(fonts, rng, size), _contrasting(rng, background)
    y, spacing = top, size * rng.uniform(1.1, 1.6)
    while y + size < bottom:
        draw.text((left, y), _line(rng, int(rng.integers(2, 14))), font=font, fill=ink)
        y += spacing


def _sign(draw: ImageDraw.ImageDraw, rng, fonts, box, background) -> None:
    left, top, _, bottom = box
    panel = _colour(rng, 0, 256)
    draw.rounded_rectangle(box, radius=int(rng.integers(0, 30)), fill=panel,
                           outline=_contrasting(rng, panel) if rng.random() < 0.5 else None,
                           width=int(rng.integers(2, 12)))
    size = int(min(bottom - top, 400) * rng.uniform(0.3, 0.7))
    draw.text((left + size // 3, top + (bottom - top - size) // 2), _line(rng, int(rng.integers(1, 4))),
              font=_font(fonts, rng, size), fill=_contrasting(rng, panel))


def _table(draw: ImageDraw.ImageDraw, rng, fonts, box, background) -> None:
    left, top, right, bottom = box
    rows, cols = int(rng.integers(3, 9)), int(rng.integers(3, 9))
    cell_w, cell_h = (right - left) / cols, (bottom - top) / rows
    ink, width = _contrasting(rng, background), int(rng.integers(1, 6))
    font = _font(fonts, rng, int(cell_h * rng.uniform(0.3, 0.7)))
    start = int(rng.integers(1, 30))
    for r in range(rows + 1):
        draw.line([(left, top + r * cell_h), (right, top + r * cell_h)], fill=ink, width=width)
    for c in range(cols + 1):
        draw.line([(left + c * cell_w, top), (left + c * cell_w, bottom)], fill=ink, width=width)
    for r in range(rows):
        for c in range(cols):
            label = _word(rng)[:4] if r == 0 else str((start + r * cols + c) % 32 or 1)
            draw.text((left + c * cell_w + cell_w * 0.15, top + r * cell_h + cell_h * 0.2), label, font=font, fill=ink)


def _pattern(draw: ImageDraw.ImageDraw, rng, fonts, box, background) -> None:
    """Facades, railings, fabrics: lines, a grid of windows or dots with a period of a few LR pixels."""
    left, top, right, bottom = box
    ink = _contrasting(rng, background)
    period = rng.uniform(6, 64)
    kind = rng.integers(3)
    if kind == 0:  # stripes at an angle
        angle = rng.uniform(0, math.pi)
        dx, dy = math.cos(angle), math.sin(angle)
        reach = math.hypot(right - left, bottom - top)
        cx, cy = (left + right) / 2, (top + bottom) / 2
        width = max(1, int(period * rng.uniform(0.15, 0.5)))
        for k in np.arange(-reach / 2, reach / 2, period):
            px, py = cx - dy * k, cy + dx * k
            draw.line([(px - dx * reach, py - dy * reach), (px + dx * reach, py + dy * reach)], fill=ink, width=width)
    elif kind == 1:  # windows
        gap = period * rng.uniform(0.15, 0.45)
        for y in np.arange(top, bottom - period, period * rng.uniform(1.0, 1.8)):
            for x in np.arange(left, right - period, period):
                draw.rectangle([x, y, x + period - gap, y + period - gap], fill=ink)
    else:  # dots
        radius = period * rng.uniform(0.15, 0.4)
        for y in np.arange(top, bottom, period):
            for x in np.arange(left, right, period):
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=ink)


def _shapes(draw: ImageDraw.ImageDraw, rng, fonts, box, background) -> None:
    left, top, right, bottom = box
    for _ in range(int(rng.integers(2, 8))):
        x0, x1 = sorted(rng.uniform(left, right, size=2))
        y0, y1 = sorted(rng.uniform(top, bottom, size=2))
        fill = _colour(rng, 0, 256) if rng.random() < 0.6 else None
        outline = _contrasting(rng, background)
        if rng.random() < 0.5:
            draw.ellipse([x0, y0, x1, y1], fill=fill, outline=outline, width=int(rng.integers(1, 8)))
        else:
            draw.rectangle([x0, y0, x1, y1], fill=fill, outline=outline, width=int(rng.integers(1, 8)))


_ELEMENTS = (_text_block, _text_block, _text_block, _sign, _table, _pattern, _shapes)


def render_page(fonts: list[Path], rng: np.random.Generator, size: int = 960) -> np.ndarray:
    """uint8 ``(size, size, 3)``: a page of printed matter, seen slightly askew through a lens."""
    big = 2 * size
    light = rng.random() < 0.7
    background = _colour(rng, 190, 256) if light else _colour(rng, 0, 110)
    page = Image.new("RGB", (big, big), background)
    # Rows of blocks, each block one element: a loose layout like a poster, a notice board or a page.
    y = int(rng.integers(0, big // 10))
    while y < big:
        height = int(rng.uniform(0.08, 0.35) * big)
        x = int(rng.integers(0, big // 10))
        while x < big:
            width = int(rng.uniform(0.2, 0.7) * big)
            # Each element is drawn on its own tile, so nothing spills into its neighbours.
            tile = Image.new("RGB", (width, height), background)
            element = _ELEMENTS[int(rng.integers(len(_ELEMENTS)))]
            element(ImageDraw.Draw(tile), rng, fonts, (0, 0, width, height), background)
            page.paste(tile, (x, y))
            x += width + int(rng.integers(10, big // 12))
        y += height + int(rng.integers(10, big // 12))
    # Seen at an angle: a mild perspective warp, then uneven light and a lens blur.
    corners = rng.uniform(-0.06, 0.06, size=8) * big
    src = np.array([0, 0, 0, big, big, big, big, 0], dtype=np.float64) + corners
    page = page.transform((big, big), Image.Transform.QUAD, tuple(src.tolist()), Image.Resampling.BICUBIC,
                          fillcolor=background)
    sigma = rng.uniform(0.4, 1.6)
    page = page.filter(ImageFilter.GaussianBlur(sigma))
    pixels = torch.from_numpy(np.asarray(page, dtype=np.float32) / 255).permute(2, 0, 1)
    ramp = torch.linspace(0, 1, big)
    gy, gx = ramp[:, None], ramp[None, :]
    a, b = rng.uniform(-0.2, 0.2, size=2)
    light_field = 1.0 + a * (gy - 0.5) + b * (gx - 0.5)
    pixels = imresize((pixels * light_field).clamp(0, 1)[None], size=(size, size))[0]
    return pixels.clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def prepare_printed(cache_dir: Path, *, pages: int, seed: int = 0, log=print) -> Path:
    """Build (once) ``pages`` training pages under ``cache_dir`` with a corpus-style ``manifest.json``."""
    out = cache_dir / f"printed_v{PRINTED_VERSION}_s{seed}_n{pages}"
    manifest_path = out / "manifest.json"
    if manifest_path.is_file():
        return out
    fonts = fetch_fonts(cache_dir / "debs", TRAIN_FONT_PACKAGES)
    (out / "photos").mkdir(parents=True, exist_ok=True)
    entries = []
    for i in range(pages):
        name = f"page{i:03d}"
        target = out / "photos" / f"{name}.npy"
        if not target.is_file():
            log(f"printed: {name}")
            np.save(target, render_page(fonts, np.random.default_rng([seed, i]))[None])
        entries.append({"name": name, "file": f"photos/{name}.npy", "downscale": 1,
                        "licence": f"rendered by vsrkit with fonts of {', '.join(TRAIN_FONT_PACKAGES)}"})
    write_json(manifest_path, {"video": [], "photos": entries}, indent=1)
    return out

