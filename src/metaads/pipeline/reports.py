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
from metaads.errors import MetaAdsError
from metaads.graph import GraphClient
from metaads.pipeline.spool import RowSpool
from metaads.redact import redact_text
from metaads.transform.report_spec import ReportSpec
from metaads.transform.reports import to_report_list_rows, to_report_rows
from metaads.warehouse import Warehouse

log = logging.getLogger("metaads.pipeline")

LOADED = "loaded"
FAILED = "failed"


@dataclass(frozen=True)
class ReportChunk:
    """One date range of one extra report of one account."""

    report: str
    range: DateRange
    status: str
    rows: int = 0
    list_rows: int = 0
    error: str | None = None


def report_range(spec: ReportSpec, today: date, *, default_lookback: int, since: date | None,
                 until: date | None) -> DateRange:
    """The days a report fetches: the run's explicit range, else the report's own look-back (or the run's)."""
    return resolve_range(today, lookback_days=spec.lookback_days or default_lookback, since=since, until=until)


def load_report_chunk(client: GraphClient, warehouse: Warehouse, clock: Clock, account: Account,
                      spec: ReportSpec, chunk: DateRange, *, page_size: int | None = None,
                      on_rows: Callable[[int], None] | None = None) -> ReportChunk:
    """Fetch one chunk of ``spec`` completely, then replace it in the report's tables.

    Never raises for API or load failures (MetaAdsError): they are in the returned chunk.
    """
    layout = warehouse.reports[spec.name]
    with RowSpool() as spool:
        try:
            for page in client.insights(
                    account, chunk.since, chunk.until, level=spec.level, fields=spec.request_fields(),
                    breakdowns=spec.breakdowns, action_breakdowns=spec.action_breakdowns,
                    action_attribution_windows=spec.action_attribution_windows,
                    action_report_time=spec.action_report_time, time_increment=spec.time_increment,
                    page_size=page_size):
                spool.extend(page)
                if on_rows is not None:
                    on_rows(len(page))
        except MetaAdsError as exc:
            return ReportChunk(spec.name, chunk, FAILED, error=redact_text(str(exc)))
        loaded_at = clock.now()
        try:
            load = warehouse.replace_range(
                account, chunk.since, chunk.until,
                to_report_rows(spool.rows(), layout, loaded_at=loaded_at),
                to_report_list_rows(spool.rows(), layout, loaded_at=loaded_at),
                report=spec.name,
            )
        except MetaAdsError as exc:
            return ReportChunk(spec.name, chunk, FAILED, error=redact_text(str(exc)))
    return ReportChunk(spec.name, chunk, LOADED, rows=load.ads_rows, list_rows=load.actions_rows)


def load_reports(client: GraphClient, warehouse: Warehouse, clock: Clock, account: Account,
                 specs: tuple[ReportSpec, ...], *, today: date, default_lookback: int, chunk_days: int,
                 since: date | None, until: date | None, run_id: str, started: float,
                 on_rows: Callable[[int], None] | None = None) -> list[ReportChunk]:
    """Every extra report of ``account``, chunk by chunk, each chunk recorded in the ledger."""
    chunks: list[ReportChunk] = []
    for spec in specs:
        whole = report_range(spec, today, default_lookback=default_lookback, since=since, until=until)
        for chunk in chunk_range(whole, chunk_days):
            done = load_report_chunk(client, warehouse, clock, account, spec, chunk, on_rows=on_rows)
            chunks.append(done)
            stats = client.stats(account)
            try:
                warehouse.record_account_run(
                    run_id, account, chunk.since, chunk.until, status=done.status, ads_rows=done.rows,
                    actions_rows=done.list_rows, api_calls=stats.api_calls, throttled_s=stats.throttled_s,
                    duration_s=clock.monotonic() - started, error=done.error, report=spec.name)
            except MetaAdsError as exc:  # the ledger is bookkeeping: report, do not lose the load
                log.error("account %s: could not write the run ledger of report %s: %s",
                          account.display_name, spec.name, exc)
            if done.status == LOADED:
                log.info("account %s report %s %s: %d rows, %d list rows", account.display_name, spec.name,
                         chunk, done.rows, done.list_rows)
            else:
                log.error("account %s report %s %s failed: %s", account.display_name, spec.name, chunk,
                          done.error)
    return chunks
