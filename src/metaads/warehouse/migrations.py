"""Warehouse migrations: bring any earlier metaads warehouse to the current schema without losing a row.

A numbered history in ``metaads_schema_version`` (one row per applied step) and Python steps over
SQLAlchemy Core, not Alembic: the account tables are named by configuration (``bm_01``, ``bm_01_actions``,
``bm_01_campaigns``...), so each step runs once *per account table* found, which Alembic's one-script-per-
revision model expresses only by re-reading the configuration inside every script, and Alembic's version
table would be one more thing to adopt. Steps only add (tables, columns, indexes); none drops or rewrites
data. Steps marked ``repeatable`` (adding the current schema's columns to account and ledger tables) also
run on every migrate after being recorded, so a table created later by an older release, or an account
added since, is brought up too.

The extra reports' tables (``INSIGHTS_REPORTS``) follow their configuration the same way (step 0005,
repeatable): columns of newly requested fields are added, columns of fields no longer requested are kept;
a report whose key changed (breakdowns, level, ...) is refused (:func:`metaads.warehouse.report_tables.plan_table`).

``migrate`` runs from ``metaads migrate``, ``metaads init-db`` and the pipeline's warehouse init, under the
warehouse's init lock (PostgreSQL advisory lock), in one transaction: all steps or none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from metaads.accounts import Account
from metaads.clock import Clock, SystemClock
from metaads.database import DRIVER_ERRORS, translate
from metaads.errors import WarehouseError
from metaads.transform.entities import ENTITY_KINDS
from metaads.transform.report_spec import ReportSpec, layout
from metaads.warehouse.adopt import original_tables
from metaads.warehouse.entities import entity_loads_table, entity_syncs_table, entity_table, table_name
from metaads.warehouse.locking import DEFAULT_BUSY_TIMEOUT_S, write_transaction
from metaads.warehouse.registry import retired_tables
from metaads.warehouse.report_tables import plan_table, report_tables
from metaads.warehouse.schema import (
    ACTIONS_SUFFIX,
    actions_table,
    ads_table,
    chunk_days_table,
    ledger_tables,
    quality_table,
    throttle_table,
    token_checks_table,
)

log = logging.getLogger("metaads.warehouse")

VERSION_TABLE = "metaads_schema_version"


def version_table(metadata: sa.MetaData, *, schema: str | None = None) -> sa.Table:
    return sa.Table(
        VERSION_TABLE,
        metadata,
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", sa.Text, comment="what the step changed, one line each"),
        schema=schema,
    )


@dataclass(frozen=True)
class Change:
    """One schema change: what people read, and the statements that make it."""

    description: str
    statements: tuple[str, ...] = ()
    # Run after the statements, with the connection (data fixes that need parameters).
    after: Callable[[sa.Connection], None] | None = None
    # What was done, once applied (the description is the plan: what would be done).
    done: str | None = None


@dataclass
class Context:
    """What a step sees: the connection, the schema and the account tables it applies to."""

    conn: sa.Connection
    schema: str | None
    accounts: Sequence[Account]
    now: datetime
    reports: Sequence[ReportSpec] = ()
    _names: set[str] | None = None

    def table_names(self) -> set[str]:
        if self._names is None:
            self._names = set(sa.inspect(self.conn).get_table_names(schema=self.schema))
        return self._names

    def account_tables(self) -> list[str]:
        """Ads tables of configured accounts that exist, plus any ``X`` with an ``X_actions`` (orphans too)."""
        names = self.table_names()
        found = {a.table for a in self.accounts if a.table in names}
        found |= {n for n in names if f"{n}{ACTIONS_SUFFIX}" in names and not n.startswith("metaads_")}
        return sorted(found)


@dataclass(frozen=True)
class Step:
    version: int
    name: str
    plan: Callable[[Context], list[Change]]
    repeatable: bool = False


@dataclass
class MigrationReport:
    """What ``migrate`` did (or, with ``dry_run``, would do)."""

    dry_run: bool
    current_version: int | None  # before: None when the warehouse had no version table
    applied: list[tuple[int, str]] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    @property
    def target_version(self) -> int:
        return STEPS[-1].version

    def lines(self) -> list[str]:
        head = "would apply" if self.dry_run else "applied"
        out = [
            f"schema version {self.current_version if self.current_version is not None else 'none'}"
            f" -> {self.target_version}"
        ]
        out += [f"{head} {version:04d} {name}" for version, name in self.applied]
        out += [f"  {change}" for change in self.changes]
        if not self.applied and not self.changes:
            out.append("nothing to do: the warehouse is current")
        return out


# --------------------------------------------------------------------------- statements


def _quoted(conn: sa.Connection, name: str, schema: str | None) -> str:
    preparer = conn.dialect.identifier_preparer
    return f"{preparer.quote_schema(schema)}.{preparer.quote(name)}" if schema else preparer.quote(name)


def add_column_sql(conn: sa.Connection, table: str, schema: str | None, column: sa.Column[object]) -> str:
    """``ALTER TABLE t ADD COLUMN c type`` (nullable: the rows already there have no value yet)."""
    kind = column.type.compile(dialect=conn.dialect)
    return (
        f"ALTER TABLE {_quoted(conn, table, schema)} ADD COLUMN "
        f"{conn.dialect.identifier_preparer.quote(column.name)} {kind}"
    )


def _missing_columns(ctx: Context, table: sa.Table) -> list[Change]:
    """Columns of ``table``'s current definition its database copy lacks, added nullable."""
    if table.name not in ctx.table_names():
        return []
    have = {c["name"] for c in sa.inspect(ctx.conn).get_columns(table.name, schema=ctx.schema)}
    changes = []
    for column in table.columns:
        if column.name in have:
            continue
        statements = [add_column_sql(ctx.conn, table.name, ctx.schema, column)]
        after = None
        if column.name == "loaded_at":
            # Rows loaded before the column existed: the migration's time is the best "no later than".
            target = table

            def after(conn: sa.Connection, target: sa.Table = target, now: datetime = ctx.now) -> None:
                conn.execute(sa.update(target).where(target.c.loaded_at.is_(None)).values(loaded_at=now))

        changes.append(Change(f"{table.name}: add column {column.name} {column.type}", tuple(statements), after))
    return changes


