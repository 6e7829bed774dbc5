"""``vsrkit evaluate``: a model on a dataset under a named degradation and metric protocol."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ..errors import InputError
from ..io.jsonfile import write_json


def _fmt(value: float, digits: int) -> str:
    return "inf" if math.isinf(value) else f"{value:.{digits}f}"


def print_table(result: dict[str, Any], console: Console | None = None) -> None:
    title = f"{result['model']} · {result['degradation']} · {result['protocol']}" + (
        f" · {result['weights']}" if result.get("weights") else ""
    )
    temporal = "tof" in result["mean"]
    table = Table("sequence", "frames", "PSNR (dB)", "SSIM", *(["tOF"] if temporal else []), title=title)
    for name, seq in result["sequences"].items():
        table.add_row(name, str(len(seq["frames"])), _fmt(seq["psnr"], 2), _fmt(seq["ssim"], 4),
                      *([_fmt(seq["tof"], 3)] if temporal else []))
    table.add_section()
    table.add_row("mean", "", _fmt(result["mean"]["psnr"], 2), _fmt(result["mean"]["ssim"], 4),
                  *([_fmt(result["mean"]["tof"], 3)] if temporal else []), style="bold")
    (console or Console()).print(table)
    (console or Console()).print(f"model speed: {result['fps']:.2f} frames/s")


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def evaluate_cmd(
        model: Annotated[str, typer.Option("--model", help="Registered model name (see `vsrkit models`).")],
        dataset: Annotated[
            Path, typer.Option("--dataset", help="Folder of sequence folders, or one sequence.")
        ],
        degradation: Annotated[str, typer.Option("--degradation", help="bi, bd, gauss1.5, mrvsr, ...")],
        protocol: Annotated[str, typer.Option("--protocol", help="rlsp, mrvsr, basicsr-y, basicsr-rgb, ...")],
        weights: Annotated[
            Path | None, typer.Option("--weights", help="vsrkit .safetensors weights (default: shipped).")
        ] = None,
        scale: Annotated[
            int | None, typer.Option("--scale", help="Scale factor (default: the model's).")
        ] = None,
        json_out: Annotated[
            Path | None, typer.Option("--json", help="Write the full result as JSON.")
        ] = None,
        save_frames: Annotated[
            Path | None,
            typer.Option("--save-frames", help="Write outputs as DIR/<sequence>/<index:08d>.png."),
        ] = None,
        device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda, cuda:N, mps.")] = "auto",
        self_ensemble: Annotated[
            int, typer.Option("--self-ensemble", help="Average over 1, 2, 4 or 8 flipped/transposed views.")
        ] = 1,
        temporal: Annotated[
            bool, typer.Option("--temporal", help="Also tOF (TecoGAN's temporal metric: output motion against the "
                                                  "ground truth's; lower is better).")
        ] = False,
    ) -> None:
        """Degrade the ground truth, run the model, print PSNR/SSIM per sequence and write JSON."""
        from ..degradations import get_degradation
        from ..engine.evaluate import evaluate, resolve_device
        from ..engine.self_ensemble import check_views, with_self_ensemble
        from ..metrics import get_protocol
        from ..models import create_model, get_preset
        from ..models._registry import full_hparams

        # Cheap checks first, so a typo costs no model construction.
        get_degradation(degradation)
        get_protocol(protocol)
        resolve_device(device)
        check_views(self_ensemble)
        preset = get_preset(model)
        if json_out is not None and json_out.is_dir():
            raise InputError(json_out, "--json must be a file path, not a folder")
        if save_frames is not None and save_frames.exists() and not save_frames.is_dir():
            raise InputError(save_frames, "--save-frames must be a folder")
        overrides: dict[str, Any] = {}
        if scale is not None and full_hparams(preset.cls, preset.kwargs).get("scale") != scale:
            overrides["scale"] = scale
        net = with_self_ensemble(create_model(model, weights=weights, **overrides), self_ensemble)
        label = str(weights) if weights is not None else (str(preset.weights) if preset.weights else None)
        result = evaluate(
            net,
            dataset,
            degradation=degradation,
            protocol=protocol,
            scale=scale,
            device=device,
            save_frames=save_frames,
            weights_label=label,
            temporal=temporal,
        )
        print_table(result)
        if json_out is not None:
            write_json(json_out, result)
            typer.echo(f"wrote {json_out}")
