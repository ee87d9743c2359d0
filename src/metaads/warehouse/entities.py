"""Entity tables: campaigns, ad sets, ads and creatives of every account, upserted by id.

Per account ``<table>_campaigns``, ``<table>_adsets``, ``<table>_ads``, ``<table>_creatives`` (columns:
:mod:`metaads.transform.entities`), union views ``vw_graph_<kind>`` and the load ledger
``metaads_entity_loads`` (one row per account and kind per run: the incremental loads start from the
last successful one's ``started_at``; ad sets and ads from a run whose parents loaded too). Rows are
never deleted: an object deleted in Ads Manager keeps its row, with ``effective_status`` DELETED once
Meta reports it so.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from metaads.accounts import Account
from metaads.clock import Clock, SystemClock
from metaads.database import DRIVER_ERRORS, stored_utc, translate
from metaads.errors import LoadError
from metaads.transform.entities import ENTITY_KINDS, INTEGER, JSON, TIME, EntityKind
from metaads.warehouse import ddl
from metaads.warehouse.dictionary import Relation, apply_comments, union_view
from metaads.warehouse.ledger import safe_error
from metaads.warehouse.locking import DEFAULT_BUSY_TIMEOUT_S, write_transaction
from metaads.warehouse.schema import ID, NAME
from metaads.warehouse.writers import copy_rows, create_temporary_like, supports_copy

log = logging.getLogger("metaads.warehouse")

ENTITY_LOADS = "metaads_entity_loads"
ENTITY_SYNCS = "metaads_entity_syncs"
FULL, INCREMENTAL = "full", "incremental"
LOADED, FAILED = "loaded", "failed"
# Longest suffix an account table name gets from the entity tables ("_campaigns", "_creatives").
ENTITY_SUFFIXES: tuple[str, ...] = tuple(f"_{kind.name}" for kind in ENTITY_KINDS)
BATCH_ROWS = 1000

# Columns that hold more than an enum or an id; the rest of the text columns are short codes.
_WIDE = {
    "name": NAME,
    "title": NAME,
    "body": sa.UnicodeText(),
    "link_url": sa.UnicodeText(),
    "image_url": sa.UnicodeText(),
    "thumbnail_url": sa.UnicodeText(),
}
_IDS = {"id", "account_id", "campaign_id", "adset_id", "creative_id", "video_id"}


def view_name(kind: EntityKind) -> str:
    """``vw_graph_campaigns``, ``vw_graph_adsets``, ``vw_graph_ad_details`` (``vw_graph_ads`` is the insights'),
    ``vw_graph_creatives``."""
    return f"vw_graph_{kind.union_name}"


def view_comment(kind: EntityKind) -> str:
    """The description of ``kind``'s union view (PostgreSQL ``COMMENT ON VIEW``, the data dictionary)."""
    return (
        f"Every configured ad account's {kind.title} (UNION ALL of the per-account <table>_{kind.name} tables; "
        "one row per object)"
    )


def view_relations() -> list[Relation]:
    """The entity views as the data dictionary shows them (and PostgreSQL comments them)."""
    return [union_view(view_name(kind), entity_columns(kind), view_comment(kind)) for kind in ENTITY_KINDS]


def table_name(account: Account, kind: EntityKind) -> str:
    return f"{account.table}_{kind.name}"


def entity_columns(kind: EntityKind) -> list[sa.Column[Any]]:
    """Fresh columns of ``kind``'s tables (the analytics targets build theirs from these too)."""
    columns: list[sa.Column[Any]] = []
    for column in kind.columns:
        kind_type: sa.types.TypeEngine[Any]
        if column.name in _IDS:
            kind_type = ID
        elif column.kind == INTEGER:
            kind_type = sa.BigInteger()
        elif column.kind == TIME:
            kind_type = sa.DateTime(timezone=True)
        elif column.kind == JSON:
            kind_type = sa.UnicodeText()
        else:
            kind_type = _WIDE.get(column.name, sa.String(64))
        columns.append(
            sa.Column(
                column.name,
                kind_type,
                primary_key=column.name == "id",
                nullable=column.name not in ("id", "account_id", "loaded_at"),
                comment=column.description,
            )
        )
    return columns


def entity_table(metadata: sa.MetaData, kind: EntityKind, name: str, *, schema: str | None = None) -> sa.Table:
    indexes = [sa.Index(f"ix_{name}_updated", "updated_time")] if "updated_time" in kind.column_names else []
    return sa.Table(name, metadata, *entity_columns(kind), *indexes, comment=kind.description, schema=schema)


def entity_loads_table(metadata: sa.MetaData, *, schema: str | None = None) -> sa.Table:
    """``metaads_entity_loads``: what each run's entity load of one account and kind did."""
    return sa.Table(
        ENTITY_LOADS,
        metadata,
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True, comment="load id; the entity sync's watermark"),
        sa.Column("run_id", sa.String(36), nullable=False, comment="the run (metaads_runs.run_id)"),
        sa.Column("account_id", ID, nullable=False, comment="ad account id, digits only"),
        sa.Column(
            "table_name", sa.String(63), nullable=False, comment="the account's ads table (entity tables add _<kind>)"
        ),
        sa.Column("kind", sa.String(16), nullable=False, comment="campaigns | adsets | ads | creatives"),
        sa.Column("mode", sa.String(16), nullable=False, comment="full | incremental"),
        sa.Column("status", sa.String(16), nullable=False, comment="loaded | failed"),
        sa.Column(
            "updated_after", sa.DateTime(timezone=True), comment="the updated_time filter used (NULL: full listing)"
        ),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="when the listing started: the next incremental load asks from here",
        ),
        sa.Column("rows", sa.BigInteger, nullable=False, default=0, comment="rows inserted or updated"),
        sa.Column("api_calls", sa.Integer, nullable=False, default=0, comment="Graph API calls the load cost"),
        sa.Column("duration_s", sa.Float, nullable=False, default=0.0, comment="seconds the load took"),
        sa.Column("error", sa.Text, comment="why the load failed (never contains secrets)"),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False, comment="when the load ended (UTC)"),
        sa.Index("ix_metaads_entity_loads_account_kind", "account_id", "kind", "status"),
        comment="One row per account and entity kind loaded (or failed) by a run (metaads ledger)",
        schema=schema,
    )


