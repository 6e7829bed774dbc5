"""``vsrkit export``: a streaming model's step (a bidirectional RLSP's two steps) as ONNX graphs, checked against
PyTorch before they are written."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export_cmd(
        model: Annotated[str, typer.Argument(
            help="Registered model name (recurrent, sliding-window, or a bidirectional RLSP such as default).")],
        dst: Annotated[Path, typer.Argument(help="Output .onnx file.")],
        weights: Annotated[
            Path | None, typer.Option("--weights", help="vsrkit .safetensors weights (default: shipped).")
        ] = None,
        opset: Annotated[int, typer.Option(help="ONNX opset (16 or later: the flow warp is GridSample).")] = 17,
    ) -> None:
        """Export one step of a recurrent model (frames and state in, output and new state out) to ONNX; a
        bidirectional RLSP (default) as two, DST and DST's stem + .backward.onnx."""
        from ..engine.onnx_export import export_onnx
        from ..errors import InputError
        from ..models import create_model, get_preset

        get_preset(model)
        if dst.suffix.lower() != ".onnx":
            raise InputError(dst, "the output must be a .onnx file")
        if opset < 16:
            raise InputError(dst, f"--opset {opset}: the flow warp needs GridSample, opset 16 or later")
        net = create_model(model, weights=weights)
        result = export_onnx(net, dst, name=model, opset=opset)
        what = f"{model} step" if not result.companions else f"{model} forward step (backward step: " + ", ".join(
            str(p) for p in result.companions) + ")"
        typer.echo(f"wrote {dst}: {what}, inputs {', '.join(result.inputs)}; outputs {', '.join(result.outputs)}; "
                   f"checked on {result.frames_checked} frames against PyTorch, largest difference "
                   f"{result.max_difference:.1e}")
