"""``metaads docs``: documents generated from the code (so they cannot drift from it)."""

from __future__ import annotations

from typing import Annotated

import typer

from metaads.cli.app import app, state

docs_app = typer.Typer(help="Generated documentation.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")


@docs_app.command("data-dictionary")
def data_dictionary_command(
    reports: Annotated[
        bool,
        typer.Option(
            "--reports",
            help="Show the tables of the reports configured in INSIGHTS_REPORTS instead of an example report "
            "(reads the settings; the committed docs/data-dictionary.md is generated without).",
        ),
    ] = False,
) -> None:
    """Print the warehouse data dictionary (Markdown): every table, view and column with its description."""
    from metaads.warehouse.dictionary import data_dictionary

    typer.echo(data_dictionary(state.settings().reports if reports else ()), nl=False)
