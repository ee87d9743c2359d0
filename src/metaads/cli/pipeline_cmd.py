"""``metaads config check``, ``init-db``, ``run`` and ``sync``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from metaads.cli.app import app, state
from metaads.cli.render import RichProgress, console, err_console, key_value_table, summary_table
from metaads.clock import SystemClock
from metaads.config.accounts import token_index_for
from metaads.config.settings import Settings
from metaads.dates import check_bounds, today_bounds
from metaads.errors import ConfigError, MetaAdsError
from metaads.observability.attention import alert_after_run
from metaads.pipeline import Pipeline, RunSummary
from metaads.redact import token_hint

config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("check")
def config_check() -> None:
    """Parse and validate the configuration; print accounts, groups and token assignment."""
    settings = state.settings()
    tokens = settings.tokens
    table = Table(title=f"{len(settings.accounts)} accounts, {len(tokens)} tokens")
    for column in ("group", "#", "account", "table", "actions table", "label", "token"):
        table.add_column(column)
    for group_number, group in enumerate(settings.account_groups(), start=1):
        for account in group:
            token = tokens[token_index_for(account, len(tokens))]
            table.add_row(
                str(group_number),
                str(account.index + 1),
                account.act_id,
                account.table,
                account.actions_table,
                account.label or "",
                token_hint(token),
            )
    console.print(table)
    console.print(
        key_value_table(
            "settings",
            {
                "graph api": f"{settings.graph_api_base_url}/{settings.graph_api_version}",
                "app secret": "set (appsecret_proof on every call)" if settings.app_secret else "not set",
                "lookback days": f"{settings.lookback_days} ({settings.deep_lookback_days} on an account's first run "
                "of its day)",
                "initial history days": settings.initial_history_days,
                "account group size": settings.account_group_size,
                "warehouse": _describe(settings.warehouse_url) + f" schema {settings.warehouse_schema}",
                "analytics": (
                    _describe(settings.analytics_url) + f" schema {settings.analytics_schema}"
                    if settings.analytics_url
                    else "not set (no sync)"
                ),
            },
        )
    )
    _print_reports(settings)
    console.print("[green]configuration OK[/]")


def _print_reports(settings: Settings) -> None:
    """The default report and every INSIGHTS_REPORTS report: what each asks for and where it lands."""
    table = Table(title=f"{1 + len(settings.reports)} insights reports")
    for column in (
        "report",
        "level",
        "fields",
        "breakdowns",
        "action breakdowns / windows",
        "look-back",
        "tables (first account)",
        "view / analytics table",
    ):
        table.add_column(column)
    first = settings.accounts[0].table if settings.accounts else "<table>"
    table.add_row(
        "(default)",
        "ad",
        "spend, clicks, impressions, reach, actions, ...",
        "",
        "",
        str(settings.lookback_days),
        f"{first}, {first}_actions",
        "vw_graph_ads / graph_ads (+ _actions)",
    )
    for spec in settings.reports:
        shaping = (
            ", ".join(spec.action_breakdowns)
            + (" / " if spec.action_breakdowns else "")
            + ", ".join(spec.action_attribution_windows)
        )
        if spec.action_report_time:
            shaping += f" ({spec.action_report_time})"
        table.add_row(
            spec.name,
            spec.level,
            ", ".join(spec.fields),
            ", ".join(spec.breakdowns),
            shaping,
            str(spec.lookback_days or settings.lookback_days),
            f"{spec.table(first)}, {spec.lists_table(first)}",
            f"{spec.view} / {spec.target} (+ _lists)",
        )
    console.print(table)


def _describe(url: str) -> str:
    from metaads.database import describe_url

    return describe_url(url)


@app.command("init-db")
def init_db() -> None:
    """Migrate an earlier warehouse, then create schema, tables, indexes, views and run ledger (harmless to re-run)."""
    settings = state.settings()
    with Pipeline.from_settings(settings) as pipeline:
        pipeline.init_warehouse()
        console.print(
            f"[green]warehouse ready[/]: {pipeline.describe()['warehouse']} "
            f"schema {settings.warehouse_schema}, {len(settings.accounts)} accounts"
        )


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{value!r} is not a date like 2026-01-31", variable=option) from None


@app.command("run")
def run_command(
    accounts: Annotated[str | None, typer.Option(help="Comma-separated ids, tables or labels (default: all).")] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="First day to fetch (YYYY-MM-DD); default: from the ledger (look-back, deep look-back or catch-up)."
        ),
    ] = None,
    until: Annotated[str | None, typer.Option(help="Last day to fetch (YYYY-MM-DD); default: today.")] = None,
    lookback: Annotated[int | None, typer.Option(min=1, help="Days re-fetched (overrides LOOKBACK_DAYS).")] = None,
    deep: Annotated[
        bool,
        typer.Option(
            "--deep", help="Re-fetch DEEP_LOOKBACK_DAYS (restated days) even if today's first run already did."
        ),
    ] = False,
    sync: Annotated[bool, typer.Option("--sync/--no-sync", help="Sync to ANALYTICS_URL afterwards if set.")] = True,
) -> None:
    """Extract, transform and load every configured account (several at once); then sync."""
    settings = state.settings()
    chosen = settings.select_accounts(accounts.split(",") if accounts else None)
    first, last = _parse_date(since, "--since"), _parse_date(until, "--until")
    earliest, latest = today_bounds(SystemClock().now())
    check_bounds(latest, since=first, until=last, earliest_today=earliest)
    with Pipeline.from_settings(settings) as pipeline, RichProgress(chosen, enabled=state.interactive) as progress:
        summary = pipeline.run(chosen, since=first, until=last, lookback=lookback, deep=deep, listener=progress)
        _publish_metrics(pipeline, summary)
        alert_after_run(pipeline, summary)
    console.print(summary_table(summary))
    if sync and settings.analytics_url:
        _run_sync(pipeline, full=False, evolve=False)
    if not summary.ok:
        names = ", ".join(r.account.display_name for r in summary.failed)
        err_console.print(f"[red]{len(summary.failed)} account(s) failed: {names}[/]")
        raise typer.Exit(1)


def _publish_metrics(pipeline: Pipeline, summary: RunSummary) -> None:
    """METRICS_TEXTFILE / METRICS_PUSHGATEWAY_URL: the run's Prometheus metrics (a failure is logged only)."""
    settings = pipeline.settings
    if settings.metrics_textfile is None and not settings.metrics_pushgateway_url:
        return
    from metaads.observability.run_metrics import publish_after_run

    publish_after_run(
        summary,
        warehouse=pipeline.warehouse,
        client=pipeline.client,
        tokens=settings.tokens,
        finished_at=pipeline.clock.now(),
        textfile=settings.metrics_textfile,
        pushgateway=settings.metrics_pushgateway_url,
    )


