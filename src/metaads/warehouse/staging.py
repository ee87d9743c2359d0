"""Rows staged for a load: encoded while the chunk is fetched, streamed by the load as they were encoded.

A chunk is loaded only once it has been fetched completely (a failed fetch must leave the warehouse
untouched), so its rows wait somewhere. Staging them already in the load's own format means each row is
transformed and encoded once, while the pages arrive, and the load (which holds a connection, the
transaction and the account's lock) only streams bytes:

- PostgreSQL through psycopg: the rows' binary ``COPY`` data, made by psycopg's own formatter (a
  ``Copy`` over a ``FileWriter``, as psycopg documents for copy data produced away from the server);
  the load sends the bytes unchanged. Before, the chunk's API rows waited as JSON and the load parsed
  them twice (once for the ads table, once for the actions table) and encoded every row inside the
  transaction.
- other databases: pickled records of rows, replayed into the batched INSERT.

Either way the bytes go to a spooled temporary file (a small buffer in memory, then the OS page cache):
no list of a chunk's rows is ever built, so memory does not depend on the chunk's size. A row outside
the account and range being replaced is refused when it is staged, so nothing of the chunk loads.
"""

from __future__ import annotations

import pickle
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import date
from itertools import islice
from typing import IO, Any

import sqlalchemy as sa

from metaads.database import driver_message
from metaads.errors import LoadError, RowRejectedError
from metaads.redact import redact_text
from metaads.warehouse.writers import DATA_ERRORS, copy_data, create_temporary_like, insert_rows, pg_type_name

Row = Sequence[object]

# Every account of a run stages at once (one thread each), so the in-memory part is kept small: past
# it the bytes go to a temporary file.
MEMORY_BYTES = 256 * 1024
# Staged bytes are sent to the server in blocks of this size.
BLOCK_BYTES = 128 * 1024
# Rows per pickled record on the portable path (one dump and one load per record, not per row).
RECORD_ROWS = 100


def in_range(rows: Iterable[Row], table: sa.Table, account_id: str, since: date, until: date) -> Iterator[Row]:
    """``rows`` unchanged, refusing one of another account or outside ``since..until``.

    A row outside the replaced range would survive the next replacement of its own range as a
    duplicate key. Positions come from the table (the extra reports' tables have their own order).

    Raises:
        LoadError: a row of another account or day.
    """
    account_index, date_index = list(table.c.keys()).index("account_id"), date_index_of(table)
    for row in rows:
        day = row[date_index]
        if row[account_index] != account_id or not since <= day <= until:  # type: ignore[operator]
            raise LoadError(
                f"{table.name}: row for account {row[account_index]!r} on {day!r} is outside the range "
                f"being replaced (account {account_id}, {since}..{until})"
            )
        yield row


def date_index_of(table: sa.Table) -> int:
    return list(table.c.keys()).index("date")


def on_days(rows: Iterable[Row], days: Collection[date] | None, date_index: int) -> Iterable[Row]:
    """Rows dated in ``days`` (all of them when None): days the load keeps are skipped, not refused."""
    if days is None:
        return rows
    return (row for row in rows if row[date_index] in days)


class StagedRows(ABC):
    """One table's rows for one account and range: :meth:`add` while fetching, :meth:`write` in the load."""

    def __init__(self, table: sa.Table, account_id: str, since: date, until: date) -> None:
        self.table = table
        #: Rows staged so far.
        self.count = 0
        self._range = (account_id, since, until)
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=MEMORY_BYTES)  # noqa: SIM115

    def add(self, rows: Iterable[Row]) -> None:
        """Check and encode ``rows`` (a page's worth, consumed once).

        Raises:
            LoadError: a row of another account or outside the range.
            RowRejectedError: a value its column cannot hold.
        """
        account_id, since, until = self._range
        try:
            self.count += self._encode(in_range(rows, self.table, account_id, since, until))
        except DATA_ERRORS as exc:  # a data problem, as when the database refuses the value in a load
            raise RowRejectedError(
                redact_text(f"staging {self.table.name} {since}..{until}: {driver_message(exc)}")
            ) from exc

    @abstractmethod
    def _encode(self, rows: Iterable[Row]) -> int: ...

    @abstractmethod
    def write(self, conn: sa.Connection, days: Collection[date] | None, batch_rows: int) -> int:
        """Insert the staged rows (only those dated in ``days``, when given) on ``conn``; the rows inserted."""

    def close(self) -> None:
        self._file.close()


class CopyStaged(StagedRows):
    """PostgreSQL: binary ``COPY`` data, formatted by psycopg from the table's column types."""

    def __init__(self, table: sa.Table, account_id: str, since: date, until: date, cursor: Any) -> None:
        from psycopg import Copy
        from psycopg.copy import FileWriter

        super().__init__(table, account_id, since, until)
        # Each Copy needs a cursor of its own: the cursor's adapter state takes the column types.
        self._copy = Copy(cursor, binary=True, writer=FileWriter(self._file))
        self._copy.set_types([pg_type_name(column) for column in table.columns])
        self._sealed = False

    def _encode(self, rows: Iterable[Row]) -> int:
        if self._sealed:
            raise RuntimeError(f"{self.table.name}: rows staged after the load began")
        write = self._copy.write_row
        count = 0
        for row in rows:
            write(row)
            count += 1
        return count

    def _blocks(self) -> Iterator[bytes]:
        if not self._sealed:
            self._copy.finish(None)  # the rest of psycopg's buffer, and the format's trailer
            self._sealed = True
        self._file.seek(0)
        while block := self._file.read(BLOCK_BYTES):
            yield block

    def write(self, conn: sa.Connection, days: Collection[date] | None, batch_rows: int) -> int:
        if not self.count:
            return 0
        if days is None:
            copy_data(conn, self.table, self._blocks())
            return self.count
        # Some days only (reconciliation keeps the stored rows of the others): the bytes hold every day,
        # so they go to a temporary table and the chosen days are inserted from it.
        stage = create_temporary_like(conn, self.table, f"metaads_stage_{self.table.name}")
        copy_data(conn, stage, self._blocks())
        names = list(self.table.c.keys())
        chosen = sa.select(*(stage.c[name] for name in names)).where(stage.c.date.in_(sorted(days)))
        insert = self.table.insert().from_select(names, chosen).execution_options(preserve_rowcount=True)
        return int(conn.execute(insert).rowcount)


class PickledStaged(StagedRows):
    """Any database: records of rows, pickled, replayed into a batched INSERT."""

    def _encode(self, rows: Iterable[Row]) -> int:
        source = iter(rows)
        count = 0
        while batch := [tuple(row) for row in islice(source, RECORD_ROWS)]:
            pickle.dump(batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            count += len(batch)
        return count

    def _rows(self) -> Iterator[Row]:
        end = self._file.seek(0, 2)
        self._file.seek(0)
        while self._file.tell() < end:
            yield from pickle.load(self._file)  # noqa: S301 - this process's own temporary file

    def write(self, conn: sa.Connection, days: Collection[date] | None, batch_rows: int) -> int:
        return insert_rows(conn, self.table, on_days(self._rows(), days, date_index_of(self.table)), batch_rows)


class Staging:
    """An account's staged (ads, actions) rows for one range; a context manager that frees them."""

    def __init__(self, ads: StagedRows, actions: StagedRows) -> None:
        self.ads = ads
        self.actions = actions

    def close(self) -> None:
        self.ads.close()
        self.actions.close()

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
