"""Row writers used inside a load transaction: PostgreSQL ``COPY`` and a portable batched INSERT.

Both take tuples in the table's column order and stream them (memory stays at one batch), and both
produce the same table contents. COPY uses the binary format: psycopg encodes each value from its
declared column type, which saves the server from parsing text (the load is CPU-bound on both ends).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

import sqlalchemy as sa

from metaads.database import dbapi_connection

DEFAULT_BATCH_ROWS = 5000


def _data_errors() -> tuple[type[BaseException], ...]:
    """A value its column cannot hold: the drivers' DataError, or (psycopg's binary COPY) an integer
    too large for its column's type, which psycopg reports as a plain OverflowError before sending it."""
    errors: list[type[BaseException]] = [sa.exc.DataError, OverflowError]
    try:
        import psycopg
    except ImportError:  # pragma: no cover - only without the postgres extra
        pass
    else:
        errors.append(psycopg.DataError)
    return tuple(errors)


DATA_ERRORS = _data_errors()


def supports_copy(bind: sa.Connection | sa.Engine) -> bool:
    """True when the database is PostgreSQL through psycopg 3 (the driver with a COPY API)."""
    return bind.dialect.name == "postgresql" and bind.dialect.driver == "psycopg"


def pg_type_name(column: sa.Column[object]) -> str:
    """The PostgreSQL type psycopg must encode ``column``'s values as, for binary COPY."""
    kind = column.type
    if isinstance(kind, sa.Float):
        return "float8"
    if isinstance(kind, sa.Numeric):
        return "numeric"
    if isinstance(kind, sa.BigInteger):
        return "int8"
    if isinstance(kind, sa.SmallInteger):
        return "int2"
    if isinstance(kind, sa.Integer):
        return "int4"
    if isinstance(kind, sa.DateTime):
        return "timestamptz" if kind.timezone else "timestamp"
    if isinstance(kind, sa.Date):
        return "date"
    if isinstance(kind, sa.Boolean):
        return "bool"
    if isinstance(kind, sa.String):
        return "text"
    raise TypeError(f"no binary COPY mapping for column {column.name} of type {kind!r}")


def _copy_statement(table: sa.Table) -> Any:
    from psycopg import sql

    target = sql.Identifier(table.schema, table.name) if table.schema else sql.Identifier(table.name)
    return sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        target, sql.SQL(", ").join(sql.Identifier(column.name) for column in table.columns)
    )


def create_temporary_like(
    conn: sa.Connection, table: sa.Table, name: str, *extra: tuple[str, sa.types.TypeEngine[Any]]
) -> sa.Table:
    """PostgreSQL: a temporary table shaped like ``table`` (plus ``extra`` columns, by name and type),
    dropped at commit; the returned Core table names it for the statements that fill and read it."""
    temporary = _temporary_shape(table, name[:63], extra)
    target = conn.dialect.identifier_preparer.format_table(table)
    conn.exec_driver_sql(f'CREATE TEMPORARY TABLE "{temporary.name}" (LIKE {target} INCLUDING DEFAULTS) ON COMMIT DROP')
    for column_name, kind in extra:
        kind_sql = kind.compile(dialect=conn.dialect)
        conn.exec_driver_sql(f'ALTER TABLE "{temporary.name}" ADD COLUMN "{column_name}" {kind_sql}')
    return temporary


# SQLAlchemy's statement cache keys a Table by its identity: a new Core table per load made every statement
# on it a new cache entry (compiled SQL and the table kept alive), so memory grew with the number of loads
# until the engine's cache filled. One Core table per (target, name, extra columns) makes them cache hits.
_SHAPES: weakref.WeakKeyDictionary[sa.Table, dict[tuple[object, ...], sa.Table]] = weakref.WeakKeyDictionary()
_SHAPES_LOCK = threading.Lock()


def _temporary_shape(table: sa.Table, name: str, extra: tuple[tuple[str, sa.types.TypeEngine[Any]], ...]) -> sa.Table:
    key = (name, *((column_name, repr(kind)) for column_name, kind in extra))
    with _SHAPES_LOCK:
        shapes = _SHAPES.setdefault(table, {})
        shape = shapes.get(key)
        if shape is None:
            columns = [sa.Column(c.name, c.type) for c in table.columns]
            columns += [sa.Column(column_name, kind) for column_name, kind in extra]
            shape = shapes[key] = sa.Table(name, sa.MetaData(), *columns)
        return shape


def copy_rows(conn: sa.Connection, table: sa.Table, rows: Iterable[Sequence[object]]) -> int:
    """``COPY table (columns) FROM STDIN (FORMAT BINARY)`` on the connection's own transaction.

    Returns the row count.
    """
    count = 0
    with dbapi_connection(conn).cursor() as cursor, cursor.copy(_copy_statement(table)) as copy:
        copy.set_types([pg_type_name(column) for column in table.columns])
        write = copy.write_row
        for row in rows:
            write(row)
            count += 1
    return count


def copy_data(conn: sa.Connection, table: sa.Table, blocks: Iterable[bytes]) -> None:
    """Binary ``COPY`` data already formatted (signature, rows, trailer), sent as is in ``blocks``."""
    with dbapi_connection(conn).cursor() as cursor, cursor.copy(_copy_statement(table)) as copy:
        for block in blocks:
            copy.write(block)


def insert_rows(
    conn: sa.Connection, table: sa.Table, rows: Iterable[Sequence[object]], batch_rows: int = DEFAULT_BATCH_ROWS
) -> int:
    """Batched ``INSERT`` (executemany) through SQLAlchemy, for every dialect; returns the row count."""
    names = [column.name for column in table.columns]
    statement = table.insert()
    iterator = iter(rows)
    count = 0
    while batch := list(islice(iterator, batch_rows)):
        conn.execute(statement, [dict(zip(names, row, strict=True)) for row in batch])
        count += len(batch)
    return count
