"""What a sync copies: the retention window and the (account, date range) slices to replace.

Incremental: the ranges of ``metaads_account_runs`` rows with status ``loaded`` or ``mismatch`` (both
changed the warehouse) and an id above the
last successful sync's watermark, clipped to the window. Full (or first) sync: every account found in
the warehouse view, and every retired account (account registry) still in the target, over the whole
window; an account in the target that is neither in the views nor retired keeps its rows. Overlapping
ranges of one account are merged (runs re-load the same lookback days) and long ones are cut into
chunks so the threads share the work.
Each slice is replaced atomically on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import sqlalchemy as sa

from metaads.warehouse.ledger import CHANGED_STATUSES

INCREMENTAL = "incremental"
FULL = "full"
# Open-ended slices reach the end of the calendar: every DATE type accepts 9999-12-31.
END_OF_TIME = date.max
DEFAULT_SLICE_DAYS = 31


@dataclass(frozen=True, order=True)
class Slice:
    """One account's rows dated ``since``..``until`` (inclusive), replaced in one transaction."""

    account_id: str
    since: date
    until: date

    def __str__(self) -> str:
        until = "" if self.until == END_OF_TIME else self.until.isoformat()
        return f"{self.account_id} {self.since.isoformat()}..{until}"


@dataclass(frozen=True)
class Plan:
    """The slices one sync replaces, the window start and the watermark it will record."""

    mode: str
    window_start: date
    watermark: int
    slices: tuple[Slice, ...]


def window_start(today: date, retention_days: int) -> date:
    """First day kept in the analytics tables: ``retention_days`` days ending with ``today``."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    return today - timedelta(days=retention_days - 1)


def merge(slices: Iterable[Slice]) -> list[Slice]:
    """Union of overlapping or adjacent ranges, per account."""
    merged: list[Slice] = []
    for item in sorted(slices):
        if merged:
            last = merged[-1]
            # END_OF_TIME + 1 day would overflow: an open-ended slice absorbs everything after it.
            if last.account_id == item.account_id and (
                last.until == END_OF_TIME or item.since <= last.until + timedelta(days=1)
            ):
                merged[-1] = Slice(last.account_id, last.since, max(last.until, item.until))
                continue
        merged.append(item)
    return merged


def clip(slices: Iterable[Slice], start: date) -> list[Slice]:
    """Slices limited to dates on or after ``start`` (those entirely before it are dropped)."""
    return [Slice(s.account_id, max(s.since, start), s.until) for s in slices if s.until >= start]


def split(slices: Iterable[Slice], days: int, today: date) -> list[Slice]:
    """Slices cut into chunks of at most ``days`` days; an open end stays with the last chunk."""
    if days < 1:
        raise ValueError("days must be at least 1")
    out: list[Slice] = []
    for item in slices:
        since = item.since
        last_day = min(item.until, max(today, since))
        while since + timedelta(days=days - 1) < last_day:
            until = since + timedelta(days=days - 1)
            out.append(Slice(item.account_id, since, until))
            since = until + timedelta(days=1)
        out.append(Slice(item.account_id, since, item.until))
    return out


def full_slices(accounts: Iterable[str], start: date) -> list[Slice]:
    """One open-ended slice per account, from ``start``."""
    return [Slice(account, start, END_OF_TIME) for account in sorted(set(accounts))]


def ledger_slices(
    conn: sa.Connection, account_runs: sa.Table, after: int, upto: int, report: str | None | Literal[False] = False
) -> list[Slice]:
    """Ranges loaded by account runs with ``after < id <= upto``.

    ``report``: only the rows of that extra report (None: the default report's; False: every row,
    for ledgers older than the ``report`` column).
    """
    query = sa.select(account_runs.c.account_id, account_runs.c.since, account_runs.c.until).where(
        account_runs.c.status.in_(CHANGED_STATUSES), account_runs.c.id > after, account_runs.c.id <= upto
    )
    if report is None:
        query = query.where(account_runs.c.report.is_(None))
    elif report is not False:
        query = query.where(account_runs.c.report == report)
    rows = conn.execute(query)
    return [Slice(str(account), since, until) for account, since, until in rows]


def max_account_run_id(conn: sa.Connection, account_runs: sa.Table) -> int:
    """Highest ledger id so far (0 when nothing was ever loaded)."""
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(account_runs.c.id), 0))).scalar_one())


def accounts_in(conn: sa.Connection, source: sa.TableClause | sa.Table, start: date) -> set[str]:
    """Distinct account ids with rows dated ``start`` or later."""
    rows = conn.execute(sa.select(source.c.account_id).where(source.c.date >= start).distinct())
    return {str(row[0]) for row in rows}


def build_plan(
    mode: str,
    start: date,
    watermark: int,
    *,
    incremental: Sequence[Slice] = (),
    accounts: Iterable[str] = (),
    slice_days: int = DEFAULT_SLICE_DAYS,
    today: date,
) -> Plan:
    """The plan for ``mode`` from already-read ledger ranges (incremental) or account ids (full)."""
    chosen = full_slices(accounts, start) if mode == FULL else clip(merge(incremental), start)
    return Plan(
        mode=mode, window_start=start, watermark=watermark, slices=tuple(split(merge(chosen), slice_days, today))
    )
