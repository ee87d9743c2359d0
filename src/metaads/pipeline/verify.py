"""``metaads verify``: Meta's account-level daily totals against the warehouse views and the analytics tables.

For each account: the account-level totals over the range (default: the last 28 days, Meta's restatement
window, ending on the account's local today), one call; the per-day sums of ``vw_graph_ads`` and, when an
analytics database is given, of ``graph_ads``; the tolerance of :mod:`metaads.reconcile.compare`. Plus
the data-quality checks of :mod:`metaads.warehouse.quality`, recorded in ``metaads_quality``, and runs or
syncs left ``running`` by a dead process recorded as ``abandoned``.

Each extra report (``INSIGHTS_REPORTS``) is checked against the same account totals, on the additive
metrics it requests (spend, impressions, clicks, inline link clicks): whatever its level and breakdowns,
its rows of a day add up to the account's day (Meta's breakdown rows sum to the unbroken totals). A
report is checked from the first day its ledger rows record as loaded for the account (a report added
last week is not blamed for the weeks before); one without additive metrics, or with ``time_increment``
other than 1, is listed as not checked.

Exit codes: 0 everything matches, 3 a day differs (or a quality check fails), 1 an error prevented a check.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from metaads.accounts import Account
from metaads.clock import Clock
from metaads.database import DRIVER_ERRORS, driver_message
from metaads.dates import DateRange, local_today
from metaads.errors import MetaAdsError, WarehouseError
from metaads.graph import GraphClient
from metaads.pipeline.reports import masked_totals, reconciled_metrics
from metaads.reconcile.compare import ChunkCheck, DayCheck, Tolerance, check_days
from metaads.reconcile.fetch import account_totals
from metaads.reconcile.totals import EMPTY as _EMPTY
from metaads.reconcile.totals import METRICS, DayTotals
from metaads.redact import redact_text
from metaads.statuses import AccountStatus
from metaads.transform.report_spec import ReportSpec
from metaads.warehouse import Warehouse, quality
from metaads.warehouse.day_totals import stored_totals
from metaads.warehouse.schema import ADS_VIEW, ads_columns

log = logging.getLogger("metaads.verify")

DEFAULT_DAYS = 28
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_DIFFERS = 3
WAREHOUSE = "warehouse"
ANALYTICS = "analytics"


@dataclass
class SourceCheck:
    """One account's report against one place (warehouse views or analytics tables)."""

    account: Account
    source: str
    range: DateRange | None = None
    check: ChunkCheck | None = None
    error: str | None = None
    #: The extra report (INSIGHTS_REPORTS) checked; None: the default report.
    report: str | None = None
    #: The metrics compared (an extra report: the additive ones it requests).
    metrics: tuple[str, ...] = METRICS
    #: Why the report was not checked (no additive metric, rows spanning several days).
    skipped: str | None = None

    @property
    def days_checked(self) -> int:
        return len(self.check.days) if self.check else 0

    @property
    def days_equal(self) -> int:
        return sum(1 for d in self.check.days if d.ok) if self.check else 0

    @property
    def first_bad_day(self) -> date | None:
        bad = self.check.bad_days if self.check else []
        return bad[0].day if bad else None

    @property
    def worst(self) -> DayCheck | None:
        bad = self.check.bad_days if self.check else []
        return max(
            bad,
            default=None,
            key=lambda d: (abs(d.loaded.spend - d.api.spend), abs(d.loaded.impressions - d.api.impressions)),
        )

    def as_dict(self) -> dict[str, Any]:
        worst = self.worst
        return {
            "account_id": self.account.id,
            "account": self.account.display_name,
            "table": self.account.table,
            "report": self.report,
            "metrics": list(self.metrics),
            "skipped": self.skipped,
            "source": self.source,
            "since": self.range.since.isoformat() if self.range else None,
            "until": self.range.until.isoformat() if self.range else None,
            "days_checked": self.days_checked,
            "days_equal": self.days_equal,
            "first_bad_day": self.first_bad_day.isoformat() if self.first_bad_day else None,
            "worst_day": worst.day.isoformat() if worst else None,
            "worst_difference": worst.differences() if worst else {},
            "bad_days": [
                {"date": d.day.isoformat(), "api": d.api.as_dict(), "loaded": d.loaded.as_dict()}
                for d in (self.check.bad_days if self.check else [])
            ],
            "error": self.error,
        }


