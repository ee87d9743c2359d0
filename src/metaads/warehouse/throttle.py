"""Rate-limit state shared by every worker: a :class:`~metaads.graph.ThrottleStore` in the warehouse database.

Under Airflow, extraction tasks run in separate processes, often on separate machines (Celery or
Kubernetes workers). Each task's Graph client reads and writes holds ("no call on this quota before
T") and usage here, in table ``metaads_throttle`` of the warehouse schema. When one task is throttled,
tasks elsewhere that use the same token and account wait too, and do not burn the quota further. Keys
hold token fingerprints, never tokens.

The shared state only improves pacing: the API's own usage headers and throttling errors still
protect every call. So a database failure here does not fail the extraction. The store logs a warning
and goes on with the state of its own process (it writes through to an in-memory copy).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from metaads.database import DRIVER_ERRORS, describe_url, driver_message, stored_utc, translate
from metaads.graph import InMemoryThrottleStore, ThrottleState
from metaads.warehouse.schema import THROTTLE_REASON_CHARS, THROTTLE_TABLE, throttle_table

log = logging.getLogger("metaads.warehouse")


class WarehouseThrottleStore:
    """A :class:`~metaads.graph.ThrottleStore` kept in a database table, safe across processes and threads."""

    def __init__(self, engine: sa.Engine, schema: str | None) -> None:
        self.engine = engine
        self.table = throttle_table(sa.MetaData(), None if engine.dialect.name == "sqlite" else schema)
        self._local = InMemoryThrottleStore()

    def __repr__(self) -> str:
        return f"WarehouseThrottleStore({describe_url(self.engine)!r})"

    def create(self) -> None:
        """Create the table if it is missing (the schema must exist).

        Raises:
            WarehouseError: the database failed.
        """
        try:
            self.table.create(self.engine, checkfirst=True)
        except DRIVER_ERRORS as exc:
            raise translate(exc, f"creating {THROTTLE_TABLE}", self.engine) from exc

    def get(self, key: str) -> ThrottleState | None:
        t = self.table
        try:
            with self.engine.connect() as conn:
                row = conn.execute(
                    sa.select(t.c.not_before, t.c.reason, t.c.usage_pct, t.c.updated_at).where(t.c.key == key)
                ).first()
        except DRIVER_ERRORS as exc:
            self._degraded("reading", exc)
            return self._local.get(key)
        if row is None:
            return None
        return ThrottleState(
            key=key,
            not_before=stored_utc(row.not_before),
            reason=row.reason,
            usage_pct=row.usage_pct,
            updated_at=stored_utc(row.updated_at),
        )

    def hold(self, key: str, until: datetime, *, reason: str, at: datetime) -> None:
        self._local.hold(key, until, reason=reason, at=at)
        t = self.table
        values = {
            "key": key,
            "not_before": _utc(until),
            "reason": reason[:THROTTLE_REASON_CHARS],
            "updated_at": _utc(at),
        }
        # Keep an existing later hold: another worker may know of a longer block.
        later = sa.or_(t.c.not_before.is_(None), t.c.not_before < values["not_before"])
        self._upsert(
            values,
            {
                "not_before": sa.case((later, values["not_before"]), else_=t.c.not_before),
                "reason": sa.case((later, values["reason"]), else_=t.c.reason),
                "updated_at": values["updated_at"],
            },
            "recording a hold",
        )

    def record_usage(self, key: str, pct: float, *, at: datetime) -> None:
        self._local.record_usage(key, pct, at=at)
        values = {"key": key, "usage_pct": pct, "updated_at": _utc(at)}
        self._upsert(values, {"usage_pct": pct, "updated_at": values["updated_at"]}, "recording usage")

    def _upsert(self, values: dict[str, object], changes: dict[str, object], action: str) -> None:
        t = self.table
        try:
            with self.engine.begin() as conn:
                dialect = conn.dialect.name
                if dialect in ("postgresql", "sqlite"):
                    insert = (postgresql.insert(t) if dialect == "postgresql" else sqlite.insert(t)).values(values)
                    conn.execute(insert.on_conflict_do_update(index_elements=[t.c.key], set_=changes))
                    return
                # Portable path: update, else insert; a concurrent insert of the same key loses the race
                # with an IntegrityError, and its update then applies.
                if conn.execute(t.update().where(t.c.key == values["key"]).values(changes)).rowcount:
                    return
                try:
                    with conn.begin_nested():
                        conn.execute(t.insert().values(values))
                except sa.exc.IntegrityError:
                    conn.execute(t.update().where(t.c.key == values["key"]).values(changes))
        except DRIVER_ERRORS as exc:
            self._degraded(action, exc)

    def _degraded(self, action: str, exc: BaseException) -> None:
        log.warning(
            "shared throttle state: %s failed (%s); pacing with this process's own state", action, driver_message(exc)
        )


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)
