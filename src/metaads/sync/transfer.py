"""Replacing one slice in the analytics database: delete, stream in, commit, in one transaction.

Both tables of a slice are replaced in the same target transaction, so BI readers see a slice's ads
and actions either entirely old or entirely new. The source side reads both views in one
REPEATABLE READ transaction (PostgreSQL) so ads and actions come from the same snapshot. Rows are
streamed with a server-side cursor, ``batch_rows`` at a time; memory stays at a batch per thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from metaads.clock import Clock
from metaads.errors import SyncAborted
from metaads.sync.plan import END_OF_TIME, Slice
from metaads.sync.targets import TARGET_KEY, TargetPair
from metaads.sync.writers import PIPES, WRITERS, Row

# Databases that store the target tables in primary key order (see metaads.sync.targets); rows sorted
# by the source arrive in that order. PostgreSQL and SQLite keep heaps: no sort needed.
CLUSTERED = frozenset({"mssql", "mysql", "mariadb"})


@dataclass
class SliceCounts:
    """Rows inserted and deleted per target table, and seconds spent copying each."""

    inserted: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, other: SliceCounts) -> None:
        """Add ``other``'s counts to these."""
        for mine, theirs in ((self.inserted, other.inserted), (self.deleted, other.deleted)):
            for name, value in theirs.items():
                mine[name] = mine.get(name, 0) + value
        for name, seconds in other.seconds.items():
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds


@dataclass(frozen=True)
class SliceJob:
    """Everything a worker needs to replace slices; shared by all threads (read-only)."""

    source: sa.Engine
    source_schema: str | None
    target: sa.Engine
    pairs: tuple[TargetPair, ...]
    method: str
    batch_rows: int
    clock: Clock
    abort: threading.Event
    before_commit: Callable[[Slice], None] | None = None


def _in_slice(columns: Any, item: Slice) -> list[sa.ColumnElement[bool]]:
    conditions = [columns.account_id == item.account_id, columns.date >= item.since]
    if item.until != END_OF_TIME:
        conditions.append(columns.date <= item.until)
    return conditions


def source_view(pair: TargetPair, schema: str | None) -> sa.TableClause:
    """The warehouse view as a typed table clause (types drive result processing, e.g. SQLite dates)."""
    return sa.table(pair.view, *(sa.column(c.name, c.type) for c in pair.table.columns), schema=schema)


def source_select(
    pair: TargetPair, schema: str | None, item: Slice, *, source: sa.Dialect, target: sa.Dialect
) -> sa.Select[Any]:
    """SELECT of the slice's rows from the view, in the target table's column order."""
    view = source_view(pair, schema)
    columns: list[sa.ColumnElement[Any]] = []
    for column in pair.table.columns:
        expression: sa.ColumnElement[Any] = view.c[column.name]
        if isinstance(column.type, sa.DateTime) and source.name == "postgresql" and target.name != "postgresql":
            # Targets without a time zone type get UTC wall time; PostgreSQL converts it cheaply.
            expression = sa.func.timezone("UTC", expression, type_=sa.DateTime()).label(column.name)
        columns.append(expression)
    select = sa.select(*columns).where(*_in_slice(view.c, item))
    # Rows in the target's clustered key order fill pages sequentially; the source sorts a slice cheaply.
    return select.order_by(*(view.c[name] for name in TARGET_KEY)) if target.name in CLUSTERED else select


def delete_slice(table: sa.Table, item: Slice) -> sa.Delete:
    """DELETE of the slice's rows from a target table."""
    return sa.delete(table).where(*_in_slice(table.c, item))


def _batches(
    conn: sa.Connection, select: sa.Select[Any], batch_rows: int, abort: threading.Event
) -> Iterator[Sequence[Row]]:
    result = conn.execution_options(yield_per=batch_rows).execute(select)
    try:
        for partition in result.partitions():
            if abort.is_set():
                raise SyncAborted
            yield partition
    finally:
        result.close()


def _read_options(source: sa.Engine) -> dict[str, Any]:
    if source.dialect.name == "postgresql":
        return {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    return {}


def _write_options(target: sa.Engine) -> dict[str, Any]:
    if target.dialect.name in ("mysql", "mariadb"):
        # InnoDB's REPEATABLE READ takes gap locks on the range DELETE; parallel slices inserting into
        # neighbouring gaps would then deadlock. READ COMMITTED does not lock gaps.
        return {"isolation_level": "READ COMMITTED"}
    return {}


def replace_slice(job: SliceJob, item: Slice) -> SliceCounts:
    """Replace ``item`` in every target table in one transaction; roll back on any exception."""
    counts = SliceCounts()
    if job.abort.is_set():
        raise SyncAborted
    with job.source.connect() as source, job.target.connect() as target:
        source = source.execution_options(**_read_options(job.source))
        target = target.execution_options(**_write_options(job.target))
        with target.begin():
            for pair in job.pairs:
                counts.deleted[pair.table.name] = target.execute(delete_slice(pair.table, item)).rowcount
            for pair in job.pairs:
                started = job.clock.monotonic()
                select = source_select(
                    pair, job.source_schema, item, source=job.source.dialect, target=job.target.dialect
                )
                if job.method in PIPES:
                    inserted = PIPES[job.method](source, select, target, pair.table)
                else:
                    batches = _batches(source, select, job.batch_rows, job.abort)
                    inserted = WRITERS[job.method](target, pair.table, batches)
                counts.inserted[pair.table.name] = inserted
                counts.seconds[pair.table.name] = job.clock.monotonic() - started
            if job.abort.is_set():
                raise SyncAborted
            if job.before_commit is not None:
                job.before_commit(item)
        source.rollback()
    return counts