@dataclass
class VerifyReport:
    """Everything ``verify`` found."""

    checks: list[SourceCheck] = field(default_factory=list)
    quality: list[quality.QualityResult] = field(default_factory=list)
    abandoned: dict[str, list[object]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.errors or any(c.error for c in self.checks):
            return EXIT_ERROR
        if any(c.check is not None and not c.check.ok for c in self.checks) or not all(q.ok for q in self.quality):
            return EXIT_DIFFERS
        return EXIT_OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "accounts": [c.as_dict() for c in self.checks],
            "quality": [q.as_dict() for q in self.quality],
            "abandoned": {k: [str(v) for v in vs] for k, vs in self.abandoned.items()},
            "errors": self.errors,
        }


def _view(schema: str | None) -> sa.TableClause:
    return sa.table(ADS_VIEW, *(sa.column(c.name, c.type) for c in ads_columns()), schema=schema)


def _report_source(name: str, metrics: tuple[str, ...], schema: str | None) -> sa.TableClause:
    """An extra report's view or analytics table, with the columns verify sums."""
    columns: list[sa.ColumnClause[Any]] = [sa.column("account_id", sa.String), sa.column("date", sa.Date)]
    return sa.table(name, *columns, *(sa.column(m) for m in metrics), schema=schema)


def _skipped(spec: ReportSpec) -> str | None:
    """Why ``spec`` cannot be compared with the account's daily totals, or None."""
    if spec.time_increment != 1:
        return f"time_increment {spec.time_increment}: its rows span several days"
    if not reconciled_metrics(spec):
        return f"requests none of {', '.join(METRICS)}"
    return None


def _first_loaded(warehouse: Warehouse, account: Account, report: str) -> date | None:
    """The first day the ledger records ``report`` loaded for ``account`` (None: never)."""
    runs = warehouse.account_runs
    query = sa.select(sa.func.min(runs.c.since)).where(
        runs.c.account_id == account.id,
        runs.c.report == report,
        runs.c.status.in_([AccountStatus.LOADED.value, AccountStatus.MISMATCH.value]),
    )
    with warehouse.engine.connect() as conn:
        found = conn.execute(query).scalar()
    if isinstance(found, str):  # SQLite
        return date.fromisoformat(found)
    return found if isinstance(found, date) else None


def _check_report(
    check: SourceCheck,
    warehouse: Warehouse,
    analytics: tuple[sa.Engine, str | None] | None,
    window: DateRange,
    api: dict[date, DayTotals],
    tolerance: Tolerance,
) -> None:
    """Compare one extra report's rows (view or analytics table) with Meta's account totals over ``window``."""
    assert check.report is not None
    spec = warehouse.reports[check.report].spec
    check.skipped = _skipped(spec)
    if check.skipped is not None:
        check.metrics = ()
        return
    check.metrics = reconciled_metrics(spec)
    try:
        loaded_from = _first_loaded(warehouse, check.account, spec.name)
        first = window.since if loaded_from is None else min(max(window.since, loaded_from), window.until)
        check.range = DateRange(first, window.until)
        if check.source == WAREHOUSE:
            engine, schema, name = warehouse.engine, warehouse.schema, spec.view
        else:
            assert analytics is not None
            engine, schema, name = analytics[0], analytics[1], spec.target
            schema = None if engine.dialect.name == "sqlite" else schema
        with engine.connect() as conn:
            held = stored_totals(
                conn,
                _report_source(name, check.metrics, schema),
                check.account.id,
                first,
                window.until,
                metrics=check.metrics,
            )
    except DRIVER_ERRORS as exc:
        check.error = redact_text(f"reading report {spec.name} from the {check.source} failed: {driver_message(exc)}")
        return
    days = [first + timedelta(days=i) for i in range(check.range.days)]
    wanted = {day: masked_totals(totals, check.metrics) for day, totals in api.items()}
    check.check = check_days(days, wanted, held, tolerance)


