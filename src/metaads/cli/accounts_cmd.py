"""``metaads accounts list`` and ``metaads accounts retire``: the warehouse's account registry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from metaads.cli.app import app, state
from metaads.cli.render import console
from metaads.pipeline import Pipeline
from metaads.warehouse.schema import ACTIONS_VIEW, ADS_VIEW

accounts_app = typer.Typer(help="The accounts the warehouse views cover (the account registry).", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


@accounts_app.command("list")
def accounts_list() -> None:
    """Show every registered account: active ones are in the views, configured ones are fetched."""
    settings = state.settings()
    configured = {a.table for a in settings.accounts}
    with Pipeline.from_settings(settings) as pipeline:
        entries = pipeline.registered_accounts()
    table = Table(title=f"{len(entries)} registered accounts ({ADS_VIEW} / {ACTIONS_VIEW} cover the active ones)")
    for column in ("account", "table", "label", "status", "fetched", "first seen", "last seen", "retired"):
        table.add_column(column)
    for entry in entries:
        style = "green" if entry.active else "dim"
        table.add_row(
            f"act_{entry.account_id}" if entry.account_id else "?",
            entry.table,
            entry.label or "",
            f"[{style}]{entry.status}[/]",
            "yes" if entry.table in configured else "no",
            _when(entry.first_seen),
            _when(entry.last_seen),
            _when(entry.retired_at),
        )
    console.print(table)


@accounts_app.command("retire")
def accounts_retire(
    account: Annotated[str, typer.Argument(help="Account id (with or without act_), table or label.")],
) -> None:
    """Take an account that left META_ACCOUNTS out of the views; its tables are kept."""
    settings = state.settings()
    with Pipeline.from_settings(settings) as pipeline:
        entry = pipeline.retire_account(account)
    name = f"act_{entry.account_id}" if entry.account_id else entry.table
    console.print(
        f"[green]retired[/] {name} ({entry.table}): no longer in {ADS_VIEW} / {ACTIONS_VIEW}; "
        f"tables {entry.table} / {entry.actions_table} are kept."
    )
    console.print(
        "Its rows leave the analytics tables on the next full sync (`metaads sync --full`); "
        "incremental syncs leave them as they are. Adding it back to META_ACCOUNTS re-activates it."
    )
