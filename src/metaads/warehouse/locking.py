"""Write transactions that never interleave: one writer per account table at a time.

PostgreSQL: a transaction-scoped advisory lock keyed by (schema, table), released at commit or
rollback, so two runs loading the same account queue up while other accounts load in parallel.
SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock up front (SQLite has one writer anyway);
waiting writers retry for ``busy_timeout``. Other dialects get a plain transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from metaads.database import lock_key

DEFAULT_BUSY_TIMEOUT_S = 300.0


@contextmanager
def write_transaction(
    engine: sa.Engine, *lock_parts: str, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S
) -> Iterator[sa.Connection]:
    """A connection inside a transaction holding the write lock for ``lock_parts``; commits on success.

    Any exception rolls the transaction back and propagates unchanged.
    """
    with engine.connect() as conn:
        dialect = conn.dialect.name
        try:
            if dialect == "sqlite":
                # pysqlite would only BEGIN (deferred) at the first DML statement; a deferred
                # transaction upgrading to a writer can fail with "database is locked" at once.
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif dialect == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key(*lock_parts))))
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise


def lock_ledger(conn: sa.Connection, schema: str | None) -> None:
    """Take the ledger's transaction-scoped lock on ``conn`` (PostgreSQL; held until commit or rollback).

    Whoever inserts a ``metaads_account_runs`` row takes it just before the insert and keeps it until
    its transaction commits, so ledger ids commit in id order even when loads of different accounts
    commit in parallel. The sync reads its watermark (the highest id) under the same lock: every id
    at or below it is committed, none can appear later. SQLite has a single writer anyway.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key("ledger", schema or ""))))
