"""Extracting and loading the extra insights reports (``INSIGHTS_REPORTS``) of one account.

Each report runs after the account's default report, over its own look-back (or the run's), chunk by
chunk exactly like the default: a chunk is fetched completely, its rows staged in the load's format
(:mod:`metaads.warehouse.staging`), then it replaces its date range in the report's tables in one
transaction that also writes its ledger row (``report`` set), so the incremental sync copies it. A
failed chunk leaves the previous rows untouched.

Reconciliation (``RECONCILE``, docs/reports.md): a daily report that requests additive metrics
(spend, impressions, clicks, inline link clicks) has their per-day sums, over every object and
breakdown value, compared with Meta's account-level totals. ``warn`` loads a mismatch and records it
as ``mismatch``; ``strict`` fetches once more and, if it still differs, keeps the stored rows and
records ``mismatch`` (nothing replaced; the account ends ``partial``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from metaads.accounts import Account
from metaads.clock import Clock
from metaads.dates import DateRange, chunk_range, resolve_range
from metaads.errors import MetaAdsError, is_retryable
from metaads.graph import GraphClient
from metaads.outcomes import ChunkResult
from metaads.reconcile.compare import OFF, STRICT, Tolerance
from metaads.reconcile.fetch import account_totals
from metaads.reconcile.totals import EMPTY, METRICS, DayTotals, TotalsByDay
from metaads.redact import redact_text
from metaads.statuses import AccountStatus
from metaads.transform.report_spec import ReportSpec
from metaads.transform.reports import to_report_list_rows, to_report_rows
from metaads.warehouse import Warehouse
from metaads.warehouse.load import LoadResult
from metaads.warehouse.staging import Staging

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
        """Loaded (a ``warn`` mismatch included, as for the default report)."""
        return self.outcome.ok

    @property
    def kept_stored_rows(self) -> bool:
        """A ``strict`` mismatch: nothing was replaced."""
        return self.outcome.blocking


def report_range(
    spec: ReportSpec, today: date, *, default_lookback: int, since: date | None, until: date | None
) -> DateRange:
    """The days a report fetches: the run's explicit range, else the report's own look-back (or the run's)."""
    return resolve_range(today, lookback_days=spec.lookback_days or default_lookback, since=since, until=until)


def reconciled_metrics(spec: ReportSpec) -> tuple[str, ...]:
    """The additive metrics of ``spec`` that can be checked against account totals (none: no check)."""
    if spec.time_increment != 1:
        return ()
    return tuple(m for m in METRICS if m in spec.fields)


def masked_totals(totals: DayTotals, metrics: tuple[str, ...]) -> DayTotals:
    """``totals`` with the metrics a report does not request set to 0 (left out of a comparison)."""
    return DayTotals(
        totals.spend if "spend" in metrics else Decimal(0),
        totals.impressions if "impressions" in metrics else 0,
        totals.clicks if "clicks" in metrics else 0,
        totals.inline_link_clicks if "inline_link_clicks" in metrics else 0,
        totals.rows,
    )


def mismatched_days(
    chunk: DateRange,
    api: dict[date, DayTotals],
    sums: dict[date, DayTotals],
    metrics: tuple[str, ...],
    tolerance: Tolerance,
) -> list[date]:
    """Days of ``chunk`` whose report sums differ from Meta's account totals (on ``metrics`` only)."""
    days = [chunk.since + timedelta(days=i) for i in range((chunk.until - chunk.since).days + 1)]
    return [
        day
        for day in days
        if not tolerance.matches(
            masked_totals(api.get(day, EMPTY), metrics), masked_totals(sums.get(day, EMPTY), metrics)
        )
    ]


class ReportLoader:
    """Loads the extra reports' chunks of one run, with one reconciliation mode and tolerance."""

    def __init__(
        self,
        client: GraphClient,
        warehouse: Warehouse,
        clock: Clock,
        *,
        reconcile: str = OFF,
        relative_tolerance: str = "0.001",
        load_slots: AbstractContextManager[object] | None = None,
    ) -> None:
        self.client = client
        self.warehouse = warehouse
        self.clock = clock
        self.reconcile = reconcile
        self.relative_tolerance = relative_tolerance
        # Shared with the default report's loads: ACCOUNT_GROUP_SIZE loads at once, fetches unlimited.
        self.load_slots: AbstractContextManager[object] = load_slots or nullcontext()

    def _fetch(
        self,
        stack: ExitStack,
        account: Account,
        spec: ReportSpec,
        chunk: DateRange,
        on_rows: Callable[[int], None] | None,
    ) -> tuple[Staging, TotalsByDay]:
        # As for the default report: each page is transformed and staged in the load's format as it
        # arrives (metaads.warehouse.staging); the rows carry the time their fetch began.
        staged = stack.enter_context(self.warehouse.stage(account, chunk.since, chunk.until, report=spec.name))
        layout = self.warehouse.reports[spec.name]
        loaded_at = self.clock.now()
        sums = TotalsByDay()
        for page in self.client.insights(
            account,
            chunk.since,
            chunk.until,
            level=spec.level,
            fields=spec.request_fields(),
            breakdowns=spec.breakdowns,
            action_breakdowns=spec.action_breakdowns,
            action_attribution_windows=spec.action_attribution_windows,
            action_report_time=spec.action_report_time,
            time_increment=spec.time_increment,
        ):
            sums.add_all(page)
            staged.ads.add(to_report_rows(page, layout, loaded_at=loaded_at))
            staged.actions.add(to_report_list_rows(page, layout, loaded_at=loaded_at))
            if on_rows is not None:
                on_rows(len(page))
            del page  # not held while the next rows are parsed or fetched
        return staged, sums

    def _load(
        self,
        account: Account,
        spec: ReportSpec,
        chunk: DateRange,
        run_id: str,
        currency: str | None,
        totals: dict[DateRange, dict[date, DayTotals]],
        costed: Callable[[ChunkResult], ChunkResult],
        on_rows: Callable[[int], None] | None,
    ) -> ChunkResult:
        metrics = reconciled_metrics(spec) if self.reconcile != OFF else ()
        outcome = ChunkResult(chunk, AccountStatus.LOADED)
        with ExitStack() as stack:
            staged, sums = self._fetch(stack, account, spec, chunk, on_rows)
            if metrics:
                if chunk not in totals:  # one account-level call per range, shared by the account's reports
                    totals[chunk] = account_totals(self.client, account, chunk.since, chunk.until)
                tolerance = Tolerance.for_currency(currency, self.relative_tolerance)
                bad = mismatched_days(chunk, totals[chunk], sums.days, metrics, tolerance)
                if bad and self.reconcile == STRICT:
                    log.warning(
                        "account %s report %s %s: sums differ from Meta's account totals on %d days; fetching again",
                        account.display_name,
                        spec.name,
                        chunk,
                        len(bad),
                    )
                    staged, sums = self._fetch(stack, account, spec, chunk, on_rows)
                    bad = mismatched_days(chunk, totals[chunk], sums.days, metrics, tolerance)
                if bad:
                    error = (
                        f"reconciliation: report {spec.name} differs from Meta's account totals "
                        f"({', '.join(metrics)}) on {len(bad)} days: "
                        f"{', '.join(d.isoformat() for d in bad[:5])}{'...' if len(bad) > 5 else ''}"
                    )
                    if self.reconcile == STRICT:
                        # Both answers differ: keep the stored rows rather than load numbers known to be short.
                        return costed(
                            ChunkResult(
                                chunk,
                                AccountStatus.MISMATCH,
                                error=error + "; stored rows kept",
                                mismatch_days=len(bad),
                                blocking=True,
                                retryable=False,
                            )
                        )
                    outcome = ChunkResult(chunk, AccountStatus.MISMATCH, error=error, mismatch_days=len(bad))

            def record(conn: sa.Connection, load: LoadResult) -> int:
                entry = costed(replace(outcome, ads_rows=load.ads_rows, actions_rows=load.actions_rows))
                return self.warehouse.record_chunk(conn, run_id, account, entry, report=spec.name)

            with self.load_slots:
                load = self.warehouse.replace_range(
                    account,
                    chunk.since,
                    chunk.until,
                    staged.ads,
                    staged.actions,
                    record=record,
                    report=spec.name,
                )
        return costed(replace(outcome, ads_rows=load.ads_rows, actions_rows=load.actions_rows, recorded=True))

    def load_chunk(
        self,
        account: Account,
        spec: ReportSpec,
        chunk: DateRange,
        *,
        run_id: str,
        currency: str | None = None,
        totals: dict[DateRange, dict[date, DayTotals]] | None = None,
        on_rows: Callable[[int], None] | None = None,
    ) -> ReportChunk:
        """Fetch one chunk of ``spec`` completely, (reconcile,) replace it in the report's tables, record it.

        Never raises for API or load failures: they are in the returned chunk (with its own calls and time)
        and in the ledger.
        """
        started, before = self.clock.monotonic(), self.client.stats(account)

        def costed(outcome: ChunkResult) -> ChunkResult:
            after = self.client.stats(account)
            return replace(
                outcome,
                api_calls=after.api_calls - before.api_calls,
                throttled_s=after.throttled_s - before.throttled_s,
                duration_s=self.clock.monotonic() - started,
            )

        try:
            outcome = self._load(
                account, spec, chunk, run_id, currency, {} if totals is None else totals, costed, on_rows
            )
        except MetaAdsError as exc:
            outcome = costed(
                ChunkResult(chunk, AccountStatus.FAILED, error=redact_text(str(exc)), retryable=is_retryable(exc))
            )
        if not outcome.recorded:
            try:
                self.warehouse.record_account_run(run_id, account, outcome, report=spec.name)
            except MetaAdsError as exc:  # the ledger is bookkeeping: report, do not lose the load
                log.error(
                    "account %s: could not write the run ledger of report %s: %s", account.display_name, spec.name, exc
                )
        return ReportChunk(spec.name, outcome)


def load_reports(
    loader: ReportLoader,
    account: Account,
    specs: tuple[ReportSpec, ...],
    *,
    today: date,
    default_lookback: int,
    chunk_days: int,
    since: date | None,
    until: date | None,
    run_id: str,
    currency: str | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> list[ReportChunk]:
    """Every extra report of ``account``, chunk by chunk, each chunk recorded in the ledger."""
    chunks: list[ReportChunk] = []
    totals: dict[DateRange, dict[date, DayTotals]] = {}
    for spec in specs:
        whole = report_range(spec, today, default_lookback=default_lookback, since=since, until=until)
        for chunk in chunk_range(whole, chunk_days):
            done = loader.load_chunk(
                account, spec, chunk, run_id=run_id, currency=currency, totals=totals, on_rows=on_rows
            )
            chunks.append(done)
            if done.status == AccountStatus.LOADED:
                log.info(
                    "account %s report %s %s: %d rows, %d list rows",
                    account.display_name,
                    spec.name,
                    chunk,
                    done.rows,
                    done.list_rows,
                )
            else:
                log.error(
                    "account %s report %s %s %s: %s", account.display_name, spec.name, chunk, done.status, done.error
                )
    return chunks
