"""``vsrkit convert``: official checkpoints to vsrkit safetensors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..weights.convert import convert, list_converters


def register(app: typer.Typer) -> None:
    @app.command("convert")
    def convert_cmd(
        src: Annotated[str, typer.Argument(help="Source checkpoint (file, or TF checkpoint prefix).")],
        dst: Annotated[Path, typer.Argument(help="Output .safetensors file.")],
        source_format: Annotated[
            str, typer.Option("--from", help=f"Source format: {', '.join(list_converters())}.")
        ],
        arch: Annotated[
            str | None, typer.Option("--arch", help="Architecture/preset when the source is ambiguous.")
        ] = None,
    ) -> None:
        """Convert an official checkpoint into vsrkit safetensors with metadata."""
        result = convert(source_format, src, dst, arch=arch)
        n = sum(v.numel() for v in result.state_dict.values())
        typer.echo(f"wrote {dst} ({result.model.arch}, {n:,} parameters, hparams {result.model.hparams})")
