"""Every table, view and column is described once, in the schema; PostgreSQL and the docs carry it."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from metaads.warehouse import Warehouse
from metaads.warehouse.dictionary import EXAMPLE, apply_comments, data_dictionary, view_relations
from metaads.warehouse.schema import ACTIONS_VIEW, ADS_VIEW

ROOT = Path(__file__).resolve().parents[2]


def test_committed_data_dictionary_is_what_the_schema_generates() -> None:
    committed = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == data_dictionary(), "run: metaads docs data-dictionary > docs/data-dictionary.md"


def test_every_table_view_and_column_has_a_description() -> None:
    warehouse = Warehouse(sa.create_engine("sqlite://"), schema=None)
    warehouse.tables(EXAMPLE)
    missing = [f"{t.name}.{c.name}" for t in warehouse.metadata.tables.values() for c in t.columns if not c.comment]
    missing += [t.name for t in warehouse.metadata.tables.values() if not t.comment]
    missing += [f"{v.name}.{name}" for v in view_relations() for name, _, comment in v.columns if not comment]
    assert missing == []


def test_postgresql_carries_the_descriptions_as_comments(pg_engine: sa.Engine, pg_schema: str) -> None:
    warehouse = Warehouse(pg_engine, pg_schema)
    warehouse.init([EXAMPLE])
    ads, _ = warehouse.tables(EXAMPLE)
    inspector = sa.inspect(pg_engine)
    assert inspector.get_table_comment(ads.name, schema=pg_schema)["text"] == ads.comment
    assert inspector.get_table_comment(ADS_VIEW, schema=pg_schema)["text"] is not None
    view_columns = {c["name"]: c["comment"] for c in inspector.get_columns(ACTIONS_VIEW, schema=pg_schema)}
    _, actions = warehouse.tables(EXAMPLE)
    assert view_columns["action_value"] == actions.c.action_value.comment
    spend = {c["name"]: c["comment"] for c in inspector.get_columns(ads.name, schema=pg_schema)}["spend"]
    assert spend == ads.c.spend.comment
    with pg_engine.begin() as conn:  # comments already current: nothing is rewritten
        assert apply_comments(conn, list(warehouse.metadata.tables.values()), pg_schema) == 0
        conn.exec_driver_sql(f'COMMENT ON COLUMN "{pg_schema}"."{ads.name}".spend IS NULL')
        assert apply_comments(conn, list(warehouse.metadata.tables.values()), pg_schema) == 1
