"""Root typer application; command modules register themselves on import."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="metaads",
    help="Meta ads insights pipeline: Graph API -> warehouse -> analytics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold tokens
)


def _register_commands() -> None:
    # Imported for their side effect of adding commands to ``app``.
    from metaads.cli import simulator_cmd  # noqa: F401


def main() -> None:
    """Entry point of the ``metaads`` console script."""
    _register_commands()
    app()
