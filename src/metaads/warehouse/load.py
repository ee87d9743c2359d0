"""Replacing one account's date range: delete, insert, commit, all in one locked transaction.

Readers see the old rows or the new ones, never a mix; a failure anywhere (driver, a row outside the
range, the row iterators themselves, the ``before_commit`` hook) rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from metaads.errors import LoadError
from metaads.transform import ACTIONS_COLUMNS, ADS_COLUMNS
from metaads.warehouse.indexes import build_indexes, defer_indexes
from metaads.warehouse.staging import Row, StagedRows, date_index_of, in_range, on_days
from metaads.warehouse.writers import copy_rows, insert_rows

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


def _write(
    conn: sa.Connection,
    table: sa.Table,
    rows: Iterable[Row] | StagedRows,
    replaced: tuple[str, date, date],
    days: Collection[date] | None,
    *,
    use_copy: bool,
    batch_rows: int,
) -> int:
    if isinstance(rows, StagedRows):  # checked when staged, and in the load's own format
        if rows.table is not table:
            raise LoadError(f"{table.name}: rows staged for {rows.table.name}")
        return 0 if days is not None and not days else rows.write(conn, days, batch_rows)
    checked = on_days(in_range(rows, table, *replaced), days, date_index_of(table))
    return copy_rows(conn, table, checked) if use_copy else insert_rows(conn, table, checked, batch_rows)


def replace_rows(
    conn: sa.Connection,
    ads: sa.Table,
    actions: sa.Table,
    *,
    account_id: str,
    since: date,
    until: date,
    ads_rows: Iterable[Row] | StagedRows,
    actions_rows: Iterable[Row] | StagedRows,
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
    inserted = [
        _write(conn, table, rows, (account_id, since, until), days, use_copy=use_copy, batch_rows=batch_rows)
        for table, rows in ((ads, ads_rows), (actions, actions_rows))
    ]
    build_indexes(conn, rebuild)
    if before_commit is not None:
        before_commit()
    return inserted[0], inserted[1], deleted[0], deleted[1]