@app.command("sync")
def sync_command(
    full: Annotated[bool, typer.Option("--full", help="Re-copy the whole retention window.")] = False,
    evolve: Annotated[bool, typer.Option("--evolve", help="Add missing target columns.")] = False,
) -> None:
    """Copy the warehouse views to the analytics database (incremental by default)."""
    settings = state.settings()
    if not settings.analytics_url:
        raise ConfigError("is not set: nothing to sync to", variable="ANALYTICS_URL")
    with Pipeline.from_settings(settings) as pipeline:
        _run_sync(pipeline, full=full, evolve=evolve)


def _run_sync(pipeline: Pipeline, *, full: bool, evolve: bool) -> None:
    try:
        result = pipeline.sync(full=full, evolve=evolve)
    except MetaAdsError as exc:
        err_console.print(f"[red]sync failed[/]: {exc}")
        raise typer.Exit(1) from None
    if result is not None:
        console.print(key_value_table("sync", result.summary()))
    if pipeline.entity_sync is not None:
        console.print(key_value_table("entity sync", pipeline.entity_sync.summary()))


@app.command("migrate")
def migrate_command(
    adopt_original: Annotated[
        bool,
        typer.Option("--adopt-original", help="First convert tables built by the original design's DDL (PostgreSQL)."),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; change nothing.")] = False,
) -> None:
    """Bring the warehouse to the current schema version without losing a row (see docs/migrations.md)."""
    from metaads.database import create_engine_for
    from metaads.warehouse.adopt import adopt_original as adopt
    from metaads.warehouse.migrations import migrate

    settings = state.settings()
    engine = create_engine_for(settings.warehouse_url)
    try:
        if adopt_original:
            adopted = adopt(engine, settings.warehouse_schema, settings.accounts, dry_run=dry_run)
            for line in adopted.lines():
                console.print(line)
        if adopt_original and dry_run:  # the steps' plan depends on the adoption, which did not happen
            console.print("then the schema version steps run (`metaads migrate --dry-run` after adopting)")
            console.print("[yellow]dry run: nothing was changed[/]")
            return
        report = migrate(
            engine, settings.warehouse_schema, settings.accounts, dry_run=dry_run, reports=settings.reports
        )
        for line in report.lines():
            console.print(line)
    finally:
        engine.dispose()
    if dry_run:
        console.print("[yellow]dry run: nothing was changed[/]")
        return
    with Pipeline.from_settings(settings) as pipeline:
        pipeline.init_warehouse()
    console.print(f"[green]warehouse at schema version {report.target_version}[/]")
