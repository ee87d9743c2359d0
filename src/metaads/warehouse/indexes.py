"""A first load builds its tables' indexes once, after the rows, instead of updating them row by row.

Keeping the original design's B-trees current while ``COPY`` streams rows in (two primary keys on
random MD5 ids, three secondary indexes) is most of PostgreSQL's work in a load; building the same
indexes from the loaded rows took 40 % less time (100k ads + 550k actions rows: 4.2 s instead of
7.3 s). So when a table is still empty (an account's first load or backfill), the load drops its
indexes and the constraints they back inside its own transaction and creates them again from their
catalog definitions before it commits. Uniqueness is still enforced: a duplicate ``unique_id`` fails
the primary key's creation and the whole load rolls back, indexes included (PostgreSQL's DDL is
transactional).

Dropping an index takes the table's ``ACCESS EXCLUSIVE`` lock until the load commits. The empty table
has nothing to read, but a query over the union views still touches it, and a lock request queued
behind a long query would make every later reader queue behind the load. So the lock is asked with
``NOWAIT``: if anyone holds the table, the load keeps the indexes and updates them row by row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa

from metaads.database import DRIVER_ERRORS, dbapi_connection, driver_message

log = logging.getLogger("metaads.warehouse")

# Per index of the table: how to drop it (or the constraint it backs) and how to create it again, as
# PostgreSQL prints them, so user-added indexes, index comments and storage options come back exactly.
_INDEXES = sa.text(
    """
    SELECT
        CASE WHEN con.oid IS NULL THEN format('DROP INDEX %s', ic.oid::regclass)
             ELSE format('ALTER TABLE %s DROP CONSTRAINT %I', x.indrelid::regclass, con.conname) END,
        CASE WHEN con.oid IS NULL THEN pg_get_indexdef(ic.oid)
             ELSE format('ALTER TABLE %s ADD CONSTRAINT %I %s', x.indrelid::regclass, con.conname,
                         pg_get_constraintdef(con.oid)) END,
        CASE WHEN obj_description(ic.oid, 'pg_class') IS NOT NULL
             THEN format('COMMENT ON INDEX %s IS %L', ic.oid::regclass, obj_description(ic.oid, 'pg_class')) END
    FROM pg_index x
    JOIN pg_class ic ON ic.oid = x.indexrelid
    LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid
    WHERE x.indrelid = CAST(:table AS regclass)
    ORDER BY con.oid IS NULL, ic.relname
    """
)


def defer_indexes(conn: sa.Connection, tables: Sequence[sa.Table]) -> list[str]:
    """Drop the indexes of each table that is empty and free to lock now; the statements rebuilding them.

    Runs on ``conn`` inside the load's transaction (PostgreSQL only; elsewhere nothing is deferred).
    Pass the returned statements to :func:`build_indexes` after the rows are in, before the commit.
    """
    if conn.dialect.name != "postgresql":
        return []
    rebuild: list[str] = []
    for table in tables:
        rebuild += _defer(conn, table)
    return rebuild


def build_indexes(conn: sa.Connection, statements: Sequence[str]) -> None:
    """Create again what :func:`defer_indexes` dropped (constraints first: they are listed first)."""
    _execute(conn, statements)


def _execute(conn: sa.Connection, statements: Sequence[str]) -> None:
    if not statements:
        return
    # Through the driver without parameters: a name or comment may hold '%', a placeholder to psycopg.
    with dbapi_connection(conn).cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _defer(conn: sa.Connection, table: sa.Table) -> list[str]:
    qualified = conn.dialect.identifier_preparer.format_table(table)
    if conn.execute(sa.select(sa.exists().select_from(table))).scalar():
        return []
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(f"LOCK TABLE {qualified} IN ACCESS EXCLUSIVE MODE NOWAIT")
            found = conn.execute(_INDEXES, {"table": qualified}).all()
            _execute(conn, [drop for drop, _create, _comment in found])
    except DRIVER_ERRORS as exc:
        # Someone reads the table (or a dependent object pins an index): index as we go instead.
        log.debug("%s: indexes kept during the load (%s)", table.name, driver_message(exc))
        return []
    return [create for _drop, create, _comment in found] + [comment for *_, comment in found if comment is not None]
