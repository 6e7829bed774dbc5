"""``vsrkit models``: the registry as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..models import count_parameters, get_preset, list_models
from ..weights.io import read_metadata, trained_degradation


def _shipped_facts(path: Path | None) -> dict[str, object]:
    """What the shipped weights say of themselves: file, degradation trained for, and the Vid4 score
    measured under that degradation (the model card's protocol for it)."""
    if path is None:
        return {"weights": None, "degradation": None, "vid4": None}
    degradation = trained_degradation(path)
    try:
        scores = json.loads(read_metadata(path).get("metrics", "{}")).get("vid4", {})
    except (ValueError, AttributeError):
        scores = {}
    setting = next((k for k in scores if degradation and k.startswith(f"{degradation}+")), None)
    vid4 = {"setting": setting, "psnr": scores[setting]["psnr"], "ssim": scores[setting].get("ssim")} if setting else None
    return {"weights": path.name, "degradation": degradation, "vid4": vid4}


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
                **_shipped_facts(preset.weights),
            }
        )
    return rows


def register(app: typer.Typer) -> None:
    @app.command("models")
    def models(
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of a table.")] = False,
    ) -> None:
        """List registered models: parameters, scale, temporal kind, output channels, and for those with
        shipped weights the degradation they were trained for and their Vid4 Y-PSNR under it."""
        rows = model_summaries()
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        table = Table("name", "params", "scale", "kind", "output", "shipped weights", "Vid4 (trained degradation)")
        for r in rows:
            vid4 = r["vid4"]
            score = f"{vid4['psnr']:.2f} dB ({vid4['setting']})" if isinstance(vid4, dict) else ""
            table.add_row(str(r["name"]), f"{r['params']:,}", str(r["scale"]), str(r["kind"]), str(r["output"]),
                          str(r["weights"] or ""), score)
        Console().print(table)
