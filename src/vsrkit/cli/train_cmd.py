"""``vsrkit train CONFIG.yaml [key=value ...]``: train a model (also under ``torchrun``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("train", context_settings={"allow_extra_args": False})
    def train_command(
        config: Annotated[Path, typer.Argument(help="YAML training config (see configs/).")],
        overrides: Annotated[
            list[str] | None, typer.Argument(help="Overrides as key.path=value, e.g. optim.lr=2e-4.")
        ] = None,
        resume: Annotated[
            str | None,
            typer.Option("--resume", help="Checkpoint to continue from, or 'auto' for RUN_DIR/checkpoints/last.pt."),
        ] = None,
        stop_at: Annotated[
            int | None,
            typer.Option("--stop-at", help="Checkpoint and stop at this iteration (resume later with --resume)."),
        ] = None,
        print_config: Annotated[
            bool, typer.Option("--print-config", help="Print the resolved config as YAML and exit.")
        ] = False,
    ) -> None:
        """Train a model; checkpoints, TensorBoard logs and final weights go to run_dir."""
        import yaml

        from ..engine.config import load_config, to_dict

        cfg = load_config(config, overrides or [])
        if print_config:
            typer.echo(yaml.safe_dump(to_dict(cfg), sort_keys=False))
            return
        from ..engine.train import train

        train(cfg, resume=resume, stop_at=stop_at)
