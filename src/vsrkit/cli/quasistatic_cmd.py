"""``vsrkit make-quasistatic``: long low-motion test sequences (see :mod:`vsrkit.data.quasistatic`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("make-quasistatic")
    def make_quasistatic(
        source: Annotated[Path, typer.Argument(help="Still image, static-camera frame folder, or video.")],
        out: Annotated[Path, typer.Argument(help="Output frame folder (must not exist or be empty).")],
        frames: Annotated[int, typer.Option("--frames", help="Sequence length.")] = 1000,
        jitter: Annotated[float, typer.Option("--jitter", help="Camera jitter std, HR pixels.")] = 0.15,
        rho: Annotated[float, typer.Option("--rho", help="Per-frame correlation of the jitter.")] = 0.95,
        shot: Annotated[float, typer.Option("--shot", help="Photon-noise variance per unit signal.")] = 4e-5,
        read: Annotated[float, typer.Option("--read", help="Read-noise std on [0, 1].")] = 0.002,
        flicker: Annotated[float, typer.Option("--flicker", help="Per-frame gain std.")] = 0.0,
        downscale: Annotated[int, typer.Option("--downscale", help="Bicubic downscale of the source first.")] = 1,
        crop: Annotated[tuple[int, int] | None, typer.Option("--crop", help="Centre crop H W (after downscale).")] = None,
        seed: Annotated[int, typer.Option("--seed")] = 0,
        json_out: Annotated[Path | None, typer.Option("--json", help="Write the generation parameters here.")] = None,
    ) -> None:
        """Build a long quasi-static sequence: sensor noise and tiny camera jitter on a static scene."""
        from ..data.quasistatic import QuasiStaticParams, load_scene, write_quasistatic
        from ..errors import VsrkitError

        params = QuasiStaticParams(frames=frames, jitter=jitter, rho=rho, shot=shot, read=read,
                                   flicker=flicker, seed=seed)
        params.check()
        if downscale < 1:
            raise VsrkitError(f"--downscale must be >= 1, got {downscale}")
        scene = load_scene(source, downscale=downscale, crop=crop)
        write_quasistatic(scene, out, params, json_path=json_out)
        typer.echo(f"wrote {out} ({frames} frames, {scene.shape[-2]}x{scene.shape[-1]}, "
                   f"{scene.shape[0]} scene frame(s))")
