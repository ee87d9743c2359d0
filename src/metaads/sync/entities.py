"""Copying the entity views (``vw_graph_campaigns``...) into the analytics tables (``graph_campaigns``...).

Like the insights sync, it is incremental from the ledger: the (account, kind) pairs loaded since the last
successful entity sync to the same target (``metaads_entity_loads`` ids above its watermark) are replaced,
each in one transaction (delete the account's rows, insert the view's). Entity tables are small (one row
per object, not per day), so an account is the slice. The first sync, ``--full``, or columns added by
``--evolve`` copy every account. Targets are created when missing; their key is (account_id, id).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mssql

from metaads.clock import Clock, SystemClock
from metaads.database import DRIVER_ERRORS, failure_message
from metaads.errors import SyncError
from metaads.sync import ledger
from metaads.sync.targets import TargetPair, ensure_targets, schema_for, target_type
from metaads.transform.entities import ENTITY_KINDS, KINDS_BY_NAME, EntityKind
from metaads.warehouse.entities import (
    LOADED,
    entity_columns,
    entity_loads_table,
    entity_syncs_table,
    view_name,
)
from metaads.warehouse.ledger import safe_error

log = logging.getLogger("metaads.sync")
FULL, INCREMENTAL = "full", "incremental"


def target_name(kind: EntityKind) -> str:
    """``graph_campaigns``, ``graph_adsets``, ``graph_ad_details`` (``graph_ads`` is the insights'),
    ``graph_creatives``."""
    return f"graph_{kind.union_name}"


def entity_targets(metadata: sa.MetaData, *, schema: str | None = None) -> list[TargetPair]:
    """The analytics tables of the entity kinds, with the views they are copied from."""
    pairs = []
    for kind in ENTITY_KINDS:
        columns = entity_columns(kind)
        for column in columns:
            long_text = isinstance(column.type, sa.UnicodeText)
            column.type = target_type(column)
            if long_text:  # SQL Server: NVARCHAR(max), not the deprecated NTEXT SQLAlchemy falls back to
                column.type = column.type.with_variant(mssql.NVARCHAR(), "mssql")
            column.primary_key = False
        name = target_name(kind)
        table = sa.Table(
            name,
            metadata,
            *columns,
            sa.PrimaryKeyConstraint("account_id", "id", name=f"pk_{name}", mssql_clustered=True),
            schema=schema,
        )
        pairs.append(TargetPair(view_name(kind), table))
    return pairs


@dataclass
class EntitySyncResult:
    """What one entity sync copied."""

    mode: str
    target: str
    rows: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)
    columns_added: tuple[str, ...] = ()
    skipped: str | None = None

    def summary(self) -> dict[str, Any]:
        if self.skipped:
            return {"entities": f"skipped: {self.skipped}"}
        return {
            "entities": self.mode,
            **{f"{name} rows": n for name, n in self.rows.items()},
            **({"entity columns added": ", ".join(self.columns_added)} if self.columns_added else {}),
        }


@contextmanager
def _translated(action: str, engine: sa.Engine) -> Iterator[None]:
    try:
        yield
    except DRIVER_ERRORS as exc:
        raise SyncError(failure_message(exc, action, engine)) from exc


def _accounts_of(conn: sa.Connection, table: sa.Table | sa.TableClause) -> set[str]:
    return {str(row[0]) for row in conn.execute(sa.select(table.c.account_id).distinct())}


def _replace(
    warehouse: sa.Engine,
    source: sa.TableClause,
    analytics: sa.Engine,
    target: sa.Table,
    account_id: str,
    batch_rows: int,
) -> int:
    names = [c.name for c in target.columns]
    rows = 0
    with warehouse.connect() as read, analytics.begin() as write:
        write.execute(sa.delete(target).where(target.c.account_id == account_id))
        result = read.execution_options(stream_results=True).execute(
            sa.select(*(source.c[name] for name in names)).where(source.c.account_id == account_id)
        )
        while batch := result.fetchmany(batch_rows):
            write.execute(sa.insert(target), [dict(zip(names, row, strict=True)) for row in batch])
            rows += len(batch)
    return rows


def sync_entities(
    warehouse_engine: sa.Engine,
    warehouse_schema: str | None,
    analytics_engine: sa.Engine,
    analytics_schema: str | None,
    *,
    full: bool = False,
    evolve: bool = False,
    clock: Clock | None = None,
    batch_rows: int = 5000,
) -> EntitySyncResult:
    """Copy the entity views changed since the last entity sync (all with ``full``) to the analytics database.

    Raises:
        SchemaMismatchError: a target table lacks columns and ``evolve`` is False.
        SyncError: a database failed; the account being replaced is unchanged.
    """
    clock = clock or SystemClock()
    source_schema = schema_for(warehouse_engine, warehouse_schema)
    target_schema = schema_for(analytics_engine, analytics_schema)
    metadata = sa.MetaData()
    loads = entity_loads_table(metadata, schema=source_schema)
    syncs = entity_syncs_table(metadata, schema=source_schema)
    target = ledger.describe_target(analytics_engine, target_schema)
    with _translated("reading the entity ledger", warehouse_engine), warehouse_engine.connect() as control:
        if not sa.inspect(control).has_table(loads.name, schema=source_schema):
            return EntitySyncResult(mode=FULL, target=target, skipped="no entity tables in the warehouse")
        with ledger.sync_lock(control, f"entities {target}"):
            previous = (
                None
                if full
                else control.execute(
                    sa.select(sa.func.max(syncs.c.watermark)).where(
                        syncs.c.status == ledger.SUCCESS, syncs.c.target == target
                    )
                ).scalar()
            )
            watermark = int(control.execute(sa.select(sa.func.coalesce(sa.func.max(loads.c.id), 0))).scalar_one())
            sync_id = control.execute(
                syncs.insert().values(
                    started_at=clock.now(),
                    status=ledger.RUNNING,
                    mode=FULL if previous is None else INCREMENTAL,
                    target=target,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            control.commit()
            try:
                result = _copy(
                    control,
                    warehouse_engine,
                    source_schema,
                    analytics_engine,
                    target_schema,
                    loads,
                    previous=previous,
                    watermark=watermark,
                    evolve=evolve,
                    target=target,
                    batch_rows=batch_rows,
                )
            except BaseException as exc:
                control.rollback()
                control.execute(
                    syncs.update()
                    .where(syncs.c.id == sync_id)
                    .values(
                        status=ledger.FAILED, finished_at=clock.now(), error=safe_error(f"{type(exc).__name__}: {exc}")
                    )
                )
                control.commit()
                raise
            control.execute(
                syncs.update()
                .where(syncs.c.id == sync_id)
                .values(
                    status=ledger.SUCCESS,
                    mode=result.mode,
                    finished_at=clock.now(),
                    watermark=watermark,
                    rows=sum(result.rows.values()),
                )
            )
            control.commit()
    log.info("entity sync to %s: %s", target, result.summary())
    return result


def _copy(
    control: sa.Connection,
    warehouse: sa.Engine,
    source_schema: str | None,
    analytics: sa.Engine,
    target_schema: str | None,
    loads: sa.Table,
    *,
    previous: int | None,
    watermark: int,
    evolve: bool,
    target: str,
    batch_rows: int,
) -> EntitySyncResult:
    pairs = entity_targets(sa.MetaData(), schema=target_schema)
    with _translated("creating or checking the analytics entity tables", analytics), analytics.begin() as conn:
        added = ensure_targets(conn, pairs, evolve=evolve)
    mode = FULL if previous is None or added else INCREMENTAL
    # Typed columns: a SQLite view returns times as text, which the target's DateTime would refuse.
    views = {
        pair.view: sa.table(pair.view, *(sa.column(c.name, c.type) for c in entity_columns(kind)), schema=source_schema)
        for kind, pair in zip(ENTITY_KINDS, pairs, strict=True)
    }
    existing = set(sa.inspect(control).get_view_names(schema=source_schema))
    work: dict[str, set[str]] = {pair.view: set() for pair in pairs}
    with _translated("planning the entity sync", warehouse):
        if mode == FULL:
            with analytics.connect() as conn:
                for pair in pairs:
                    work[pair.view] |= _accounts_of(conn, pair.table)
            for pair in pairs:
                if pair.view in existing:
                    work[pair.view] |= _accounts_of(control, views[pair.view])
        else:
            changed = control.execute(
                sa.select(loads.c.kind, loads.c.account_id)
                .distinct()
                .where(loads.c.status == LOADED, loads.c.id > previous, loads.c.id <= watermark)
            )
            for kind_name, account_id in changed:
                kind = KINDS_BY_NAME.get(str(kind_name))
                if kind is not None:
                    work[view_name(kind)].add(str(account_id))
        control.commit()
    result = EntitySyncResult(mode=mode, target=target, columns_added=tuple(added))
    for pair in pairs:
        name = pair.table.name
        result.rows[name], result.accounts[name] = 0, len(work[pair.view])
        if pair.view not in existing:
            continue
        for account_id in sorted(work[pair.view]):
            with _translated(f"replacing {name} of account {account_id} ({target})", analytics):
                result.rows[name] += _replace(
                    warehouse, views[pair.view], analytics, pair.table, account_id, batch_rows
                )
    return result
