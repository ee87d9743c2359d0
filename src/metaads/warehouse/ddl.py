"""Creating the warehouse: schema, per-account tables and indexes, the run ledger and the union views.

Everything is generated from :mod:`metaads.warehouse.schema` for the connection's dialect. The views
cover the account registry's active accounts; they are only rewritten when the set of tables they
cover changes, so a run does not wait on readers of an unchanged view (``CREATE OR REPLACE VIEW``
takes an exclusive lock).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa

from metaads.errors import WarehouseError
from metaads.transform import ACTIONS_COLUMNS, ADS_COLUMNS
from metaads.warehouse.dictionary import apply_comments
from metaads.warehouse.schema import ACTIONS_VIEW, ADS_VIEW

log = logging.getLogger("metaads.warehouse")


def check_columns(conn: sa.Connection, tables: Sequence[sa.Table]) -> None:
    """Fail when an existing account table lacks a column of the current schema (no silent drift)."""
    inspector = sa.inspect(conn)
    by_schema: dict[str | None, list[sa.Table]] = {}
    for table in tables:
        by_schema.setdefault(table.schema, []).append(table)
    for schema, group in by_schema.items():
        existing = inspector.get_multi_columns(schema=schema, filter_names=[t.name for t in group])
        for table in group:
            have = {column["name"] for column in existing.get((schema, table.name), [])}
            missing = [column.name for column in table.columns if column.name not in have]
            if missing:
                raise WarehouseError(
                    f"table {table.fullname} exists but lacks columns {missing}; "
                    "migrate it (or drop it to have it recreated) before loading"
                )


def add_ledger_columns(conn: sa.Connection, tables: Sequence[sa.Table]) -> list[str]:
    """Add nullable ledger columns a ledger created by an older release lacks; return ``table.column`` added.

    Ledger tables are ours (no user data shape depends on them), so they evolve in place instead of
    failing like account tables do.
    """
    inspector = sa.inspect(conn)
    added = []
    for table in tables:
        have = {column["name"] for column in inspector.get_columns(table.name, schema=table.schema)}
        for column in table.columns:
            if column.name in have or not column.nullable:
                continue
            kind = column.type.compile(dialect=conn.dialect)
            name = conn.dialect.identifier_preparer.quote(column.name)
            target = conn.dialect.identifier_preparer.format_table(table)
            conn.exec_driver_sql(f"ALTER TABLE {target} ADD COLUMN {name} {kind}")
            added.append(f"{table.name}.{column.name}")
    if added:
        log.info("ledger columns added: %s", ", ".join(added))
    return added


def _view_select(
    tables: Sequence[sa.Table], columns: Sequence[str]
) -> sa.Select[tuple[object, ...]] | sa.CompoundSelect[tuple[object, ...]]:
    selects = [sa.select(*(table.c[name] for name in columns)) for table in tables]
    return selects[0] if len(selects) == 1 else sa.union_all(*selects)


def _view_name(conn: sa.Connection, name: str, schema: str | None) -> str:
    preparer = conn.dialect.identifier_preparer
    quoted = preparer.quote(name)
    return f"{preparer.quote_schema(schema)}.{quoted}" if schema else quoted


def _view_tables(conn: sa.Connection, name: str, schema: str | None) -> set[str] | None:
    """The tables a view reads, or None when it does not exist (or the dialect cannot say)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        exists = conn.execute(
            sa.text("SELECT 1 FROM information_schema.views WHERE table_schema = :s AND table_name = :v"),
            {"s": schema or "public", "v": name},
        ).first()
        if exists is None:
            return None
        rows = conn.execute(
            sa.text(
                "SELECT table_name FROM information_schema.view_table_usage WHERE view_schema = :s AND view_name = :v"
            ),
            {"s": schema or "public", "v": name},
        )
        return {row[0] for row in rows}
    return None


def ensure_view(
    conn: sa.Connection, name: str, schema: str | None, tables: Sequence[sa.Table], columns: Sequence[str]
) -> bool:
    """(Re)create view ``name`` as UNION ALL of ``columns`` over ``tables``; True when it was written."""
    wanted = {table.name for table in tables}
    body = str(_view_select(tables, columns).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    target = _view_name(conn, name, schema)
    if conn.dialect.name == "sqlite":
        current = conn.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = :v"), {"v": name}
        ).scalar()
        statement = f"CREATE VIEW {target} AS {body}"
        if current == statement:
            return False
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {target}")
        conn.exec_driver_sql(statement)
        return True
    if _view_tables(conn, name, schema) == wanted:
        return False
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"CREATE OR REPLACE VIEW {target} AS {body}")
    else:
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {target}")
        conn.exec_driver_sql(f"CREATE VIEW {target} AS {body}")
    return True


def create_all(
    conn: sa.Connection,
    metadata: sa.MetaData,
    schema: str | None,
    ads: Sequence[sa.Table],
    actions: Sequence[sa.Table],
    ledger: Sequence[sa.Table],
) -> None:
    """Create the schema and missing tables and indexes; check that existing account tables are complete."""
    if not ads:
        raise WarehouseError("no accounts configured: nothing to create")
    if schema is not None:
        conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
    metadata.create_all(conn, tables=[*ads, *actions, *ledger], checkfirst=True)
    add_ledger_columns(conn, ledger)
    check_columns(conn, [*ads, *actions])


def refresh_views(
    conn: sa.Connection, schema: str | None, ads: Sequence[sa.Table], actions: Sequence[sa.Table]
) -> None:
    """Point the union views at exactly ``ads`` / ``actions`` (the registry's active accounts)."""
    if not ads:
        raise WarehouseError("no active account in the registry: the views would be empty")
    for view, tables, columns in ((ADS_VIEW, ads, ADS_COLUMNS), (ACTIONS_VIEW, actions, ACTIONS_COLUMNS)):
        if ensure_view(conn, view, schema, tables, columns):
            log.info("view %s now covers %d account tables", view, len(tables))


def comment_all(conn: sa.Connection, schema: str | None, tables: Sequence[sa.Table]) -> None:
    """Bring the PostgreSQL comments of ``tables`` and the union views up to date (after the views exist)."""
    apply_comments(conn, tables, schema)


def create_report_tables(
    conn: sa.Connection,
    metadata: sa.MetaData,
    schema: str | None,
    reports: Sequence[tuple[str, str, Sequence[sa.Table], Sequence[sa.Table]]],
) -> None:
    """Create the extra reports' tables and their union views.

    ``reports``: per report its view name, its lists view name, and every account's (report, lists)
    tables. Existing tables are checked like the default report's (a missing column fails loudly).
    """
    for view, lists_view, mains, lists in reports:
        metadata.create_all(conn, tables=[*mains, *lists], checkfirst=True)
        check_columns(conn, [*mains, *lists])
        for name, tables in ((view, mains), (lists_view, lists)):
            columns = [column.name for column in tables[0].columns]
            if ensure_view(conn, name, schema, tables, columns):
                log.info("view %s now covers %d account tables", name, len(tables))
