"""The ``metaads`` command line (typer + rich). Each command group lives in its own module."""

from __future__ import annotations

from metaads.cli.app import app, main

__all__ = ["app", "main"]
