"""The data dictionary: every warehouse table, view and column, described from the one schema source.

The descriptions are the ``comment`` of the SQLAlchemy Core definitions in :mod:`metaads.warehouse.schema`.
On PostgreSQL they become ``COMMENT ON`` (new tables get them from ``CREATE TABLE``; :func:`apply_comments`
brings existing tables and the views up to date), so BI tools and catalogues show them.
``docs/data-dictionary.md`` is generated from the same definitions (``metaads docs data-dictionary``),
and a test keeps the committed file equal to what the code generates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from metaads.accounts import Account
from metaads.warehouse.schema import ACTIONS_VIEW, ADS_VIEW, VIEW_COMMENTS, actions_columns, ads_columns

#: The account whose tables stand for every account's in the dictionary.
EXAMPLE = Account(id="1234567890", table="bm_01", label="Acme EU", index=0)


@dataclass(frozen=True)
class Relation:
    """A table or view as the dictionary shows it."""

    name: str
    kind: str  # "table" | "view"
    comment: str | None
    columns: tuple[tuple[str, str, str | None], ...]  # (name, type, comment)


def _relation(table: sa.Table, kind: str = "table", comment: str | None = None) -> Relation:
    columns = tuple((c.name, str(c.type), c.comment) for c in table.columns)
    return Relation(table.name, kind, comment or table.comment, columns)


def view_relations() -> list[Relation]:
    """The union views, with the columns they select."""
    views = []
    for name, factory in ((ADS_VIEW, ads_columns), (ACTIONS_VIEW, actions_columns)):
        views.append(_relation(sa.Table(name, sa.MetaData(), *factory()), "view", VIEW_COMMENTS[name]))
    return views


def relations(tables: Iterable[sa.Table]) -> list[Relation]:
    """The dictionary's entries: the views first, then ``tables`` by name."""
    return [*view_relations(), *(_relation(t) for t in sorted(tables, key=lambda t: t.name))]


def render_markdown(entries: Sequence[Relation]) -> str:
    """The data dictionary as Markdown."""
    lines = [
        "# Data dictionary",
        "",
        "Generated from `src/metaads/warehouse/schema.py` by `metaads docs data-dictionary`; do not",
        "edit by hand. On PostgreSQL the same descriptions are stored as `COMMENT ON` the tables, views and",
        f"columns. Per-account tables are shown for the example account `{EXAMPLE.table}`: every account has",
        "the same columns under its own table names.",
        "",
    ]
    for entry in entries:
        lines += [
            f"## `{entry.name}` ({entry.kind})",
            "",
            entry.comment or "",
            "",
            "| column | type | description |",
            "|---|---|---|",
        ]
        lines += [f"| `{name}` | {kind} | {_cell(comment)} |" for name, kind, comment in entry.columns]
        lines.append("")
    return "\n".join(lines)


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|")


def apply_comments(conn: sa.Connection, tables: Sequence[sa.Table], schema: str | None) -> int:
    """Bring PostgreSQL comments on ``tables`` and the union views up to date; returns statements run.

    Only differences are written, so repeating it costs a catalogue read.
    """
    if conn.dialect.name != "postgresql":
        return 0
    inspector = sa.inspect(conn)
    wanted = [(t, "TABLE") for t in tables] + [
        (
            sa.Table(
                v.name,
                sa.MetaData(),
                *(sa.Column(n, sa.Text, comment=c) for n, _, c in v.columns),
                schema=schema,
                comment=v.comment,
            ),
            "VIEW",
        )
        for v in view_relations()
    ]
    preparer = conn.dialect.identifier_preparer
    written = 0
    for table, kind in wanted:
        if not inspector.has_table(table.name, schema=schema) and not _is_view(inspector, table.name, schema):
            continue
        target = preparer.format_table(table)
        current = inspector.get_table_comment(table.name, schema=schema).get("text")
        if table.comment and current != table.comment:
            conn.exec_driver_sql(f"COMMENT ON {kind} {target} IS {_literal(conn, table.comment)}")
            written += 1
        existing = {c["name"]: c.get("comment") for c in inspector.get_columns(table.name, schema=schema)}
        for column in table.columns:
            if column.comment and column.name in existing and existing[column.name] != column.comment:
                conn.exec_driver_sql(
                    f"COMMENT ON COLUMN {target}.{preparer.quote(column.name)} IS {_literal(conn, column.comment)}"
                )
                written += 1
    return written


def _literal(conn: sa.Connection, text: str) -> str:
    # COMMENT is a utility statement: PostgreSQL takes no bind parameters there, so quote the literal.
    return str(sa.literal(text).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


def _is_view(inspector: sa.Inspector, name: str, schema: str | None) -> bool:
    return name in inspector.get_view_names(schema=schema)


def data_dictionary() -> str:
    """The data dictionary (Markdown) of everything a warehouse creates."""
    from metaads.warehouse.store import Warehouse

    warehouse = Warehouse(sa.create_engine("sqlite://"), schema=None)
    warehouse.tables(EXAMPLE)
    return render_markdown(relations(warehouse.metadata.tables.values()))