# --------------------------------------------------------------------------- the steps


def _baseline(ctx: Context) -> list[Change]:
    """0001: the warehouse of the first releases (per-account tables, run ledger): nothing to change."""
    return []


def _account_columns(ctx: Context) -> list[Change]:
    """0002: every account table gets the current schema's columns (reach, currency, action_value,
    loaded_at: tables built by hand or by early scripts may lack them)."""
    metadata = sa.MetaData()
    changes: list[Change] = []
    for name in ctx.account_tables():
        changes += _missing_columns(ctx, ads_table(metadata, name, schema=ctx.schema))
        changes += _missing_columns(ctx, actions_table(metadata, f"{name}{ACTIONS_SUFFIX}", schema=ctx.schema))
    return changes


def _ledger_columns(ctx: Context) -> list[Change]:
    """0003: the run ledger and metaads's other tables (throttle, token checks, chunk days, quality) get the
    current schema's columns."""
    metadata = sa.MetaData()
    changes: list[Change] = []
    for table in (
        *ledger_tables(metadata, schema=ctx.schema),
        throttle_table(metadata, ctx.schema),
        token_checks_table(metadata, schema=ctx.schema),
        chunk_days_table(metadata, schema=ctx.schema),
        quality_table(metadata, schema=ctx.schema),
    ):
        changes += _missing_columns(ctx, table)
    return changes


def _entity_loads(ctx: Context) -> list[Change]:
    """0004: the entity ledgers (``metaads_entity_loads``, ``metaads_entity_syncs``) and the entity tables'
    current columns."""
    metadata = sa.MetaData()
    changes: list[Change] = []
    for ledger in (entity_loads_table(metadata, schema=ctx.schema), entity_syncs_table(metadata, schema=ctx.schema)):
        if ledger.name not in ctx.table_names():

            def create(conn: sa.Connection, ledger: sa.Table = ledger) -> None:
                ledger.create(conn, checkfirst=True)

            changes.append(Change(f"create table {ledger.name}", (), create))
        else:
            changes += _missing_columns(ctx, ledger)
    for account in ctx.accounts:
        for kind in ENTITY_KINDS:
            changes += _missing_columns(ctx, entity_table(metadata, kind, table_name(account, kind), schema=ctx.schema))
    return changes


def _report_columns(ctx: Context) -> list[Change]:
    """0005: every extra report's existing tables get the columns of its configured layout (new fields,
    new attribution windows); columns of fields no longer requested are kept; a changed key is refused.

    Tables of retired accounts are left as they are (out of the views, never loaded).
    """
    if not ctx.reports:
        return []
    names = ctx.table_names()
    retired = retired_tables(ctx.conn, ctx.schema)
    inspector = sa.inspect(ctx.conn)
    metadata = sa.MetaData()
    changes: list[Change] = []
    for spec in ctx.reports:
        item = layout(spec)
        for account_table in ctx.account_tables():
            if account_table in retired:
                continue
            for table, lists in zip(
                report_tables(metadata, item, account_table, schema=ctx.schema), (False, True), strict=True
            ):
                if table.name not in names:
                    continue  # created by init, with the layout's columns
                plan = plan_table(table, inspector.get_columns(table.name, schema=ctx.schema), item, lists=lists)
                for name in plan.kept:
                    log.info(
                        "report %s: column %s of table %s is no longer requested: kept (new rows leave it NULL)",
                        spec.name,
                        name,
                        table.name,
                    )
                for column in plan.add:
                    kind = column.type.compile(dialect=ctx.conn.dialect)
                    after = None
                    if column.name == "loaded_at":

                        def after(conn: sa.Connection, target: sa.Table = table, now: datetime = ctx.now) -> None:
                            conn.execute(sa.update(target).where(target.c.loaded_at.is_(None)).values(loaded_at=now))

                    changes.append(
                        Change(
                            f"add column {column.name} {kind} to table {table.name} (report {spec.name})",
                            (add_column_sql(ctx.conn, table.name, ctx.schema, column),),
                            after,
                            done=f"added column {column.name} {kind} to table {table.name} (report {spec.name}; "
                            "rows already loaded have NULL there: they were fetched without it)",
                        )
                    )
    return changes


