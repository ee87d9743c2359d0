"""``metaads simulator ...`` (placeholder until the simulator lands)."""

from __future__ import annotations

import typer

from metaads.cli.app import app

simulator_app = typer.Typer(help="The Graph API simulator.", no_args_is_help=True)
app.add_typer(simulator_app, name="simulator")
