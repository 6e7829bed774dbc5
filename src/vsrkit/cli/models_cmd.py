"""``vsrkit models``: the registry as a table or JSON."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..models import count_parameters, get_preset, list_models


def model_summaries() -> list[dict[str, object]]:
    rows = []
    for name in list_models():
        preset = get_preset(name)
        scale = preset.kwargs.get("scale")
        if scale is None:
            from ..models._registry import full_hparams

            scale = full_hparams(preset.cls, preset.kwargs).get("scale")
        rows.append(
            {
                "name": name,
                "params": count_parameters(name),
                "scale": scale,
                "kind": preset.cls.kind,
                "output": preset.cls.output,
            }
        )
    return rows


def register(app: typer.Typer) -> None:
    @app.command("models")
    def models(
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of a table.")] = False,
    ) -> None:
        """List registered models: parameters, scale, temporal kind, output channels."""
        rows = model_summaries()
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        table = Table("name", "params", "scale", "kind", "output")
        for r in rows:
            table.add_row(str(r["name"]), f"{r['params']:,}", str(r["scale"]), str(r["kind"]), str(r["output"]))
        Console().print(table)
