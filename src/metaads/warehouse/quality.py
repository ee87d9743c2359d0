"""Data-quality checks over the warehouse views, per account; recorded in ``metaads_quality``.

- ``duplicate_unique_id``: rows sharing a ``unique_id`` in ``vw_graph_ads`` (must be 0).
- ``negative_metrics``: ads rows with negative spend, impressions, clicks or link clicks (must be 0).
- ``orphan_actions``: actions rows whose ad-day has no ads row (must be 0).
- ``api_spend_no_rows``: account-days where Meta's account-level totals have spend and the warehouse has
  no rows (from the last reconciliation of each day, or from ``verify``'s own API answer).
- ``freshness``: the last day loaded per account; informational (never fails a check by itself), the
  value is the days between it and ``today``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from metaads.warehouse.schema import ACTIONS_VIEW, ADS_VIEW, actions_columns, ads_columns

DUPLICATES = "duplicate_unique_id"
NEGATIVE = "negative_metrics"
ORPHANS = "orphan_actions"
SPEND_NO_ROWS = "api_spend_no_rows"
FRESHNESS = "freshness"


@dataclass(frozen=True)
class QualityResult:
    """One check for one account: the offending count (or the freshness lag in days) and the verdict."""

    check: str
    account_id: str
    value: int
    ok: bool
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _view(name: str, columns: Sequence[sa.Column[object]], schema: str | None) -> sa.TableClause:
    return sa.table(name, *(sa.column(c.name, c.type) for c in columns), schema=schema)


def _date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# PostgreSQL's planner prices the orphan anti-join over the union views (a million actions rows
# against 200k ads rows) as a merge join with sorts spilled to disk, or without parallel workers as a
# nested loop, and its cost estimate turns JIT compilation on: 1.8-2.6 s at the standard tier (10
# accounts x 4,000 ads x 15 days), 10 s as a nested loop. A hash join without JIT takes 0.4 s (0.8 s
# without parallel workers). The checks run once per run and end it, so their time is the run's.
_CHECK_SETTINGS = {"jit": "off", "enable_mergejoin": "off", "enable_nestloop": "off"}


@contextmanager
def _check_settings(conn: sa.Connection) -> Iterator[None]:
    """The planner settings above for the duration of the checks, in the caller's transaction."""
    if conn.dialect.name != "postgresql":
        yield
        return
    before = dict(
        zip(_CHECK_SETTINGS, conn.execute(sa.select(*map(sa.func.current_setting, _CHECK_SETTINGS))).one(), strict=True)
    )
    _set_local(conn, _CHECK_SETTINGS)
    try:
        yield
    finally:
        _set_local(conn, before)


def _set_local(conn: sa.Connection, settings: dict[str, str]) -> None:
    # set_config(..., true) is SET LOCAL: it ends with the caller's transaction at the latest.
    conn.execute(sa.select(*(sa.func.set_config(name, value, True) for name, value in settings.items())))


def warehouse_checks(
    conn: sa.Connection,
    schema: str | None,
    account_ids: Iterable[str],
    today: date,
    since: date,
    until: date | None = None,
) -> list[QualityResult]:
    """The checks that need only the warehouse, for ``account_ids`` over ``since``..``until``.

    Limited to a window (a run's look-back, verify's range) so the checks stay cheap on a warehouse of
    years; freshness looks at the same window ("no rows since ..." when it is empty).
    """
    with _check_settings(conn):
        return _warehouse_checks(conn, schema, sorted(set(account_ids)), today, since, until)


