"""``metaads verify``: do the warehouse (and analytics) numbers equal Meta's account-level totals?"""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer
from rich.table import Table

from metaads.cli.app import app, state
from metaads.cli.pipeline_cmd import _parse_date
from metaads.cli.render import console
from metaads.pipeline import Pipeline
from metaads.pipeline.verify import VerifyReport


@app.command("verify")
def verify_command(
    accounts: Annotated[str | None, typer.Option(help="Comma-separated ids, tables or labels (default: all).")] = None,
    since: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD); default: 28 days before --until.")] = None,
    until: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD); default: the account's today.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")] = False,
) -> None:
    """Compare Meta's account-level daily totals with the warehouse views (and ANALYTICS_URL's tables),
    for the default report and each INSIGHTS_REPORTS report.

    Exit code 0: every day matches and every data-quality check passes; 3: some day differs (or a check
    fails); 1: an error prevented a check.
    """
    settings = state.settings()
    chosen = settings.select_accounts(accounts.split(",") if accounts else None)
    first, last = _parse_date(since, "--since"), _parse_date(until, "--until")
    with Pipeline.from_settings(settings) as pipeline:
        report = pipeline.verify(chosen, since=first, until=last)
    if as_json:
        sys.stdout.write(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        _print(report)
    raise typer.Exit(report.exit_code)


def _print(report: VerifyReport) -> None:
    table = Table(title="Meta account-level totals vs loaded rows")
    for column in (
        "account",
        "report",
        "source",
        "range",
        "days checked",
        "days equal",
        "worst difference",
        "first bad day",
    ):
        table.add_column(column)
    for check in report.checks:
        worst = check.worst
        worst_text = f"{worst.day}: " + ", ".join(f"{k} {v}" for k, v in worst.differences().items()) if worst else ""
        if check.skipped:
            worst_text = f"[yellow]not checked: {check.skipped}[/]"
        table.add_row(
            check.account.display_name,
            check.report or "default",
            check.source,
            str(check.range or ""),
            str(check.days_checked),
            str(check.days_equal),
            f"[red]{check.error}[/]" if check.error else worst_text,
            str(check.first_bad_day or ""),
        )
    console.print(table)
    failing = [q for q in report.quality if not q.ok]
    quality = Table(title=f"data quality: {len(report.quality) - len(failing)}/{len(report.quality)} checks pass")
    for column in ("account", "check", "value", "detail"):
        quality.add_column(column)
    for result in report.quality:
        if not result.ok or result.check == "freshness":
            style = "" if result.ok else "[red]"
            quality.add_row(result.account_id, f"{style}{result.check}", str(result.value), result.detail or "")
    console.print(quality)
    for kind, ids in report.abandoned.items():
        if ids:
            console.print(f"[yellow]{len(ids)} {kind} left running by a process that is gone: recorded abandoned[/]")
    for error in report.errors:
        console.print(f"[red]error[/]: {error}")
    verdict = {0: "[green]everything matches[/]", 3: "[red]some days differ[/]", 1: "[red]errors[/]"}
    console.print(verdict[report.exit_code])
