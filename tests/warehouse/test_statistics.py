"""A load that rewrote much of a table leaves the planner fresh statistics; a small re-load does not pay for it."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.warehouse import Warehouse
from metaads.warehouse.statistics import KEY_COLUMNS, needs_analyze
from tests.warehouse.insights import DAY, days, grid, load


def test_needs_analyze_follows_autovacuums_threshold_of_50_rows_plus_a_tenth() -> None:
    assert needs_analyze(50, -1)  # never analyzed (PostgreSQL 14+)
    assert needs_analyze(50, 0)  # never analyzed (older releases)
    assert not needs_analyze(49, -1)
    assert needs_analyze(150, 1000)
    assert not needs_analyze(149, 1000)


def _estimated_rows(engine: sa.Engine, schema: str, table: str) -> float:
    with engine.connect() as conn:
        value = conn.execute(
            sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"), {"name": f'"{schema}"."{table}"'}
        ).scalar_one()
    return float(value)


@pytest.mark.postgres
def test_first_load_analyzes_both_tables_and_a_small_reload_leaves_statistics_alone(
    pg_engine: sa.Engine, pg_schema: str, accounts: list[Account]
) -> None:
    wh = Warehouse(pg_engine, pg_schema)
    wh.init(accounts)
    account = accounts[0]
    assert _estimated_rows(pg_engine, pg_schema, account.table) <= 0  # nothing analyzed yet

    month = _load_a_month(wh, account)

    assert _estimated_rows(pg_engine, pg_schema, account.table) == 600
    assert _estimated_rows(pg_engine, pg_schema, account.actions_table) > 0

    # Pretend the table is large, then re-load 5 days: 100 rows in, 100 out, under 50 + 10 % of 10,000.
    with pg_engine.begin() as conn:
        conn.execute(
            sa.text(
                f'UPDATE pg_class SET reltuples = 10000 WHERE oid = to_regclass(\'"{pg_schema}"."{account.table}"\')'
            )
        )
    load(wh, account, month[0], month[4], grid(account, 20, month[:5]))
    assert _estimated_rows(pg_engine, pg_schema, account.table) == 10000

    # Re-loading the whole month changes 1,200 rows: over the threshold, analyzed again.
    load(wh, account, month[0], month[-1], grid(account, 20, month))
    assert _estimated_rows(pg_engine, pg_schema, account.table) == 600


def _load_a_month(wh: Warehouse, account: Account) -> list[date]:
    """A first load of 30 days x 20 ads (600 ads rows); the days loaded."""
    month = days(DAY, 30)
    load(wh, account, month[0], month[-1], grid(account, 20, month))
    return month


def _analyzed_columns(engine: sa.Engine, schema: str, table: str) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT attname FROM pg_stats WHERE schemaname = :schema AND tablename = :table"),
            {"schema": schema, "table": table},
        )
        return {str(name) for (name,) in rows}


@pytest.mark.postgres
def test_a_load_analyzes_only_the_key_columns_and_sets_the_row_count(
    pg_engine: sa.Engine, pg_schema: str, accounts: list[Account]
) -> None:
    wh = Warehouse(pg_engine, pg_schema)
    wh.init(accounts)
    account = accounts[0]
    _load_a_month(wh, account)

    assert _analyzed_columns(pg_engine, pg_schema, account.table) == set(KEY_COLUMNS)
    assert _analyzed_columns(pg_engine, pg_schema, account.actions_table) == set(KEY_COLUMNS)
    # What the planner needs at once is there: the row count, and the key columns' statistics.
    assert _estimated_rows(pg_engine, pg_schema, account.table) == 600
