"""``vsrkit degrade``: write the LR frames of a sequence or dataset under a named degradation."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError


def degrade_folder(src: Path, dst: Path, degradation: str, scale: int) -> int:
    """Degrade every sequence under ``src`` into ``dst`` (same layout, PNG). Returns frames written.

    ``src`` is a sequence folder (frames written directly into ``dst``) or a dataset folder
    (``dst/<sequence>/``). Frame names keep their stems when the degradation keeps one LR frame per
    HR frame; otherwise (space-time degradations) they are numbered ``<index:08d>.png``. Nothing
    appears at ``dst`` unless every frame was written.
    """
    from ..degradations import get_degradation
    from ..io.frames import (
        check_sequence,
        commit_dir,
        list_sequences,
        read_sequence,
        staging_dir,
        write_image,
    )

    deg = get_degradation(degradation)
    bits = getattr(deg, "bits", 8)
    src_dir = Path(src)
    sequences = list_sequences(src_dir)
    single = sequences == [src_dir]
    checked = [(seq, check_sequence(seq)[0]) for seq in sequences]
    if Path(dst).resolve() == src_dir.resolve() or src_dir.resolve() in Path(dst).resolve().parents:
        raise InputError(dst, "output folder must not be inside the source folder")
    stage = staging_dir(dst)
    written = 0
    try:
        for seq, frames in checked:
            out_dir = stage if single else stage / seq.name
            out_dir.mkdir(exist_ok=True)
            lr, _ = deg.pair(read_sequence(seq), scale)
            same_count = lr.shape[0] == len(frames)
            for i, frame in enumerate(lr):
                stem = frames[i].stem if same_count else f"{i:08d}"
                write_image(out_dir / f"{stem}.png", frame, bits=bits)
                written += 1
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    commit_dir(stage, dst)
    return written


def register(app: typer.Typer) -> None:
    @app.command("degrade")
    def degrade_cmd(
        src: Annotated[Path, typer.Argument(help="A sequence folder or a dataset folder of sequences.")],
        dst: Annotated[Path, typer.Argument(help="Output folder; mirrors SRC as PNG.")],
        degradation: Annotated[str, typer.Option("--degradation", help="bi, bd, gauss1.5, mrvsr, ...")],
        scale: Annotated[int, typer.Option("--scale", help="Downscaling factor (2, 3 or 4).")] = 4,
    ) -> None:
        """Make LR frames from HR frames with a named degradation."""
        n = degrade_folder(src, dst, degradation, scale)
        typer.echo(f"wrote {n} frames to {dst}")
