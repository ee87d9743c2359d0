"""Extracting and loading the extra insights reports (``INSIGHTS_REPORTS``) of one account.

Each report runs after the account's default report, over its own look-back (or the run's), chunk by
chunk exactly like the default: a chunk is fetched completely into a :class:`RowSpool`, then replaces
its date range in the report's tables in one transaction, and gets its own ledger row (``report`` set)
so the incremental sync copies it. A failed chunk leaves the previous rows untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from metaads.accounts import Account
from metaads.clock import Clock
from metaads.dates import DateRange, chunk_range, resolve_range
from metaads.errors import MetaAdsError, is_retryable
from metaads.graph import GraphClient
from metaads.outcomes import ChunkResult
from metaads.pipeline.spool import RowSpool
from metaads.redact import redact_text
from metaads.statuses import AccountStatus
from metaads.transform.report_spec import ReportSpec
from metaads.transform.reports import to_report_list_rows, to_report_rows
from metaads.warehouse import Warehouse

log = logging.getLogger("metaads.pipeline")


@dataclass(frozen=True)
class ReportChunk:
    """One date range of one extra report of one account: the report's name and the chunk's outcome
    (``ads_rows``: the report's rows, ``actions_rows``: its list rows)."""

    report: str
    outcome: ChunkResult

    @property
    def range(self) -> DateRange:
        return self.outcome.range

    @property
    def status(self) -> AccountStatus:
        return self.outcome.status

    @property
    def rows(self) -> int:
        return self.outcome.ads_rows

    @property
    def list_rows(self) -> int:
        return self.outcome.actions_rows

    @property
    def error(self) -> str | None:
        return self.outcome.error

    @property
    def ok(self) -> bool:
        return self.outcome.status == AccountStatus.LOADED


def report_range(spec: ReportSpec, today: date, *, default_lookback: int, since: date | None,
                 until: date | None) -> DateRange:
    """The days a report fetches: the run's explicit range, else the report's own look-back (or the run's)."""
    return resolve_range(today, lookback_days=spec.lookback_days or default_lookback, since=since, until=until)


def _fetch_and_load(client: GraphClient, warehouse: Warehouse, clock: Clock, account: Account,
                    spec: ReportSpec, chunk: DateRange, on_rows: Callable[[int], None] | None) -> tuple[int, int]:
    layout = warehouse.reports[spec.name]
    with RowSpool() as spool:
        for page in client.insights(
                account, chunk.since, chunk.until, level=spec.level, fields=spec.request_fields(),
                breakdowns=spec.breakdowns, action_breakdowns=spec.action_breakdowns,
                action_attribution_windows=spec.action_attribution_windows,
                action_report_time=spec.action_report_time, time_increment=spec.time_increment):
            spool.extend(page)
            if on_rows is not None:
                on_rows(len(page))
        loaded_at = clock.now()
        load = warehouse.replace_range(
            account, chunk.since, chunk.until,
            to_report_rows(spool.rows(), layout, loaded_at=loaded_at),
            to_report_list_rows(spool.rows(), layout, loaded_at=loaded_at),
            report=spec.name,
        )
    return load.ads_rows, load.actions_rows


def load_report_chunk(client: GraphClient, warehouse: Warehouse, clock: Clock, account: Account,
                      spec: ReportSpec, chunk: DateRange, *,
                      on_rows: Callable[[int], None] | None = None) -> ReportChunk:
    """Fetch one chunk of ``spec`` completely, then replace it in the report's tables.

    Never raises for API or load failures: they are in the returned chunk (its own calls and time).
    """
    started, before = clock.monotonic(), client.stats(account)
    try:
        rows, list_rows = _fetch_and_load(client, warehouse, clock, account, spec, chunk, on_rows)
        status, error, retryable = AccountStatus.LOADED, None, True
    except MetaAdsError as exc:
        rows, list_rows, status, error, retryable = 0, 0, AccountStatus.FAILED, redact_text(str(exc)), \
            is_retryable(exc)
    after = client.stats(account)
    return ReportChunk(spec.name, ChunkResult(
        chunk, status, ads_rows=rows, actions_rows=list_rows, error=error, retryable=retryable,
        api_calls=after.api_calls - before.api_calls, throttled_s=after.throttled_s - before.throttled_s,
        duration_s=clock.monotonic() - started))


def load_reports(client: GraphClient, warehouse: Warehouse, clock: Clock, account: Account,
                 specs: tuple[ReportSpec, ...], *, today: date, default_lookback: int, chunk_days: int,
                 since: date | None, until: date | None, run_id: str,
                 on_rows: Callable[[int], None] | None = None) -> list[ReportChunk]:
    """Every extra report of ``account``, chunk by chunk, each chunk recorded in the ledger."""
    chunks: list[ReportChunk] = []
    for spec in specs:
        whole = report_range(spec, today, default_lookback=default_lookback, since=since, until=until)
        for chunk in chunk_range(whole, chunk_days):
            done = load_report_chunk(client, warehouse, clock, account, spec, chunk, on_rows=on_rows)
            chunks.append(done)
            try:
                warehouse.record_account_run(run_id, account, done.outcome, report=spec.name)
            except MetaAdsError as exc:  # the ledger is bookkeeping: report, do not lose the load
                log.error("account %s: could not write the run ledger of report %s: %s",
                          account.display_name, spec.name, exc)
            if done.ok:
                log.info("account %s report %s %s: %d rows, %d list rows", account.display_name, spec.name,
                         chunk, done.rows, done.list_rows)
            else:
                log.error("account %s report %s %s failed: %s", account.display_name, spec.name, chunk,
                          done.error)
    return chunks
