"""User-facing errors.

Anything raised as :class:`VsrkitError` is a problem with the user's input (a file, an option, a
checkpoint), not a bug. The CLI prints it as one line and exits with code 2.
"""

from __future__ import annotations

from pathlib import Path


class VsrkitError(Exception):
    """A problem with user input, reported as ``error: <message>`` and exit code 2."""


class InputError(VsrkitError):
    """A file or folder that cannot be used; the message names the path."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class ConfigError(VsrkitError):
    """An invalid configuration value; the message names the key path."""


class WeightsError(VsrkitError):
    """A checkpoint that does not fit the requested architecture."""