STEPS: tuple[Step, ...] = (
    Step(1, "baseline", _baseline),
    Step(2, "account tables: current columns", _account_columns, repeatable=True),
    Step(3, "run ledger: current columns", _ledger_columns, repeatable=True),
    Step(4, "entity tables: load ledger and current columns", _entity_loads, repeatable=True),
    Step(5, "extra report tables: configured columns", _report_columns, repeatable=True),
)


# --------------------------------------------------------------------------- running


def current_version(conn: sa.Connection, schema: str | None) -> int | None:
    """The highest applied step, or None when the warehouse has no version table."""
    if not sa.inspect(conn).has_table(VERSION_TABLE, schema=schema):
        return None
    table = version_table(sa.MetaData(), schema=schema)
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.version), 0))).scalar_one())


def plan_and_apply(
    conn: sa.Connection,
    schema: str | None,
    accounts: Sequence[Account],
    *,
    now: datetime,
    dry_run: bool,
    reports: Sequence[ReportSpec] = (),
) -> MigrationReport:
    """Plan the pending and repeatable steps on ``conn``; apply them unless ``dry_run``."""
    if schema is not None and not dry_run:
        conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
    has_schema = schema is None or schema in sa.inspect(conn).get_schema_names()
    version = current_version(conn, schema) if has_schema else None
    if has_schema and conn.dialect.name == "postgresql":
        ctx_names = Context(conn=conn, schema=schema, accounts=accounts, now=now).account_tables()
        original = original_tables(conn, schema, ctx_names)
        if original:
            # Adding columns would make them look adopted while their keys are still whole-row hashes.
            raise WarehouseError(
                f"tables {', '.join(original)} were built by the original design's DDL: run "
                "`metaads migrate --adopt-original` (see docs/migrations.md; --dry-run shows the plan) first"
            )
    report = MigrationReport(dry_run=dry_run, current_version=version)
    table = version_table(sa.MetaData(), schema=schema)
    if not dry_run:
        table.create(conn, checkfirst=True)
    ctx = Context(conn=conn, schema=schema, accounts=accounts, now=now, reports=reports)
    for step in STEPS:
        pending = version is None or step.version > version
        if not pending and not step.repeatable:
            continue
        changes = step.plan(ctx) if has_schema else []
        if pending:
            report.applied.append((step.version, step.name))
        if dry_run:
            report.changes += [change.description for change in changes]
            continue
        for change in changes:
            for statement in change.statements:
                conn.exec_driver_sql(statement)
            if change.after is not None:
                change.after(conn)
            report.changes.append(change.done or change.description)
            # New tables are routine (a fresh warehouse); a column added to existing rows is worth a look.
            level = logging.INFO if change.description.startswith("create table") else logging.WARNING
            log.log(level, "migration %04d: %s", step.version, change.done or change.description)
        ctx._names = None  # tables may have been created
        if pending:
            conn.execute(
                table.insert().values(
                    version=step.version,
                    name=step.name,
                    applied_at=now,
                    changes="\n".join(c.done or c.description for c in changes) or None,
                )
            )
    return report


def migrate(
    engine: sa.Engine,
    schema: str | None,
    accounts: Sequence[Account],
    *,
    clock: Clock | None = None,
    dry_run: bool = False,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    reports: Sequence[ReportSpec] = (),
) -> MigrationReport:
    """Bring the warehouse to the current schema version (see the module docs); harmless to repeat.

    ``reports``: the configured extra reports (``INSIGHTS_REPORTS``), whose existing tables are evolved.

    Raises:
        WarehouseError: the database failed (nothing was changed: one transaction), or account tables still
            have the original design's shape (``--adopt-original`` first).
        ConfigError: an extra report's key or a column type changed (its tables cannot be evolved in place).
    """
    schema = None if engine.dialect.name == "sqlite" else schema
    now = (clock or SystemClock()).now()
    try:
        with write_transaction(engine, "init", schema or "", busy_timeout_s=busy_timeout_s) as conn:
            report = plan_and_apply(conn, schema, accounts, now=now, dry_run=dry_run, reports=reports)
            if dry_run:
                conn.rollback()
    except DRIVER_ERRORS as exc:
        raise translate(exc, "migrating the warehouse", engine) from exc
    return report
