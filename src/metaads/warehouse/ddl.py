"""Creating the warehouse: schema, per-account tables and indexes, the run ledger and the union views.

Everything is generated from :mod:`metaads.warehouse.schema` for the connection's dialect. The views
cover the account registry's active accounts; they are only rewritten when the set of tables they
cover changes, so a run does not wait on readers of an unchanged view (``CREATE OR REPLACE VIEW``
takes an exclusive lock).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from metaads.errors import WarehouseError
from metaads.transform import ACTIONS_COLUMNS, ADS_COLUMNS
from metaads.transform.report_spec import ReportLayout
from metaads.warehouse.dictionary import apply_comments
from metaads.warehouse.report_tables import plan_table, report_columns, report_list_columns, report_tables
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
    tables: Sequence[sa.Table | sa.TableClause],
    columns: Sequence[str],
    types: Mapping[str, sa.types.TypeEngine[Any]] | None = None,
) -> sa.Select[tuple[object, ...]] | sa.CompoundSelect[tuple[object, ...]]:
    # A table lacking a column (a report field retired before the table was created) gives a typed NULL.
    def pick(table: sa.Table | sa.TableClause, name: str) -> sa.ColumnElement[Any]:
        if name in table.c or types is None:
            return table.c[name]
        return sa.cast(sa.null(), types[name]).label(name)

    selects = [sa.select(*(pick(table, name) for name in columns)) for table in tables]
    return selects[0] if len(selects) == 1 else sa.union_all(*selects)


def _view_name(conn: sa.Connection, name: str, schema: str | None) -> str:
    preparer = conn.dialect.identifier_preparer
    quoted = preparer.quote(name)
    return f"{preparer.quote_schema(schema)}.{quoted}" if schema else quoted


def _view_shape(conn: sa.Connection, name: str, schema: str | None) -> tuple[set[str], list[str]] | None:
    """The tables a view reads and its columns in order, or None when it does not exist (or the dialect
    cannot say)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        where = {"s": schema or "public", "v": name}
        exists = conn.execute(
            sa.text("SELECT 1 FROM information_schema.views WHERE table_schema = :s AND table_name = :v"), where
        ).first()
        if exists is None:
            return None
        rows = conn.execute(
            sa.text(
                "SELECT table_name FROM information_schema.view_table_usage WHERE view_schema = :s AND view_name = :v"
            ),
            where,
        )
        columns = conn.execute(
            sa.text(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = :s AND table_name = :v "
                "ORDER BY ordinal_position"
            ),
            where,
        )
        return {row[0] for row in rows}, [row[0] for row in columns]
    return None


def ensure_view(
    conn: sa.Connection,
    name: str,
    schema: str | None,
    tables: Sequence[sa.Table | sa.TableClause],
    columns: Sequence[str],
    types: Mapping[str, sa.types.TypeEngine[Any]] | None = None,
) -> bool:
    """(Re)create view ``name`` as UNION ALL of ``columns`` over ``tables``; True when it was written.

    ``types``: the type of each column, for tables that lack one (selected as a typed NULL); without
    it every table must have every column.
    """
    wanted = {table.name for table in tables}
    body = str(
        _view_select(tables, columns, types).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    )
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
    shape = _view_shape(conn, name, schema)
    if shape is not None and shape == (wanted, list(columns)):
        return False
    if conn.dialect.name == "postgresql" and (shape is None or shape[1] == list(columns)[: len(shape[1])]):
        # CREATE OR REPLACE keeps the view's grants and dependants, but can only append columns.
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


def report_views(
    conn: sa.Connection,
    schema: str | None,
    layout: ReportLayout,
    account_tables: Sequence[str],
) -> None:
    """Point an extra report's two union views at the report tables of ``account_tables`` that exist.

    Each table is checked against the report's layout first (:func:`plan_table`): a key change is a
    ``ConfigError``, a missing layout column a ``WarehouseError`` (``metaads migrate`` adds it). The views
    have the layout's columns, then the columns of fields the report no longer requests that some table
    still holds (a typed NULL for tables without them), so no loaded figure disappears from the views.
    """
    spec = layout.spec
    metadata = sa.MetaData()
    inspector = sa.inspect(conn)
    existing = set(inspector.get_table_names(schema=schema))
    pairs = [
        report_tables(metadata, layout, table, schema=schema)
        for table in account_tables
        if spec.table(table) in existing and spec.lists_table(table) in existing
    ]
    if not pairs:
        log.warning("report %s: no account has its tables yet: views %s not written", spec.name, spec.view)
        return
    for view, lists, group in (
        (spec.view, False, [p[0] for p in pairs]),
        (spec.lists_view, True, [p[1] for p in pairs]),
    ):
        reflected = inspector.get_multi_columns(schema=schema, filter_names=[t.name for t in group])
        clauses: list[sa.TableClause] = []
        kept: set[str] = set()
        for table in group:
            columns = reflected.get((schema, table.name), [])
            plan = plan_table(table, columns, layout, lists=lists)
            if plan.add:
                raise WarehouseError(
                    f"table {table.fullname} exists but lacks columns {[c.name for c in plan.add]} of report "
                    f"{spec.name}: run `metaads migrate` (it adds them) before loading"
                )
            kept.update(plan.kept)
            clauses.append(sa.table(table.name, *(sa.column(str(c["name"])) for c in columns), schema=schema))
        names = [c.name for c in group[0].columns]
        retained = report_list_columns(layout, sorted(kept)) if lists else report_columns(layout, sorted(kept))
        types = {column.name: column.type for column in retained}
        view_columns = [*names, *(column.name for column in retained[len(names) :])]
        if ensure_view(conn, view, schema, clauses, view_columns, types):
            log.info("view %s now covers %d account tables", view, len(clauses))
