"""Bulk writers into an analytics table, one per driver family, all inside the slice's transaction.

- ``pg_copy``: PostgreSQL through psycopg 3, ``COPY ... FROM STDIN`` fed row by row.
- ``pg_pipe``: PostgreSQL to PostgreSQL, ``COPY (SELECT ...) TO STDOUT`` piped into ``COPY ... FROM
  STDIN`` in chunks: no Python object per value at all.
- ``executemany``: the driver's own batching. pymysql rewrites it into multi-row INSERTs of about
  1 MB; pyodbc gets ``fast_executemany`` (parameter arrays, one statement of ``len(columns)``
  parameters, far below SQL Server's 2,100).
- ``multivalues``: ``INSERT ... VALUES (...), (...)`` statements built by SQLAlchemy for the target
  dialect, at most :func:`rows_per_statement` rows each (SQL Server: 2,100 parameters and 1,000 rows
  per statement). Used for pymssql, whose executemany sends one statement per row.
- ``sqlalchemy``: the portable path (SQLAlchemy executemany with type processing), for SQLite and any
  other database.

Each takes batches of tuples in the table's column order and returns the number of rows written.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from metaads.database import dbapi_connection
from metaads.errors import SyncError

Row = Sequence[object]
Batches = Iterable[Sequence[Row]]
Writer = Callable[[sa.Connection, sa.Table, Batches], int]

# SQL Server rejects a statement with more than 2,100 parameters; SQLAlchemy's own mssql batching
# stays at 2,099 and so do we. A table value constructor holds at most 1,000 rows.
MSSQL_MAX_PARAMETERS = 2099
MSSQL_MAX_VALUES_ROWS = 1000
# Other databases: cap statements at this many parameters (PostgreSQL's protocol limit is 65,535).
DEFAULT_MAX_PARAMETERS = 30000

PG_PIPE = "pg_pipe"
PG_COPY = "pg_copy"
MYSQL_LOAD = "mysql_load"
EXECUTEMANY = "executemany"
MULTIVALUES = "multivalues"
SQLALCHEMY = "sqlalchemy"


def rows_per_statement(dialect: sa.Dialect, columns: int) -> int:
    """Most rows one multi-row INSERT may carry on ``dialect``."""
    if dialect.name == "mssql":
        return max(1, min(MSSQL_MAX_VALUES_ROWS, MSSQL_MAX_PARAMETERS // columns))
    return max(1, DEFAULT_MAX_PARAMETERS // columns)


def choose_method(source: sa.Dialect, target: sa.Connection) -> str:
    """The fastest writer known to work for the target's driver (and the source, for the pipes)."""
    dialect = target.dialect
    pg_source = source.name == "postgresql" and source.driver == "psycopg"
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        return PG_PIPE if pg_source else PG_COPY
    if dialect.name == "mssql":
        return EXECUTEMANY if dialect.driver == "pyodbc" else MULTIVALUES
    if dialect.name in ("mysql", "mariadb"):
        return MYSQL_LOAD if pg_source and mysql_local_infile(target) else EXECUTEMANY
    return SQLALCHEMY


@lru_cache(maxsize=64)
def insert_sql(dialect: sa.Dialect, table: sa.Table) -> str:
    """The single-row ``INSERT`` with positional parameters, columns in table order."""
    names = list(table.columns.keys())
    statement = table.insert().compile(dialect=dialect, column_keys=names).string
    if dialect.positional:
        return statement
    if dialect.paramstyle == "pyformat":
        # pymysql, psycopg and pymssql take ``%s`` with a tuple as well; tuples are cheaper than dicts.
        for name in names:
            statement = statement.replace(f"%({name})s", "%s", 1)
        return statement
    raise NotImplementedError(f"executemany with paramstyle {dialect.paramstyle!r}")


@lru_cache(maxsize=64)
def multivalues_statement(dialect: sa.Dialect, table: sa.Table, rows: int) -> tuple[str, tuple[str, ...]]:
    """A ``rows``-row ``INSERT ... VALUES`` and its parameter names in statement order."""
    columns = list(table.columns)
    values: list[dict[str, Any]] = [
        {column.name: sa.bindparam(f"r{i}_{j}") for j, column in enumerate(columns)} for i in range(rows)
    ]
    compiled = table.insert().values(values).compile(dialect=dialect)
    names = (
        tuple(compiled.positiontup or ())
        if dialect.positional
        else tuple(f"r{i}_{j}" for i in range(rows) for j in range(len(columns)))
    )
    return compiled.string, names


def write_multivalues(conn: sa.Connection, table: sa.Table, batches: Batches) -> int:
    """Multi-row INSERT statements within the dialect's parameter limits."""
    dialect = conn.dialect
    width = len(table.columns)
    step = rows_per_statement(dialect, width)
    count = 0
    for batch in batches:
        for offset in range(0, len(batch), step):
            chunk = batch[offset : offset + step]
            statement, names = multivalues_statement(dialect, table, len(chunk))
            flat = [value for row in chunk for value in row]
            if dialect.positional:
                expected = tuple(f"r{i}_{j}" for i in range(len(chunk)) for j in range(width))
                if names != expected:  # pragma: no cover - SQLAlchemy renders VALUES row by row
                    raise RuntimeError("unexpected parameter order in a multi-row INSERT")
                conn.exec_driver_sql(statement, tuple(flat))
            else:
                conn.exec_driver_sql(statement, dict(zip(names, flat, strict=True)))
            count += len(chunk)
    return count


