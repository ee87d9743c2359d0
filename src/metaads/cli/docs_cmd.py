"""``metaads docs``: documents generated from the code (so they cannot drift from it)."""

from __future__ import annotations

import typer

from metaads.cli.app import app

docs_app = typer.Typer(help="Generated documentation.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")


@docs_app.command("data-dictionary")
def data_dictionary_command() -> None:
    """Print the warehouse data dictionary (Markdown): every table, view and column with its description."""
    from metaads.warehouse.dictionary import data_dictionary

    typer.echo(data_dictionary(), nl=False)
