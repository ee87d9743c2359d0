"""Replacing one account's date range: delete, insert, commit, all in one locked transaction.

Readers see the old rows or the new ones, never a mix; a failure anywhere (driver, a row outside the
range, the row iterators themselves, the ``before_commit`` hook) rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from metaads.errors import LoadError
from metaads.transform import ACTIONS_COLUMNS, ADS_COLUMNS
from metaads.warehouse.indexes import build_indexes, defer_indexes
from metaads.warehouse.writers import copy_rows, insert_rows

Row = Sequence[object]
_ACCOUNT = ADS_COLUMNS.index("account_id")
if ACTIONS_COLUMNS.index("account_id") != _ACCOUNT:  # pragma: no cover - schema contract
    raise RuntimeError("account_id must sit at the same position in both tables")


@dataclass(frozen=True)
class LoadResult:
    """What :meth:`Warehouse.replace_range` did: rows inserted (and deleted) per table, and how long."""

    ads_rows: int
    actions_rows: int
    duration_s: float
    deleted_ads_rows: int = 0
    deleted_actions_rows: int = 0
    #: The days actually replaced when the load was limited to some days of its range (None: all).
    replaced_days: frozenset[date] | None = None
    #: The ``metaads_account_runs`` id written in the load's own transaction (None: not recorded there).
    ledger_id: int | None = None


def _in_range(rows: Iterable[Row], table: sa.Table, account_id: str, since: date, until: date) -> Iterator[Row]:
    # A row outside the replaced range would survive the next replacement of its own range as a
    # duplicate key: refuse it instead of loading it. Positions come from the table (the extra
    # reports' tables have their own column order).
    account_index, date_index = list(table.c.keys()).index("account_id"), _date_index(table)
    for row in rows:
        day = row[date_index]
        if row[account_index] != account_id or not since <= day <= until:  # type: ignore[operator]
            raise LoadError(
                f"{table.name}: row for account {row[account_index]!r} on {day!r} is outside the range "
                f"being replaced (account {account_id}, {since}..{until})"
            )
        yield row


def _date_index(table: sa.Table) -> int:
    return list(table.c.keys()).index("date")


def _on_days(rows: Iterable[Row], days: Collection[date] | None, date_index: int) -> Iterable[Row]:
    # Rows of days the load keeps (reconciliation chose the stored rows) are skipped, not refused.
    if days is None:
        return rows
    return (row for row in rows if row[date_index] in days)


def replace_rows(
    conn: sa.Connection,
    ads: sa.Table,
    actions: sa.Table,
    *,
    account_id: str,
    since: date,
    until: date,
    ads_rows: Iterable[Row],
    actions_rows: Iterable[Row],
    use_copy: bool,
    batch_rows: int,
    before_commit: Callable[[], None] | None = None,
    days: Collection[date] | None = None,
) -> tuple[int, int, int, int]:
    """Delete the range from both tables and insert the new rows on ``conn`` (already in a transaction).

    With ``days``, only those days of the range are deleted and loaded; the others keep their rows.
    An empty table gets its indexes built after its rows (:mod:`metaads.warehouse.indexes`).
    Returns (ads inserted, actions inserted, ads deleted, actions deleted).
    """
    rebuild = defer_indexes(conn, (ads, actions))
    deleted = []
    for table in (ads, actions):
        if days is not None and not days:
            deleted.append(0)
            continue
        when = table.c.date.between(since, until) if days is None else table.c.date.in_(sorted(days))
        result = conn.execute(sa.delete(table).where(table.c.account_id == account_id, when))
        deleted.append(result.rowcount)
    checked_ads = _on_days(_in_range(ads_rows, ads, account_id, since, until), days, _date_index(ads))
    checked_actions = _on_days(_in_range(actions_rows, actions, account_id, since, until), days, _date_index(actions))
    if use_copy:
        n_ads = copy_rows(conn, ads, checked_ads)
        n_actions = copy_rows(conn, actions, checked_actions)
    else:
        n_ads = insert_rows(conn, ads, checked_ads, batch_rows)
        n_actions = insert_rows(conn, actions, checked_actions, batch_rows)
    build_indexes(conn, rebuild)
    if before_commit is not None:
        before_commit()
    return n_ads, n_actions, deleted[0], deleted[1]
