"""``metaads tokens check``: what ``debug_token`` says about every configured token, and what to do."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.table import Table

from metaads.cli.app import app, state
from metaads.cli.render import console
from metaads.clock import SystemClock
from metaads.graph.token_health import TokenHealth, check_tokens
from metaads.pipeline.engines import build_client

tokens_app = typer.Typer(help="Access token health.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")

#: Exit code when a token needs a person (invalid, no ads_read, expiring soon, cannot read an account).
EXIT_PROBLEMS = 3


def _when(health: TokenHealth, field: str) -> str:
    moment = getattr(health, field)
    return "never" if moment is None else f"{moment:%Y-%m-%d}"


@tokens_app.command("check")
def tokens_check(
    json_output: Annotated[bool, typer.Option("--json", help="One JSON document instead of a table.")] = False,
) -> None:
    """Inspect every token: app, type, ads_read, expiry, accounts it can read. Exit 3 when one needs a person."""
    settings = state.settings()
    clock = SystemClock()
    # Only the Graph API is needed: no warehouse is opened (a token check must work when it is down).
    with build_client(settings, clock=clock) as client:
        checks = check_tokens(client, settings.accounts, now=clock.now(), warn_days=settings.token_expiry_warn_days)
    if json_output:
        typer.echo(orjson.dumps([_as_json(c) for c in checks], option=orjson.OPT_INDENT_2).decode())
    else:
        table = Table(title=f"{len(checks)} tokens (expiry warning: {settings.token_expiry_warn_days} days)")
        for column in (
            "token",
            "valid",
            "app",
            "type",
            "ads_read",
            "expires",
            "data access until",
            "accounts readable",
            "what to do",
        ):
            table.add_column(column)
        total = len(settings.accounts)
        for c in checks:
            style = "green" if c.ok else "red"
            table.add_row(
                c.hint,
                "yes" if c.valid else "[red]no[/]",
                c.app_name or c.app_id or "-",
                c.type or "-",
                "yes" if c.has_ads_read else "no",
                _when(c, "expires_at"),
                _when(c, "data_access_expires_at"),
                f"{len(c.readable_accounts)}/{total}",
                f"[{style}]" + ("ok" if c.ok else "; ".join(c.problems)) + "[/]",
            )
        console.print(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(EXIT_PROBLEMS)


def _as_json(health: TokenHealth) -> dict[str, object]:
    return {
        "token": health.hint,
        "fingerprint": health.fingerprint,
        "valid": health.valid,
        "app_id": health.app_id,
        "app_name": health.app_name,
        "type": health.type,
        "scopes": list(health.scopes),
        "has_ads_read": health.has_ads_read,
        "expires_at": health.expires_at.isoformat() if health.expires_at else None,
        "data_access_expires_at": (
            health.data_access_expires_at.isoformat() if health.data_access_expires_at else None
        ),
        "readable_accounts": list(health.readable_accounts),
        "unreadable_accounts": list(health.unreadable_accounts),
        "problems": list(health.problems),
        "error": health.error,
    }
