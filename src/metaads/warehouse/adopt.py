"""Adopting a warehouse built by the original design's DDL (``metaads migrate --adopt-original``).

The original design's tables differ from metaads's (see docs/migrations.md):

- ads tables: ``spend DECIMAL(10,2)``, ``INTEGER`` counters, names ``VARCHAR(255)``, ids ``VARCHAR(50)``
  (possibly with ``act_``), no ``reach`` / ``currency`` / ``loaded_at``, and ``unique_id`` the MD5 of the
  whole row, so a restated figure left a second row for the same ad and day;
- actions tables: ``id SERIAL`` key, ``value INTEGER``, no ``unique_id`` / ``action_value`` / ``loaded_at``;
- views ``SELECT *`` over the tables (they block type changes).

Adopting, per account table pair, in one transaction: drop the two union views (``init`` recreates them),
strip ``act_`` from ids, merge rows of one natural key keeping the newest (ads: the row written by the
latest transaction, PostgreSQL's ``xmin``, since the original rows carry no load time; actions: the highest
``id``), recompute ``unique_id`` as metaads's natural-key hash, convert types (numbers exactly; text columns
only ever widened), add the missing columns (``loaded_at`` set to the adoption time), key actions by
``unique_id`` (the ``id`` column, a load counter, is dropped) and create metaads's indexes. PostgreSQL only:
the original design's warehouse is PostgreSQL.
"""

# ruff: noqa: S608 - statements are built from quoted, validated table names and fixed column names
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from metaads.accounts import Account
from metaads.clock import Clock, SystemClock
from metaads.database import DRIVER_ERRORS, translate
from metaads.errors import WarehouseError
from metaads.warehouse.locking import DEFAULT_BUSY_TIMEOUT_S, write_transaction
from metaads.warehouse.schema import ACTIONS_SUFFIX, ACTIONS_VIEW, ADS_VIEW, actions_table, ads_table

log = logging.getLogger("metaads.warehouse")


@dataclass
class AdoptReport:
    """What adopting changed (or, with ``dry_run``, would change), per table."""

    dry_run: bool
    tables: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    rows_before: dict[str, int] = field(default_factory=dict)
    rows_after: dict[str, int] = field(default_factory=dict)
    merged: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        if not self.tables:
            return ["no table of the original design found: nothing to adopt"]
        head = "would change" if self.dry_run else "changed"
        out = [f"{head} {len(self.tables)} tables: {', '.join(self.tables)}"]
        out += [f"  {change}" for change in self.changes]
        for name in self.tables:
            merged = self.merged.get(name, 0)
            after = self.rows_after.get(name, self.rows_before.get(name, 0) - merged)
            out.append(
                f"  {name}: {self.rows_before.get(name, 0)} rows -> {after} "
                f"({merged} duplicates of one natural key merged, the newest kept)"
            )
        return out


@dataclass
class _Plan:
    statements: list[tuple[str, str]] = field(default_factory=list)  # (description, SQL)

    def add(self, description: str, sql: str) -> None:
        self.statements.append((description, sql))


def original_tables(conn: sa.Connection, schema: str | None, names: Sequence[str]) -> list[str]:
    """Those of ``names`` (ads tables; their ``_actions`` too) that still have the original design's shape."""
    existing = set(sa.inspect(conn).get_table_names(schema=schema))
    found = []
    for name in names:
        if name in existing and is_original_ads(_columns(conn, name, schema)):
            found.append(name)
        actions = f"{name}{ACTIONS_SUFFIX}"
        if actions in existing and is_original_actions(_columns(conn, actions, schema)):
            found.append(actions)
    return found


def _columns(conn: sa.Connection, name: str, schema: str | None) -> dict[str, dict[str, Any]]:
    return {c["name"]: dict(c) for c in sa.inspect(conn).get_columns(name, schema=schema)}


def is_original_ads(columns: dict[str, dict[str, Any]]) -> bool:
    """The original design's ads table: no ``loaded_at``, and ``spend`` with two decimals (``DECIMAL(10,2)``)."""
    spend = columns.get("spend", {}).get("type")
    return (
        "unique_id" in columns
        and "ad_id" in columns
        and "loaded_at" not in columns
        and isinstance(spend, sa.Numeric)
        and spend.scale == 2
    )


