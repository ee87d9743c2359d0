"""Existing analytics tables: missing columns are an error (or added with evolve), extra ones are fine."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from metaads.errors import SchemaMismatchError
from metaads.sync import FULL, SyncOptions, analytics_tables, sync_analytics
from metaads.sync.plan import window_start
from metaads.warehouse import Warehouse
from tests.sync.conftest import Target
from tests.sync.data import TODAY, Loader, accounts, syncs, target_rows, view_rows

A = accounts()[0]


def drifted_tables(target: Target) -> None:
    """Target tables as an older release made them: no ``reach``, no ``action_value``; plus a BI column."""
    schema = None if target.kind == "sqlite" else target.schema
    metadata = sa.MetaData()
    for pair, dropped in zip(analytics_tables(sa.MetaData(), schema=schema), ("reach", "action_value"), strict=True):
        columns = [
            sa.Column(c.name, c.type, nullable=c.nullable, primary_key=c.primary_key)
            for c in pair.table.columns
            if c.name != dropped
        ]
        sa.Table(pair.table.name, metadata, *columns, sa.Column("bi_note", sa.String(20)), schema=schema)
    with target.engine.begin() as conn:
        if schema is not None:
            conn.execute(sa.schema.CreateSchema(schema))
        metadata.create_all(conn)


def test_missing_target_columns_are_a_clear_error_and_nothing_is_written(
    warehouse: Warehouse, loader: Loader, target: Target
) -> None:
    loader.load(A, date(2026, 11, 1), date(2026, 11, 5))
    drifted_tables(target)

    with pytest.raises(SchemaMismatchError) as caught:
        sync_analytics(warehouse.engine, warehouse.schema, target.engine, target.schema, SyncOptions(today=TODAY))

    message = str(caught.value)
    assert "graph_ads lacks reach" in message
    assert "graph_ads_actions lacks action_value" in message
    assert "--evolve" in message
    with target.engine.connect() as conn:
        assert (
            conn.exec_driver_sql(
                "SELECT count(*) FROM " + ("graph_ads" if target.kind == "sqlite" else f"{target.schema}.graph_ads")
            ).scalar()
            == 0
        )
    assert syncs(warehouse.engine, warehouse.schema, ["status"]) == [("failed",)]


def test_evolve_adds_the_missing_columns_and_recopies_the_window(
    warehouse: Warehouse, loader: Loader, target: Target
) -> None:
    loader.load(A, date(2026, 11, 1), date(2026, 11, 5))
    drifted_tables(target)

    result = sync_analytics(
        warehouse.engine, warehouse.schema, target.engine, target.schema, SyncOptions(today=TODAY, evolve=True)
    )

    assert result.columns_added == ("graph_ads.reach", "graph_ads_actions.action_value")
    assert result.mode == FULL
    assert target_rows(target.engine, target.schema) == view_rows(
        warehouse.engine, warehouse.schema, since=window_start(TODAY, 90)
    )
    schema = None if target.kind == "sqlite" else target.schema
    with target.engine.connect() as conn:  # the extra BI column was left alone (and stays empty)
        notes = {c["name"] for c in sa.inspect(conn).get_columns("graph_ads", schema=schema)}
        assert "bi_note" in notes
    again = sync_analytics(warehouse.engine, warehouse.schema, target.engine, target.schema, SyncOptions(today=TODAY))
    assert again.columns_added == ()