def entity_syncs_table(metadata: sa.MetaData, *, schema: str | None = None) -> sa.Table:
    """``metaads_entity_syncs``: each copy of the entity views to an analytics target."""
    return sa.Table(
        ENTITY_SYNCS,
        metadata,
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True, comment="entity sync id"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, comment="when the sync started (UTC)"),
        sa.Column("finished_at", sa.DateTime(timezone=True), comment="when the sync ended (UTC); NULL while running"),
        sa.Column("status", sa.String(16), nullable=False, comment="running | success | failed"),
        sa.Column("mode", sa.String(16), nullable=False, comment="incremental | full"),
        sa.Column("target", sa.String(200), comment="analytics URL without password"),
        sa.Column("watermark", sa.Integer, comment="highest metaads_entity_loads.id covered by this sync"),
        sa.Column("rows", sa.BigInteger, comment="rows copied to graph_campaigns, graph_adsets, ..."),
        sa.Column("error", sa.Text, comment="why the sync failed (never contains secrets)"),
        comment="One row per copy of the entity views to an analytics database, with its watermark (metaads ledger)",
        schema=schema,
    )


@dataclass(frozen=True)
class EntityLoad:
    """One ``metaads_entity_loads`` row to write."""

    run_id: str
    account: Account
    kind: EntityKind
    mode: str
    status: str
    started_at: datetime
    updated_after: datetime | None = None
    rows: int = 0
    api_calls: int = 0
    duration_s: float = 0.0
    error: str | None = None


