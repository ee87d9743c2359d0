"""The sync's own rows in the warehouse run ledger (``metaads_syncs``) and the lock between syncs.

A target is identified by its URL (password hidden) and schema, so syncs to two databases keep
separate watermarks. The watermark of a successful sync is the highest ``metaads_account_runs.id``
it covered; the next incremental sync starts after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa

from metaads.database import describe_url, lock_key
from metaads.errors import SyncError
from metaads.warehouse.ledger import safe_error
from metaads.warehouse.owner import Owner

RUNNING = "running"
SUCCESS = "success"
FAILED = "failed"
_TARGET_CHARS = 200


def describe_target(engine: sa.Engine, schema: str | None) -> str:
    """``url [schema]`` with the password hidden, bounded to the ledger column's width."""
    text = describe_url(engine)
    if schema:
        text = f"{text} [{schema}]"
    return text[:_TARGET_CHARS]


def check_ledger(conn: sa.Connection, tables: tuple[sa.Table, ...]) -> None:
    """Fail clearly when the warehouse was never initialised (no ledger tables)."""
    inspector = sa.inspect(conn)
    missing = [t.name for t in tables if not inspector.has_table(t.name, schema=t.schema)]
    if missing:
        raise SyncError(
            f"the warehouse has no run ledger ({', '.join(missing)} missing): "
            "run `metaads init-db` (or a first `metaads run`) before syncing"
        )


def last_watermark(conn: sa.Connection, syncs: sa.Table, target: str) -> int | None:
    """Watermark of the last successful sync to ``target`` (None: never synced)."""
    value = conn.execute(
        sa.select(sa.func.max(syncs.c.watermark)).where(syncs.c.status == SUCCESS, syncs.c.target == target)
    ).scalar()
    return None if value is None else int(value)


def insert_sync(
    conn: sa.Connection, syncs: sa.Table, *, mode: str, target: str, now: datetime, owner: Owner | None = None
) -> int:
    """Record a ``running`` sync (with its owner process, to tell a dead one later); return its id."""
    result = conn.execute(
        syncs.insert().values(
            started_at=now,
            status=RUNNING,
            mode=mode,
            target=target,
            heartbeat_at=now,
            **(owner.columns() if owner else {}),
        )
    )
    key = result.inserted_primary_key
    if key is None or key[0] is None:  # pragma: no cover - every supported dialect returns it
        raise sa.exc.InvalidRequestError("the database did not return the new sync id")
    return int(key[0])


def finish_sync(
    conn: sa.Connection,
    syncs: sa.Table,
    sync_id: int,
    *,
    status: str,
    mode: str,
    now: datetime,
    duration_s: float,
    watermark: int | None = None,
    ads_rows: int | None = None,
    actions_rows: int | None = None,
    error: str | None = None,
) -> None:
    """Close a sync row: success with its watermark and counts, or failure with a safe error text."""
    conn.execute(
        syncs.update()
        .where(syncs.c.id == sync_id)
        .values(
            status=status,
            mode=mode,
            finished_at=now,
            duration_s=duration_s,
            watermark=watermark,
            ads_rows=ads_rows,
            actions_rows=actions_rows,
            error=safe_error(error),
        )
    )


@contextmanager
def sync_lock(conn: sa.Connection, target: str) -> Iterator[None]:
    """Hold a PostgreSQL session advisory lock for ``target``: syncs to one target queue up.

    Two overlapping syncs would otherwise delete and insert the same slices concurrently. SQLite
    warehouses (single user, the demo) take no lock.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    key = lock_key("sync", target)
    conn.execute(sa.select(sa.func.pg_advisory_lock(key)))
    conn.commit()
    try:
        yield
    finally:
        try:
            conn.rollback()
            conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
            conn.commit()
        except sa.exc.DBAPIError:
            # Closing the session releases its advisory locks; do not hide the original error.
            conn.invalidate()
