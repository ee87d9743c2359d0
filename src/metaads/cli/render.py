"""Rich output for the CLI: live per-account progress and the end-of-run summary."""

from __future__ import annotations

import sys
import threading
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from metaads.accounts import Account
from metaads.pipeline import AccountResult, DateRange, RunSummary

# Piped output (CI logs, files) gets a wide fixed width instead of rich's 80-column fallback.
console = Console(stderr=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


class RichProgress:
    """A :class:`~metaads.pipeline.ProgressListener`: one live line per account on a terminal.

    Each line shows the account's stage (``fetching page 3``, ``waiting for quota until 14:05:10 UTC``,
    ``reconciling``, ``loading``, ``reconciled``, then its final status) and the rows fetched. Without a
    terminal (CI logs, Airflow, pipes) the same stage changes are printed as plain lines instead.
    """

    def __init__(self, accounts: list[Account], *, enabled: bool = True) -> None:
        self._live = enabled
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[name]:<24}"),
            BarColumn(bar_width=20),
            TextColumn("{task.fields[status]:<40}"),
            TextColumn("{task.completed:>9,.0f} rows"),
            TimeElapsedColumn(),
            console=err_console,
            disable=not enabled,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._pages: dict[str, int] = {}
        self._stages: dict[str, str] = {}
        self._names = {account.id: account.display_name for account in accounts}
        self._lock = threading.Lock()
        for account in accounts:
            self._tasks[account.id] = self._progress.add_task(
                "", total=None, name=account.display_name, status="queued", start=False
            )

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def _show(self, account_id: str, stage: str) -> None:
        # Called with the lock held. Plain lines only when the stage changes (not on every page).
        task = self._tasks[account_id]
        self._progress.update(task, status=stage)
        kind = stage.split(" ", 1)[0]
        if not self._live and self._stages.get(account_id) != kind:
            err_console.print(f"{self._names[account_id]}: {stage}", highlight=False, markup=False)
        self._stages[account_id] = kind

    def account_started(self, account: Account, date_range: DateRange) -> None:
        with self._lock:
            self._progress.start_task(self._tasks[account.id])
            self._show(account.id, f"started {date_range}")

    def rows_fetched(self, account: Account, rows: int) -> None:
        with self._lock:
            self._pages[account.id] = self._pages.get(account.id, 0) + 1
            self._progress.advance(self._tasks[account.id], rows)
            self._show(account.id, f"fetching page {self._pages[account.id]}")

    def stage(self, account: Account, stage: str) -> None:
        with self._lock:
            self._show(account.id, stage)

    def account_finished(self, result: AccountResult) -> None:
        with self._lock:
            task = self._tasks[result.account.id]
            self._show(result.account.id, f"done: {result.status}")
            self._progress.update(task, total=1, completed=result.ads_rows)
            self._progress.stop_task(task)


def summary_table(summary: RunSummary) -> Table:
    table = Table(title=f"run {summary.run_id} ({summary.duration_s:.1f}s)", show_lines=False)
    for column, justify in [
        ("account", "left"),
        ("id", "left"),
        ("status", "left"),
        ("range", "left"),
        ("ads rows", "right"),
        ("actions rows", "right"),
        ("API calls", "right"),
        ("throttled", "right"),
        ("time", "right"),
        ("error", "left"),
    ]:
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for r in summary.results:
        style = "green" if r.ok else ("yellow" if r.status == "partial" else "red")
        status = str(r.status)
        error = r.error or ""
        if r.ok and r.mismatches:  # RECONCILE=warn: loaded, but not equal to Meta's account totals
            status, style = f"{r.status} (mismatch)", "yellow"
            error = "; ".join(c.error or "" for c in r.mismatches)
        table.add_row(
            r.account.display_name,
            r.account.act_id,
            f"[{style}]{status}[/]",
            f"{r.range} ({r.window})" if r.range and r.window else str(r.range or "-"),
            f"{r.ads_rows:,}",
            f"{r.actions_rows:,}",
            f"{r.api_calls:,}",
            f"{r.throttled_s:.1f}s",
            f"{r.duration_s:.1f}s",
            error[:120],
        )
    table.add_section()
    table.add_row(
        "total",
        "",
        "ok" if summary.ok else f"{len(summary.failed)} failed",
        "",
        f"{summary.ads_rows:,}",
        f"{summary.actions_rows:,}",
        f"{summary.api_calls:,}",
        "",
        f"{summary.duration_s:.1f}s",
        "",
    )
    return table


def key_value_table(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value")
    for key, value in rows.items():
        table.add_row(key, str(value))
    return table