class EntityStore:
    """The entity tables, views and load ledger of one warehouse."""

    def __init__(
        self,
        engine: sa.Engine,
        schema: str | None,
        *,
        clock: Clock | None = None,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    ) -> None:
        self.engine = engine
        self.schema = None if engine.dialect.name == "sqlite" else schema
        self.clock: Clock = clock or SystemClock()
        self.busy_timeout_s = busy_timeout_s
        self._metadata = sa.MetaData()
        self._lock = threading.Lock()
        self._tables: dict[str, sa.Table] = {}
        self.loads = entity_loads_table(self._metadata, schema=self.schema)
        self.syncs = entity_syncs_table(self._metadata, schema=self.schema)

    def table(self, account: Account, kind: EntityKind) -> sa.Table:
        name = table_name(account, kind)
        with self._lock:
            found = self._tables.get(name)
            if found is None:
                found = self._tables[name] = entity_table(self._metadata, kind, name, schema=self.schema)
            return found

    def init(self, accounts: Sequence[Account]) -> None:
        """Create missing entity tables and the load ledger; point the views at ``accounts``' tables."""
        by_kind = {kind.name: [self.table(account, kind) for account in accounts] for kind in ENTITY_KINDS}
        try:
            with write_transaction(self.engine, "init", self.schema or "", busy_timeout_s=self.busy_timeout_s) as conn:
                tables = [t for group in by_kind.values() for t in group]
                self._metadata.create_all(conn, tables=[*tables, self.loads, self.syncs], checkfirst=True)
                ddl.check_columns(conn, tables)
                for kind in ENTITY_KINDS:
                    if by_kind[kind.name] and ddl.ensure_view(
                        conn, view_name(kind), self.schema, by_kind[kind.name], kind.column_names
                    ):
                        log.info("view %s now covers %d account tables", view_name(kind), len(accounts))
                # PostgreSQL: the descriptions as COMMENT ON, for tables created earlier and the views.
                apply_comments(conn, [*tables, self.loads, self.syncs], self.schema, view_relations())
        except DRIVER_ERRORS as exc:
            raise translate(exc, "creating the entity tables", self.engine) from exc

    # ------------------------------------------------------------------ loading

    def upsert(self, account: Account, kind: EntityKind, rows: Iterable[tuple[Any, ...]]) -> int:
        """Insert or update ``rows`` (in ``kind.columns`` order) by id, in one transaction; objects counted.

        An object in ``rows`` twice (listed twice) keeps its last row and counts once.

        Raises:
            LoadError: the database failed; the table is as before.
        """
        table = self.table(account, kind)
        names = kind.column_names
        seen: set[str] = set()  # ids written: a later batch may hold an object again
        try:
            with write_transaction(
                self.engine, "entities", self.schema or "", table.name, busy_timeout_s=self.busy_timeout_s
            ) as conn:
                if supports_copy(conn):
                    return _copy_upsert(conn, table, rows)
                batch: list[dict[str, Any]] = []
                for row in rows:
                    batch.append(dict(zip(names, row, strict=True)))
                    if len(batch) >= BATCH_ROWS:
                        seen.update(_upsert_batch(conn, table, batch))
                        batch = []
                if batch:
                    seen.update(_upsert_batch(conn, table, batch))
        except DRIVER_ERRORS as exc:
            raise translate(exc, f"upserting {table.name}", self.engine, LoadError) from exc
        return len(seen)

    # ------------------------------------------------------------------ ledger

    def last_loaded(self, account: Account, kind: EntityKind, *, mode: str | None = None) -> datetime | None:
        """``started_at`` of the last successful load of the account's ``kind`` (of ``mode`` if given)."""
        loads = self.loads
        query = sa.select(sa.func.max(loads.c.started_at)).where(
            loads.c.account_id == account.id,
            loads.c.table_name == account.table,
            loads.c.kind == kind.name,
            loads.c.status == LOADED,
        )
        if mode is not None:
            query = query.where(loads.c.mode == mode)
        try:
            with self.engine.connect() as conn:
                value = conn.execute(query).scalar()
        except DRIVER_ERRORS as exc:
            raise translate(exc, "reading the entity load ledger", self.engine) from exc
        return stored_utc(value)

    def last_loaded_with_parents(
        self, account: Account, kind: EntityKind, parents: Sequence[EntityKind]
    ) -> datetime | None:
        """Where the account's ``kind`` may list from: of the last run that loaded ``kind`` and, before it, every
        one of ``parents`` (parents first), the first parent's ``started_at``.

        A parent's status change moves its children's ``effective_status`` but not their ``updated_time``, so
        children are re-listed by parent; that only knows the parent changes its parents' tables held. A
        run whose parents failed leaves this where it was, and the next one re-lists from there.
        """
        if not parents:
            return self.last_loaded(account, kind)
        child, first = self.loads.alias("child"), self.loads.alias("first_parent")

        def same_run(load: sa.FromClause, parent: EntityKind) -> list[sa.ColumnElement[bool]]:
            return [
                load.c.run_id == child.c.run_id,
                load.c.account_id == child.c.account_id,
                load.c.table_name == child.c.table_name,
                load.c.kind == parent.name,
                load.c.status == LOADED,
                load.c.started_at <= child.c.started_at,
            ]

        query = (
            sa.select(sa.func.max(first.c.started_at))
            .select_from(child.join(first, sa.and_(*same_run(first, parents[0]))))
            .where(
                child.c.account_id == account.id,
                child.c.table_name == account.table,
                child.c.kind == kind.name,
                child.c.status == LOADED,
            )
        )
        for parent in parents[1:]:
            other = self.loads.alias(f"parent_{parent.name}")
            query = query.where(sa.exists().where(*same_run(other, parent), other.c.started_at >= first.c.started_at))
        try:
            with self.engine.connect() as conn:
                value = conn.execute(query).scalar()
        except DRIVER_ERRORS as exc:
            raise translate(exc, "reading the entity load ledger", self.engine) from exc
        return stored_utc(value)

    def updated_since(self, account: Account, kind: EntityKind, after: datetime) -> list[tuple[str, str | None]]:
        """(id, campaign_id) of the account's ``kind`` rows whose ``updated_time`` is after ``after``
        (campaign_id None for campaigns), in id order."""
        table = self.table(account, kind)
        parent = table.c.campaign_id if "campaign_id" in table.c else sa.null()
        query = sa.select(table.c.id, parent).where(table.c.updated_time > after).order_by(table.c.id)
        try:
            with self.engine.connect() as conn:
                return [(str(row[0]), None if row[1] is None else str(row[1])) for row in conn.execute(query)]
        except DRIVER_ERRORS as exc:
            raise translate(exc, f"reading {table.name}", self.engine) from exc

    def ids_with_campaign(self, account: Account, kind: EntityKind, campaigns: Sequence[str]) -> list[str]:
        """Ids of the account's ``kind`` rows (ad sets, ads) under one of ``campaigns``, in id order."""
        table = self.table(account, kind)
        found: list[str] = []
        try:
            with self.engine.connect() as conn:
                for start in range(0, len(campaigns), BATCH_ROWS):  # a bounded IN list per statement
                    batch = list(campaigns[start : start + BATCH_ROWS])
                    query = sa.select(table.c.id).where(table.c.campaign_id.in_(batch))
                    found.extend(str(object_id) for object_id in conn.execute(query).scalars())
        except DRIVER_ERRORS as exc:
            raise translate(exc, f"reading {table.name}", self.engine) from exc
        return sorted(found)

    def record(self, entry: EntityLoad) -> int:
        """Write one ledger row; its id."""
        try:
            with write_transaction(
                self.engine, "ledger", self.schema or "", busy_timeout_s=self.busy_timeout_s
            ) as conn:
                result = conn.execute(
                    self.loads.insert().values(
                        run_id=entry.run_id,
                        account_id=entry.account.id,
                        table_name=entry.account.table,
                        kind=entry.kind.name,
                        mode=entry.mode,
                        status=entry.status,
                        updated_after=entry.updated_after,
                        started_at=entry.started_at,
                        rows=entry.rows,
                        api_calls=entry.api_calls,
                        duration_s=entry.duration_s,
                        error=safe_error(entry.error),
                        finished_at=self.clock.now(),
                    )
                )
                key = result.inserted_primary_key
        except DRIVER_ERRORS as exc:
            raise translate(exc, f"recording the {entry.kind.name} load of {entry.account.table}", self.engine) from exc
        return int(key[0]) if key is not None and key[0] is not None else 0


