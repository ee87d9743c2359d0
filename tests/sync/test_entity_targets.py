"""Analytics entity tables per dialect: created when missing, ``--evolve`` adds the columns they lack."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql
from sqlalchemy.schema import CreateTable

from metaads.errors import SchemaMismatchError
from metaads.sync.entities import entity_targets
from metaads.sync.targets import ensure_targets, existing_columns


def test_sql_server_gets_nvarchar_max_json_datetime2_and_a_clustered_account_key() -> None:
    campaigns, adsets, *_ = entity_targets(sa.MetaData(), schema="graph")
    ddl = str(CreateTable(adsets.table).compile(dialect=mssql.dialect()))
    assert "targeting NVARCHAR(max)" in ddl
    assert "updated_time DATETIME2" in ddl
    assert "PRIMARY KEY CLUSTERED (account_id, id)" in ddl
    assert "daily_budget BIGINT" in str(CreateTable(campaigns.table).compile(dialect=mssql.dialect()))


@pytest.mark.parametrize("backend", ["mariadb", "sqlite", "postgres"])
def test_missing_entity_tables_are_created_and_evolve_adds_a_dropped_column(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "mariadb":
        engine: sa.Engine = request.getfixturevalue("mysql_engine")
        schema: str | None = request.getfixturevalue("mysql_schema")
    elif backend == "postgres":
        engine = request.getfixturevalue("pg_engine")
        schema = request.getfixturevalue("pg_schema")
    else:
        engine, schema = sa.create_engine(f"sqlite:///{tmp_path / 'a.db'}"), None
    pairs = entity_targets(sa.MetaData(), schema=schema)
    with engine.begin() as conn:
        assert ensure_targets(conn, pairs, evolve=False) == []
        for pair in pairs:
            assert existing_columns(conn, pair.table) == {c.name for c in pair.table.columns}
    table = pairs[0].table
    prefix = f"{engine.dialect.identifier_preparer.quote_schema(schema)}." if schema else ""
    with engine.begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE {prefix}graph_campaigns DROP COLUMN bid_strategy")
    with engine.begin() as conn, pytest.raises(SchemaMismatchError, match="graph_campaigns lacks bid_strategy"):
        ensure_targets(conn, entity_targets(sa.MetaData(), schema=schema), evolve=False)
    with engine.begin() as conn:
        assert ensure_targets(conn, entity_targets(sa.MetaData(), schema=schema), evolve=True) == [
            "graph_campaigns.bid_strategy"
        ]
        assert "bid_strategy" in existing_columns(conn, table)
    if backend == "sqlite":
        engine.dispose()