def verify(
    client: GraphClient,
    warehouse: Warehouse,
    accounts: Sequence[Account],
    *,
    clock: Clock,
    since: date | None = None,
    until: date | None = None,
    relative_tolerance: str = "0.001",
    analytics: tuple[sa.Engine, str | None] | None = None,
    record: bool = True,
) -> VerifyReport:
    """Compare Meta's account-level totals with the warehouse (and analytics) for ``accounts``."""
    report = VerifyReport()
    try:
        report.abandoned = warehouse.mark_abandoned()
    except MetaAdsError as exc:
        report.errors.append(redact_text(str(exc)))
    spend_days: list[quality.QualityResult] = []
    places = [WAREHOUSE, ANALYTICS] if analytics else [WAREHOUSE]
    for account in accounts:
        sources = [SourceCheck(account, place) for place in places]
        extra = [SourceCheck(account, place, report=name) for name in warehouse.reports for place in places]
        report.checks.extend([*sources, *extra])
        try:
            info = client.account_info(account)
            today = local_today(clock.now(), info.timezone_name)
            last = until or today
            first = since or last - timedelta(days=DEFAULT_DAYS - 1)
            if first > last:
                raise MetaAdsError(f"--since {first} is after --until {last}")
            window = DateRange(first, last)
            api = account_totals(client, account, first, last)
        except MetaAdsError as exc:
            for source in (*sources, *extra):
                source.error = redact_text(str(exc))
            continue
        tolerance = Tolerance.for_currency(info.currency, relative_tolerance)
        days = [first + timedelta(days=i) for i in range(window.days)]
        for source in sources:
            source.range = window
            try:
                if source.source == WAREHOUSE:
                    with warehouse.engine.connect() as conn:
                        held = stored_totals(conn, _view(warehouse.schema), account.id, first, last)
                else:
                    assert analytics is not None
                    engine, schema = analytics
                    table = sa.table(
                        "graph_ads",
                        *(sa.column(c.name, c.type) for c in ads_columns()),
                        schema=None if engine.dialect.name == "sqlite" else schema,
                    )
                    with engine.connect() as conn:
                        held = stored_totals(conn, table, account.id, first, last)
            except DRIVER_ERRORS as exc:
                source.error = redact_text(f"reading the {source.source} failed: {driver_message(exc)}")
                continue
            source.check = check_days(days, api, held, tolerance)
            if source.source == WAREHOUSE:
                spend_days.append(
                    quality.spend_without_rows(
                        account.id, [d for d in days if not api.get(d, _EMPTY).empty and held.get(d, _EMPTY).rows == 0]
                    )
                )
        for check in extra:
            _check_report(check, warehouse, analytics, window, api, tolerance)
    windows = [c.range for c in report.checks if c.range is not None]
    start = min((w.since for w in windows), default=clock.now().date() - timedelta(days=DEFAULT_DAYS - 1))
    end = max((w.until for w in windows), default=None)
    report.quality = _quality(warehouse, accounts, clock, spend_days, report, start, end)
    if record and report.quality:
        try:
            with warehouse.engine.begin() as conn:
                quality.record(conn, warehouse.quality, report.quality, run_id=None, now=clock.now())
        except DRIVER_ERRORS as exc:
            report.errors.append(redact_text(f"recording the quality checks failed: {driver_message(exc)}"))
    return report


def _quality(
    warehouse: Warehouse,
    accounts: Sequence[Account],
    clock: Clock,
    spend_days: list[quality.QualityResult],
    report: VerifyReport,
    since: date,
    until: date | None,
) -> list[quality.QualityResult]:
    try:
        with warehouse.engine.connect() as conn:
            results = quality.warehouse_checks(
                conn, warehouse.schema, [a.id for a in accounts], clock.now().date(), since, until
            )
    except DRIVER_ERRORS as exc:
        report.errors.append(redact_text(f"data-quality checks failed: {driver_message(exc)}"))
        return spend_days
    return results + spend_days


def record_run_quality(
    warehouse: Warehouse, accounts: Sequence[Account], run_id: str, clock: Clock, lookback_days: int = DEFAULT_DAYS
) -> list[quality.QualityResult]:
    """The checks after a run (no API call: Meta's totals come from the run's reconciliation), recorded.

    Raises:
        WarehouseError: the checks or the record failed (the caller logs it; the run's data is unaffected).
    """
    today = clock.now().date()
    since = today - timedelta(days=lookback_days)
    ids = [a.id for a in accounts]
    try:
        with warehouse.engine.begin() as conn:
            results = quality.warehouse_checks(conn, warehouse.schema, ids, today, since)
            results += quality.ledger_spend_without_rows(conn, warehouse.chunk_days, ids, since)
            quality.record(conn, warehouse.quality, results, run_id=run_id, now=clock.now())
    except DRIVER_ERRORS as exc:
        raise WarehouseError(f"data-quality checks failed: {driver_message(exc)}") from exc
    for result in results:
        if not result.ok:
            log.warning(
                "data quality: account %s %s = %s %s",
                result.account_id,
                result.check,
                result.value,
                result.detail or "",
            )
    return results
