"""``metaads embedded status|start|stop``: the embedded PostgreSQL warehouse (used when WAREHOUSE_URL is unset)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from metaads.cli.app import app
from metaads.cli.render import console, key_value_table
from metaads.config.settings import DEFAULT_DATA_DIR
from metaads.embedded_postgres import DEFAULT_DATABASE, EmbeddedServer, ensure_running, status, stop

embedded_app = typer.Typer(help="The embedded PostgreSQL warehouse (WAREHOUSE_URL unset).", no_args_is_help=True)
app.add_typer(embedded_app, name="embedded")

PgData = Annotated[Path, typer.Option("--pgdata", help="The server's data folder.")]
DEFAULT_PGDATA = Path(DEFAULT_DATA_DIR) / "postgres"


def _show(server: EmbeddedServer) -> None:
    console.print(
        key_value_table(
            "embedded PostgreSQL",
            {
                "data folder": server.pgdata,
                "pid": server.pid,
                "socket folder": server.socket_dir,
                "url": server.url(DEFAULT_DATABASE),
                "psql": server.psql_command(DEFAULT_DATABASE),
            },
        )
    )


@embedded_app.command("status")
def status_command(pgdata: PgData = DEFAULT_PGDATA) -> None:
    """Show the running server (exit 3 when it is not running)."""
    server = status(pgdata)
    if server is None:
        console.print(f"embedded PostgreSQL in {pgdata.absolute()}: not running")
        raise typer.Exit(3)
    _show(server)


@embedded_app.command("start")
def start_command(pgdata: PgData = DEFAULT_PGDATA) -> None:
    """Create and start the server (any command that needs it does this on demand)."""
    _show(ensure_running(pgdata))


@embedded_app.command("stop")
def stop_command(pgdata: PgData = DEFAULT_PGDATA) -> None:
    """Stop the server cleanly; the data stays in the folder for the next start."""
    stopped = stop(pgdata)
    console.print(f"embedded PostgreSQL in {pgdata.absolute()}: {'stopped' if stopped else 'was not running'}")