def _copy_upsert(conn: sa.Connection, table: sa.Table, rows: Iterable[tuple[Any, ...]]) -> int:
    """PostgreSQL: ``COPY`` the rows into a temporary table, then one ``INSERT ... SELECT ... ON CONFLICT``.

    Thousands of ads with their tracking specs took seconds as a batched INSERT; this is one round trip
    of binary COPY and one statement. An object listed twice (pages shift while the account changes)
    keeps its last listing, as the batched path does.
    """
    staging = create_temporary_like(conn, table, f"metaads_upsert_{table.name}", ("metaads_position", sa.BigInteger()))
    copy_rows(conn, staging, ((*row, position) for position, row in enumerate(rows)))
    names = [c.name for c in table.columns]
    latest = (
        sa.select(*(staging.c[name] for name in names))
        .ext(postgresql.distinct_on(staging.c.id))
        .order_by(staging.c.id, staging.c.metaads_position.desc())
    )
    insert = postgresql.insert(table).from_select(names, latest)
    statement = insert.on_conflict_do_update(
        index_elements=["id"], set_={name: insert.excluded[name] for name in names if name != "id"}
    )
    conn.execute(statement)
    return int(conn.execute(sa.select(sa.func.count(sa.distinct(staging.c.id)))).scalar_one())


def _upsert_batch(conn: sa.Connection, table: sa.Table, batch: list[dict[str, Any]]) -> list[str]:
    """Upsert one batch; the ids written."""
    # Duplicates inside one statement make PostgreSQL refuse ON CONFLICT: the API may list an object twice
    # across pages while it changes (or a load re-lists it by parent); the last one wins.
    by_id = {row["id"]: row for row in batch}
    unique = list(by_id.values())
    dialect = conn.dialect.name
    updates = [c.name for c in table.columns if c.name != "id"]
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
        statement = insert.on_conflict_do_update(
            index_elements=["id"], set_={name: insert.excluded[name] for name in updates}
        )
        conn.execute(statement, unique)
    else:  # pragma: no cover - the warehouse is PostgreSQL or SQLite
        conn.execute(sa.delete(table).where(table.c.id.in_([row["id"] for row in unique])))
        conn.execute(sa.insert(table), unique)
    return [str(object_id) for object_id in by_id]