def _warehouse_checks(
    conn: sa.Connection, schema: str | None, wanted: list[str], today: date, since: date, until: date | None
) -> list[QualityResult]:
    ads = _view(ADS_VIEW, ads_columns(), schema)
    actions = _view(ACTIONS_VIEW, actions_columns(), schema)
    last_day = until or date.max
    in_accounts = sa.and_(ads.c.account_id.in_(wanted), ads.c.date.between(since, last_day))
    per_account: dict[str, dict[Any, Any]] = {
        DUPLICATES: dict(
            conn.execute(
                sa.select(ads.c.account_id, sa.func.count() - sa.func.count(sa.distinct(ads.c.unique_id)))
                .where(in_accounts)
                .group_by(ads.c.account_id)
            ).all()
        ),
        NEGATIVE: dict(
            conn.execute(
                sa.select(ads.c.account_id, sa.func.count())
                .where(
                    in_accounts,
                    sa.or_(ads.c.spend < 0, ads.c.impressions < 0, ads.c.clicks < 0, ads.c.inline_link_clicks < 0),
                )
                .group_by(ads.c.account_id)
            ).all()
        ),
        ORPHANS: dict(
            conn.execute(
                sa.select(actions.c.account_id, sa.func.count())
                .where(
                    actions.c.account_id.in_(wanted),
                    actions.c.date.between(since, last_day),
                    ~sa.exists().where(
                        ads.c.account_id == actions.c.account_id,
                        ads.c.ad_id == actions.c.ad_id,
                        ads.c.date == actions.c.date,
                    ),
                )
                .group_by(actions.c.account_id)
            ).all()
        ),
    }
    last = {
        str(a): _date(d)
        for a, d in conn.execute(
            sa.select(ads.c.account_id, sa.func.max(ads.c.date)).where(in_accounts).group_by(ads.c.account_id)
        )
    }
    out = []
    for account in wanted:
        for check, counts in per_account.items():
            value = int(counts.get(account, 0) or 0)
            out.append(QualityResult(check, account, value, value == 0))
        day = last.get(account)
        out.append(
            QualityResult(
                FRESHNESS,
                account,
                -1 if day is None else (today - day).days,
                True,
                f"last loaded day {day}" if day else f"no rows since {since}",
            )
        )
    return out


def ledger_spend_without_rows(
    conn: sa.Connection, chunk_days: sa.Table, account_ids: Iterable[str], since: date
) -> list[QualityResult]:
    """``api_spend_no_rows`` from the latest reconciliation of each account-day on or after ``since``."""
    latest = (
        sa.select(chunk_days.c.account_id, chunk_days.c.date, sa.func.max(chunk_days.c.ledger_id).label("lid"))
        .where(chunk_days.c.date >= since)
        .group_by(chunk_days.c.account_id, chunk_days.c.date)
        .subquery()
    )
    rows = conn.execute(
        sa.select(chunk_days.c.account_id, chunk_days.c.date)
        .join(latest, sa.and_(latest.c.lid == chunk_days.c.ledger_id, latest.c.date == chunk_days.c.date))
        .where(chunk_days.c.api_spend > 0, chunk_days.c.loaded_rows == 0)
    ).all()
    days: dict[str, list[date]] = {}
    for account, day in rows:
        days.setdefault(str(account), []).append(_date(day))  # type: ignore[arg-type]
    return [spend_without_rows(account, days.get(account, [])) for account in sorted(set(account_ids))]


def spend_without_rows(account_id: str, days: Sequence[date]) -> QualityResult:
    shown = ", ".join(d.isoformat() for d in sorted(days)[:5]) + ("..." if len(days) > 5 else "")
    return QualityResult(SPEND_NO_ROWS, account_id, len(days), not days, shown or None)


def record(
    conn: sa.Connection, quality: sa.Table, results: Iterable[QualityResult], *, run_id: str | None, now: datetime
) -> int:
    """Insert the results into ``metaads_quality``; returns the count."""
    rows = [
        {
            "run_id": run_id,
            "checked_at": now,
            "check_name": r.check,
            "account_id": r.account_id,
            "value": r.value,
            "detail": r.detail,
            "ok": r.ok,
        }
        for r in results
    ]
    if rows:
        conn.execute(quality.insert(), rows)
    return len(rows)