def is_original_actions(columns: dict[str, dict[str, Any]]) -> bool:
    """The original design's actions table: keyed by a serial ``id``, no ``unique_id``."""
    return "id" in columns and "unique_id" not in columns and "action_type" in columns


def _wider(current: sa.types.TypeEngine[Any], wanted: sa.types.TypeEngine[Any]) -> bool:
    """True when ``wanted`` must replace ``current`` (numbers: always unless equal; text: only to widen)."""
    if isinstance(wanted, sa.String) and isinstance(current, sa.String):
        if current.length is None:
            return False
        return wanted.length is None or wanted.length > current.length
    if isinstance(wanted, sa.Numeric) and not isinstance(wanted, sa.Float):
        if isinstance(current, sa.Numeric) and not isinstance(current, sa.Float | sa.Integer):
            return (current.precision, current.scale) != (wanted.precision, wanted.scale)
        return True
    if isinstance(wanted, sa.BigInteger):
        return not isinstance(current, sa.BigInteger)
    return False


def _plan_table(
    conn: sa.Connection,
    plan: _Plan,
    name: str,
    schema: str | None,
    target: sa.Table,
    key_parts: Sequence[str],
    newest: str,
    now: datetime,
    actions: bool,
) -> None:
    preparer = conn.dialect.identifier_preparer
    fq = f"{preparer.quote_schema(schema)}.{preparer.quote(name)}" if schema else preparer.quote(name)
    columns = _columns(conn, name, schema)
    # Merge first: an UPDATE gives the rows it touches a new xmin, which would hide which row is newest.
    normalised = ", ".join("regexp_replace(account_id, '^act_', '')" if k == "account_id" else k for k in key_parts)
    plan.add(
        f"{name}: merge rows of one ({', '.join(key_parts)}), keeping the newest",
        f"DELETE FROM {fq} t USING (SELECT ctid AS row_ctid, row_number() OVER "
        f"(PARTITION BY {normalised} ORDER BY {newest}) AS rn FROM {fq}) d "
        f"WHERE d.rn > 1 AND t.ctid = d.row_ctid",
    )
    plan.add(
        f"{name}: account_id without the act_ prefix",
        f"UPDATE {fq} SET account_id = substr(account_id, 5) WHERE left(account_id, 4) = 'act_'",
    )
    for column in target.columns:
        existing = columns.get(column.name)
        wanted = column.type.compile(dialect=conn.dialect)
        if existing is None:
            plan.add(
                f"{name}: add column {column.name} {wanted}",
                f"ALTER TABLE {fq} ADD COLUMN {preparer.quote(column.name)} {wanted}",
            )
            continue
        if _wider(existing["type"], column.type):
            plan.add(
                f"{name}: {column.name} {existing['type']} -> {wanted}",
                f"ALTER TABLE {fq} ALTER COLUMN {preparer.quote(column.name)} TYPE {wanted} "
                f"USING {preparer.quote(column.name)}::{wanted}",
            )
    hashed = " || '|' || ".join(f"to_char({part}, 'YYYY-MM-DD')" if part == "date" else part for part in key_parts)
    plan.add(
        f"{name}: unique_id = MD5 of the natural key ({'|'.join(key_parts)})",
        f"UPDATE {fq} SET unique_id = md5({hashed})",
    )
    plan.add(
        f"{name}: loaded_at of existing rows = adoption time",
        f"UPDATE {fq} SET loaded_at = '{now.isoformat()}' WHERE loaded_at IS NULL",
    )
    not_null = [c.name for c in target.columns if not c.nullable and not c.primary_key]
    for column_name in not_null:
        default = "0" if isinstance(target.c[column_name].type, sa.Numeric | sa.Integer) else None
        if default is not None and columns.get(column_name, {}).get("nullable", True):
            plan.add(
                f"{name}: {column_name} NULL -> 0 (the original default)",
                f"UPDATE {fq} SET {column_name} = {default} WHERE {column_name} IS NULL",
            )
        if columns.get(column_name, {}).get("nullable", True):
            plan.add(f"{name}: {column_name} NOT NULL", f"ALTER TABLE {fq} ALTER COLUMN {column_name} SET NOT NULL")
    if actions:
        pk_name = sa.inspect(conn).get_pk_constraint(name, schema=schema).get("name")
        if pk_name:
            plan.add(
                f"{name}: primary key id -> unique_id", f"ALTER TABLE {fq} DROP CONSTRAINT {preparer.quote(pk_name)}"
            )
        plan.add(f"{name}: drop column id (a load counter, no data)", f"ALTER TABLE {fq} DROP COLUMN id")
        plan.add(f"{name}: primary key unique_id", f"ALTER TABLE {fq} ADD PRIMARY KEY (unique_id)")
    for index in target.indexes:
        cols = ", ".join(preparer.quote(c.name) for c in index.columns)
        plan.add(
            f"{name}: index {index.name}",
            f"CREATE INDEX IF NOT EXISTS {preparer.quote(str(index.name))} ON {fq} ({cols})",
        )