def _fast_executemany(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    if executemany:
        cursor.fast_executemany = True


def write_executemany(conn: sa.Connection, table: sa.Table, batches: Batches) -> int:
    """The driver's executemany of the single-row INSERT (pyodbc: with ``fast_executemany``)."""
    statement = insert_sql(conn.dialect, table)
    pyodbc = conn.dialect.driver == "pyodbc"
    if pyodbc and not sa.event.contains(conn, "before_cursor_execute", _fast_executemany):
        # On this connection only: the caller's engine and its other users are left as they were.
        sa.event.listen(conn, "before_cursor_execute", _fast_executemany)
    count = 0
    for batch in batches:
        if batch:
            conn.exec_driver_sql(statement, [tuple(row) for row in batch])
            count += len(batch)
    return count


def write_sqlalchemy(conn: sa.Connection, table: sa.Table, batches: Batches) -> int:
    """SQLAlchemy executemany with the dialect's type processing (portable)."""
    names = list(table.columns.keys())
    statement = table.insert()
    count = 0
    for batch in batches:
        if batch:
            conn.execute(statement, [dict(zip(names, row, strict=True)) for row in batch])
            count += len(batch)
    return count


def _copy_sql(table: sa.Table) -> Any:
    from psycopg import sql

    target = sql.Identifier(table.schema, table.name) if table.schema else sql.Identifier(table.name)
    return sql.SQL("COPY {} ({}) FROM STDIN").format(
        target, sql.SQL(", ").join(sql.Identifier(name) for name in table.columns.keys())
    )


def write_pg_copy(conn: sa.Connection, table: sa.Table, batches: Batches) -> int:
    """``COPY table (columns) FROM STDIN`` through psycopg 3."""
    count = 0
    with dbapi_connection(conn).cursor() as cursor, cursor.copy(_copy_sql(table)) as copy:
        write = copy.write_row
        for batch in batches:
            for row in batch:
                write(row)
            count += len(batch)
    return count


def pipe_pg_copy(source: sa.Connection, select: sa.Select[Any], target: sa.Connection, table: sa.Table) -> int:
    """Stream ``select`` from one PostgreSQL into ``table`` of another with COPY, text format."""
    from psycopg import sql

    query = str(select.compile(dialect=source.dialect, compile_kwargs={"literal_binds": True}))
    out_sql = sql.SQL("COPY ({}) TO STDOUT").format(sql.SQL(query))
    with (
        dbapi_connection(source).cursor() as out_cursor,
        out_cursor.copy(out_sql) as out_copy,
        dbapi_connection(target).cursor() as in_cursor,
    ):
        with in_cursor.copy(_copy_sql(table)) as in_copy:
            for chunk in out_copy:
                in_copy.write(chunk)
        return int(in_cursor.rowcount)


def mysql_local_infile(conn: sa.Connection) -> bool:
    """True when pymysql may send files (``local_infile=1`` in the URL) and the server allows it."""
    if conn.dialect.name not in ("mysql", "mariadb") or conn.dialect.driver != "pymysql":
        return False
    from pymysql.constants import CLIENT

    if not dbapi_connection(conn).client_flag & CLIENT.LOCAL_FILES:
        return False
    return bool(conn.exec_driver_sql("SELECT @@GLOBAL.local_infile").scalar())


def pipe_mysql_load(source: sa.Connection, select: sa.Select[Any], target: sa.Connection, table: sa.Table) -> int:
    """PostgreSQL ``COPY ... TO STDOUT (FORMAT csv)`` into a temporary file, then ``LOAD DATA LOCAL``.

    Both servers parse and format the values in C; Python only moves bytes. CSV rather than text
    format: the two escape form feeds and vertical tabs differently, while both read quoted CSV
    fields, doubled quotes and an unquoted ``NULL`` the same way.

    With ``LOCAL`` the server turns data errors (and duplicate keys) into warnings and goes on, as it
    cannot stop the client's upload: any warning fails the slice instead of keeping altered data.
    """
    from psycopg import sql

    query = str(select.compile(dialect=source.dialect, compile_kwargs={"literal_binds": True}))
    out_sql = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv, NULL 'NULL')").format(sql.SQL(query))
    preparer = target.dialect.identifier_preparer
    columns = ", ".join(preparer.format_column(column) for column in table.columns)
    with tempfile.NamedTemporaryFile(prefix="metaads-sync-", suffix=".csv") as spool:
        with dbapi_connection(source).cursor() as out_cursor, out_cursor.copy(out_sql) as out_copy:
            for chunk in out_copy:
                spool.write(chunk)
        spool.flush()
        path = dbapi_connection(target).escape(spool.name)
        result = target.exec_driver_sql(
            f"LOAD DATA LOCAL INFILE {path} INTO TABLE {preparer.format_table(table)} CHARACTER SET utf8mb4 "
            "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' "
            f"LINES TERMINATED BY '\\n' ({columns})"
        )
        loaded = int(result.rowcount)
    warnings = target.exec_driver_sql("SHOW WARNINGS LIMIT 3").all()
    if warnings:
        shown = "; ".join(f"{level} {code}: {message}" for level, code, message in warnings)
        raise SyncError(f"LOAD DATA into {table.fullname} reported warnings (nothing kept): {shown}")
    return loaded


WRITERS: dict[str, Writer] = {
    PG_COPY: write_pg_copy,
    EXECUTEMANY: write_executemany,
    MULTIVALUES: write_multivalues,
    SQLALCHEMY: write_sqlalchemy,
}
# Writers that read the source themselves (PostgreSQL COPY out) instead of taking row batches.
PIPES: dict[str, Callable[[sa.Connection, sa.Select[Any], sa.Connection, sa.Table], int]] = {
    PG_PIPE: pipe_pg_copy,
    MYSQL_LOAD: pipe_mysql_load,
}
