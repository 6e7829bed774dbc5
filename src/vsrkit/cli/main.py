"""The ``vsrkit`` command. Commands are thin: they parse options and call library functions.

User errors (:class:`~vsrkit.errors.VsrkitError`) print one line and exit with code 2.
"""

from __future__ import annotations

import sys

import typer

from ..errors import VsrkitError
from . import models_cmd

app = typer.Typer(
    name="vsrkit",
    help="Video super-resolution: models, evaluation, training and a streaming video upscaler.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Video super-resolution: models, evaluation, training and a streaming video upscaler."""


models_cmd.register(app)

# Commands owned by other modules register themselves here when present.
for _module in ("degrade_cmd", "evaluate_cmd", "convert_cmd", "export_cmd", "upscale_cmd", "train_cmd", "analyze_cmd",
                "quasistatic_cmd"):
    try:
        __import__(f"{__package__}.{_module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.{_module}":
            raise
    else:
        sys.modules[f"{__package__}.{_module}"].register(app)


def main() -> None:
    try:
        app()
    except VsrkitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
