"""``metaads status``: per account, how fresh the warehouse is and what last went wrong."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import orjson
import sqlalchemy as sa
import typer
from rich.table import Table

from metaads.cli.app import app, state
from metaads.cli.render import console
from metaads.config.accounts import token_index_for
from metaads.database import stored_utc
from metaads.graph.throttle import token_fingerprint
from metaads.pipeline import Pipeline
from metaads.warehouse.health import AccountFreshness, account_freshness, latest_token_checks

#: Exit code when any account is stale (its last successful load is older than STALE_AFTER_HOURS).
EXIT_STALE = 3


def _iso(moment: object) -> str | None:
    return moment.isoformat() if isinstance(moment, datetime) else (str(moment) if moment else None)


@app.command("status")
def status_command(
    json_output: Annotated[bool, typer.Option("--json", help="One JSON document instead of a table.")] = False,
) -> None:
    """Per account: last loaded day, last success, last error, last mismatch, token expiry. Exit 3 if stale."""
    settings = state.settings()
    with Pipeline.from_settings(settings) as pipeline:
        pipeline.init_warehouse()
        warehouse = pipeline.warehouse
        now = pipeline.clock.now()
        abandoned = warehouse.mark_abandoned()  # runs left running by a dead process: recorded now
        freshness = account_freshness(warehouse.engine, warehouse.account_runs)
        expiry = {
            row["fingerprint"]: _next_expiry(row)
            for row in latest_token_checks(warehouse.engine, warehouse.token_checks)
        }
        with warehouse.engine.connect() as conn:
            running = conn.execute(
                sa.select(sa.func.count()).select_from(warehouse.runs).where(warehouse.runs.c.status == "running")
            ).scalar_one()
            abandoned_runs = [
                str(r)
                for r in conn.execute(
                    sa.select(warehouse.runs.c.run_id)
                    .where(warehouse.runs.c.status == "abandoned")
                    .order_by(warehouse.runs.c.started_at.desc())
                    .limit(20)
                ).scalars()
            ]
    stale_after = timedelta(hours=settings.stale_after_hours)
    tokens = settings.tokens
    rows: list[dict[str, Any]] = []
    for account in settings.accounts:
        fresh = freshness.get(account.id) or AccountFreshness(account.id)
        token = tokens[token_index_for(account, len(tokens))]
        stale = fresh.last_success_at is None or now - fresh.last_success_at > stale_after
        rows.append(
            {
                "account": account.display_name,
                "account_id": account.id,
                "table": account.table,
                "last_loaded_day": _iso(fresh.last_loaded_day),
                "last_success": _iso(fresh.last_success_at),
                "last_error_at": _iso(fresh.last_error_at),
                "last_error": fresh.last_error,
                "last_mismatch": _iso(fresh.last_mismatch_at),
                "token_expires": _iso(expiry.get(token_fingerprint(token))),
                "stale": stale,
            }
        )
    if json_output:
        typer.echo(
            orjson.dumps(
                {
                    "accounts": rows,
                    "runs_running": running,
                    "runs_abandoned": abandoned_runs,
                    "abandoned_now": {k: [str(v) for v in ids] for k, ids in abandoned.items()},
                    "stale_after_hours": settings.stale_after_hours,
                },
                option=orjson.OPT_INDENT_2,
            ).decode()
        )
    else:
        table = Table(title=f"{len(rows)} accounts (stale after {settings.stale_after_hours:g} h)")
        for column in (
            "account",
            "last loaded day",
            "last success",
            "last error",
            "last mismatch",
            "token expires",
            "state",
        ):
            table.add_column(column)
        for row in rows:
            error = f"{(row['last_error_at'] or '')[:16]} {(row['last_error'] or '')[:60]}".strip()
            table.add_row(
                str(row["account"]),
                row["last_loaded_day"] or "never",
                (row["last_success"] or "never")[:16],
                error or "-",
                (row["last_mismatch"] or "-")[:16],
                (row["token_expires"] or "never")[:10],
                "[red]stale[/]" if row["stale"] else "[green]fresh[/]",
            )
        console.print(table)
        if running:
            console.print(f"{running} run(s) running now")
        if abandoned_runs:
            console.print(
                f"[yellow]{len(abandoned_runs)} run(s) abandoned[/] (their process died): "
                + ", ".join(r[:8] for r in abandoned_runs)
            )
    if any(row["stale"] for row in rows):
        raise typer.Exit(EXIT_STALE)


def _next_expiry(row: dict[str, object]) -> datetime | None:
    moments = [
        stored_utc(m) for m in (row.get("expires_at"), row.get("data_access_expires_at")) if isinstance(m, datetime)
    ]
    return min(moments) if moments else None
