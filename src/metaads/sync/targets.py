"""The analytics target tables (``graph_ads``, ``graph_ads_actions``): definition, creation, validation.

The targets are built from the warehouse's own column factories, so the view, the account tables
and the targets always agree. Dialect variants give SQL Server its natural types (NVARCHAR names,
DECIMAL money, DATE, DATETIME2 in UTC) and MariaDB microsecond timestamps and compact ASCII keys.
The key is (account_id, date, unique_id), clustered on SQL Server and InnoDB: see :data:`TARGET_KEY`.

Every statement here also runs on SQL Server, so catalog reads use ``INFORMATION_SCHEMA`` with bound
parameters instead of dialect-specific inspection queries (SQLite, which lacks it, uses PRAGMA via
the inspector).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql

from metaads.errors import SchemaMismatchError
from metaads.transform.report_spec import ReportLayout
from metaads.warehouse.report_tables import report_columns, report_list_columns
from metaads.warehouse.schema import ACTIONS_VIEW, ADS_VIEW, actions_columns, ads_columns

log = logging.getLogger("metaads.sync")

# The targets' primary key, clustered where the database clusters (SQL Server, InnoDB): a slice is one
# contiguous key range, deleted and inserted sequentially, and BI queries by account and day read
# neighbouring pages. unique_id hashes account, ad and day (plus breakdowns), so it stays unique; a key
# on unique_id alone (the warehouse's) would scatter every insert at random across the table.
TARGET_KEY = ("account_id", "date", "unique_id")

ADS_TARGET = "graph_ads"
ACTIONS_TARGET = "graph_ads_actions"

SCHEMA_EXISTS_SQL = sa.text("SELECT SCHEMA_NAME FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = :schema")
COLUMNS_SQL = sa.text(
    "SELECT COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = :schema AND TABLE_NAME = :table"
)


@dataclass(frozen=True)
class TargetPair:
    """One warehouse view and the analytics table it is copied into."""

    view: str
    table: sa.Table


def _target_type(column: sa.Column[object]) -> sa.types.TypeEngine[Any]:
    kind: sa.types.TypeEngine[Any] = column.type
    if isinstance(kind, sa.DateTime):
        # SQL Server DATETIMEOFFSET would be the literal translation, but BI tools handle DATETIME2
        # better; values are written in UTC. MariaDB's DATETIME would drop the microseconds.
        datetime2 = mssql.DATETIME2()  # type: ignore[no-untyped-call]
        return kind.with_variant(datetime2, "mssql").with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    if isinstance(kind, sa.Date):
        # Explicit: without a known server version SQLAlchemy's mssql dialect falls back to DATETIME.
        return kind.with_variant(mssql.DATE(), "mssql")
    if isinstance(kind, sa.Numeric):
        return kind.with_variant(mssql.DECIMAL(kind.precision, kind.scale), "mssql")
    if type(kind) is sa.String and kind.length is not None:
        # Ids, enums and MD5 keys are ASCII (SQL Server: VARCHAR too). In a utf8mb4 database MariaDB
        # would reserve 4 bytes a character in every index entry; ascii_bin keys are a quarter the size.
        return kind.with_variant(mysql.VARCHAR(kind.length, charset="ascii", collation="ascii_bin"), "mysql", "mariadb")
    return kind


def _target_table(metadata: sa.MetaData, name: str, columns: list[sa.Column[object]], schema: str | None) -> sa.Table:
    for column in columns:
        column.type = _target_type(column)
        column.comment = None  # comments live in the warehouse; SQL Server would need extended properties
        column.primary_key = False  # the target's key is declared below
    return sa.Table(
        name,
        metadata,
        *columns,
        sa.PrimaryKeyConstraint(*TARGET_KEY, name=f"pk_{name}", mssql_clustered=True),
        schema=schema,
    )


def analytics_tables(metadata: sa.MetaData, *, schema: str | None = None) -> tuple[TargetPair, TargetPair]:
    """The (ads, actions) target tables with the views they are copied from."""
    return (
        TargetPair(ADS_VIEW, _target_table(metadata, ADS_TARGET, ads_columns(), schema)),
        TargetPair(ACTIONS_VIEW, _target_table(metadata, ACTIONS_TARGET, actions_columns(), schema)),
    )


def schema_for(engine: sa.Engine, schema: str | None) -> str | None:
    """The schema to use on ``engine``: SQLite has none, so it is ignored there (the warehouse's rule)."""
    return None if engine.dialect.name == "sqlite" else schema


def existing_columns(conn: sa.Connection, table: sa.Table) -> set[str]:
    """Column names of ``table`` in the database (empty when it does not exist)."""
    if conn.dialect.name == "sqlite":
        inspector = sa.inspect(conn)
        if not inspector.has_table(table.name, schema=table.schema):
            return set()
        return {column["name"] for column in inspector.get_columns(table.name, schema=table.schema)}
    schema = table.schema if table.schema is not None else sa.inspect(conn).default_schema_name
    rows = conn.execute(COLUMNS_SQL, {"schema": schema, "table": table.name})
    # Catalogs may report names in another case (SQL Server, MariaDB are case-insensitive here).
    return {str(row[0]).lower() for row in rows}


def _ensure_schema(conn: sa.Connection, schema: str | None) -> None:
    if schema is None:
        return
    if conn.execute(SCHEMA_EXISTS_SQL, {"schema": schema}).first() is None:
        # No IF NOT EXISTS: SQL Server has none; a concurrent creator makes this fail loudly instead.
        conn.execute(sa.schema.CreateSchema(schema))
        log.info("created analytics schema %s", schema)


def add_column_sql(dialect: sa.Dialect, table: sa.Table, column: sa.Column[object]) -> str:
    """``ALTER TABLE t ADD c type NULL`` for the dialect (nullable: existing rows have no value yet)."""
    preparer = dialect.identifier_preparer
    kind = column.type.compile(dialect=dialect)
    return f"ALTER TABLE {preparer.format_table(table)} ADD {preparer.format_column(column)} {kind} NULL"


def ensure_targets(conn: sa.Connection, pairs: Sequence[TargetPair], *, evolve: bool) -> list[str]:
    """Create the schema and missing tables, check existing ones; return the columns added (``t.c``).

    Raises:
        SchemaMismatchError: an existing table lacks columns and ``evolve`` is False.
    """
    tables = [pair.table for pair in pairs]
    _ensure_schema(conn, tables[0].schema)
    added: list[str] = []
    missing_by_table: dict[str, list[str]] = {}
    for table in tables:
        have = existing_columns(conn, table)
        if not have:
            table.create(conn)
            log.info("created analytics table %s", table.fullname)
            continue
        missing = [column.name for column in table.columns if column.name.lower() not in have]
        if missing:
            missing_by_table[table.fullname] = missing
    if missing_by_table and not evolve:
        described = "; ".join(f"{name} lacks {', '.join(cols)}" for name, cols in missing_by_table.items())
        raise SchemaMismatchError(
            f"analytics tables are missing columns the warehouse views have: {described}. "
            "Run `metaads sync --evolve` to add them (then the whole window is re-copied), "
            "or add them yourself."
        )
    for table in tables:
        for name in missing_by_table.get(table.fullname, []):
            conn.exec_driver_sql(add_column_sql(conn.dialect, table, table.c[name]))
            added.append(f"{table.name}.{name}")
            log.warning("added column %s to analytics table %s (--evolve)", name, table.fullname)
    return added


def report_targets(
    metadata: sa.MetaData,
    layout: ReportLayout,
    *,
    schema: str | None = None,
    retained: Sequence[str] = (),
    lists_retained: Sequence[str] = (),
) -> tuple[TargetPair, TargetPair]:
    """An extra report's (``graph_<report>``, ``graph_<report>_lists``) targets with their views.

    ``retained`` / ``lists_retained``: columns of fields the report no longer requests that its views still
    carry (see :func:`metaads.warehouse.report_tables.plan_table`); they stay in the targets and keep
    being copied, so a full re-copy does not empty them.
    """
    spec = layout.spec
    main = report_columns(layout, retained)
    lists = report_list_columns(layout, lists_retained)
    return (
        TargetPair(spec.view, _target_table(metadata, spec.target, main, schema)),
        TargetPair(spec.lists_view, _target_table(metadata, spec.lists_target, lists, schema)),
    )


def target_type(column: sa.Column[object]) -> sa.types.TypeEngine[Any]:
    """The type a warehouse column gets in the analytics database (for targets defined elsewhere)."""
    return _target_type(column)