def _count(conn: sa.Connection, name: str, schema: str | None) -> int:
    table = sa.table(name, schema=schema)
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _duplicates(conn: sa.Connection, name: str, schema: str | None, keys: Sequence[str]) -> int:
    table = sa.table(name, *(sa.column(k) for k in keys), schema=schema)
    distinct = sa.select(*(table.c[k] for k in keys)).distinct().subquery()
    unique = int(conn.execute(sa.select(sa.func.count()).select_from(distinct)).scalar_one())
    return _count(conn, name, schema) - unique


def adopt_original(
    engine: sa.Engine,
    schema: str | None,
    accounts: Sequence[Account],
    *,
    clock: Clock | None = None,
    dry_run: bool = False,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
) -> AdoptReport:
    """Convert the configured accounts' original-design tables to metaads's (see the module docs).

    Raises:
        WarehouseError: not PostgreSQL, or the database refused a change (nothing was changed then).
    """
    if engine.dialect.name != "postgresql":
        raise WarehouseError("--adopt-original needs the PostgreSQL warehouse the original design built")
    now = (clock or SystemClock()).now()
    report = AdoptReport(dry_run=dry_run)
    metadata = sa.MetaData()
    try:
        with write_transaction(engine, "init", schema or "", busy_timeout_s=busy_timeout_s) as conn:
            names = set(sa.inspect(conn).get_table_names(schema=schema))
            plan = _Plan()
            ads_keys = ("account_id", "ad_id", "date")
            for account in accounts:
                pair = (
                    (account.table, ads_keys, "xmin::text::bigint DESC, ctid DESC", False),
                    (f"{account.table}{ACTIONS_SUFFIX}", (*ads_keys, "action_type"), "id DESC", True),
                )
                for name, keys, newest, actions in pair:
                    if name not in names:
                        continue
                    columns = _columns(conn, name, schema)
                    if not (is_original_actions(columns) if actions else is_original_ads(columns)):
                        continue
                    target = (actions_table if actions else ads_table)(metadata, name, schema=schema)
                    report.tables.append(name)
                    report.rows_before[name] = _count(conn, name, schema)
                    report.merged[name] = _duplicates(conn, name, schema, keys)
                    _plan_table(conn, plan, name, schema, target, keys, newest, now, actions)
            if report.tables:
                for view in (ADS_VIEW, ACTIONS_VIEW):
                    quoted = conn.dialect.identifier_preparer.quote(view)
                    fq = f"{conn.dialect.identifier_preparer.quote_schema(schema)}.{quoted}" if schema else quoted
                    plan.statements.insert(
                        0,
                        (f"drop view {view} (recreated by init over the adopted tables)", f"DROP VIEW IF EXISTS {fq}"),
                    )
            report.changes = [description for description, _ in plan.statements]
            if dry_run:
                conn.rollback()
                return report
            for description, statement in plan.statements:
                log.debug("adopt: %s", description)
                conn.exec_driver_sql(statement)
            for name in report.tables:
                report.rows_after[name] = _count(conn, name, schema)
                report.merged[name] = report.rows_before[name] - report.rows_after[name]
    except DRIVER_ERRORS as exc:
        raise translate(exc, "adopting the original design's tables", engine) from exc
    for line in report.lines():
        log.warning("adopt-original: %s", line)
    return report
