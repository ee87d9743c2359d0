"""Creating the warehouse: idempotent, views over exactly the configured accounts, orphans untouched."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.errors import WarehouseError
from metaads.warehouse import Warehouse
from metaads.warehouse.schema import ACTIONS_VIEW, ADS_VIEW
from tests.warehouse.insights import DAY, grid, load, read, table_names


def test_init_creates_account_tables_ledger_and_views(warehouse: Warehouse, accounts: list[Account]) -> None:
    warehouse.init(accounts)
    assert {"bm_01", "bm_01_actions", "bm_02", "bm_02_actions", "bm_03", "bm_03_actions", "metaads_runs",
            "metaads_account_runs", "metaads_syncs"} <= table_names(warehouse)
    views = set(sa.inspect(warehouse.engine).get_view_names(schema=warehouse.schema))
    assert {ADS_VIEW, ACTIONS_VIEW} <= views
    inspector = sa.inspect(warehouse.engine)
    indexes = {ix["name"] for ix in inspector.get_indexes("bm_01", schema=warehouse.schema)}
    assert {"ix_bm_01_account_date", "ix_bm_01_campaign", "ix_bm_01_ad"} <= indexes


def test_init_twice_is_harmless_and_keeps_data(warehouse: Warehouse, accounts: list[Account]) -> None:
    warehouse.init(accounts)
    load(warehouse, accounts[0], DAY, DAY, grid(accounts[0], 3, [DAY]))
    before = read(warehouse, ADS_VIEW)
    Warehouse(warehouse.engine, warehouse.schema).init(accounts)  # a fresh process would do this
    warehouse.init(accounts)
    assert read(warehouse, ADS_VIEW) == before
    assert len(before) == 3


def test_views_union_exactly_the_configured_accounts(warehouse: Warehouse, accounts: list[Account]) -> None:
    warehouse.init(accounts)
    for account in accounts:
        load(warehouse, account, DAY, DAY, grid(account, 2, [DAY]))
    ads = read(warehouse, ADS_VIEW, ["account_id", "ad_id"])
    assert sorted({a for a, _ in ads}) == [a.id for a in accounts]
    assert len(ads) == 6
    assert read(warehouse, ADS_VIEW) == sorted(
        (row for a in accounts for row in read(warehouse, a.table)), key=repr)
    assert read(warehouse, ACTIONS_VIEW) == sorted(
        (row for a in accounts for row in read(warehouse, a.actions_table)), key=repr)


def test_removed_account_is_left_untouched_with_a_warning_and_views_follow_the_list(
    warehouse: Warehouse, accounts: list[Account], caplog: pytest.LogCaptureFixture,
) -> None:
    warehouse.init(accounts)
    for account in accounts:
        load(warehouse, account, DAY, DAY, grid(account, 2, [DAY]))
    removed = accounts[1]
    kept_rows = read(warehouse, removed.table)

    with caplog.at_level(logging.WARNING, logger="metaads.warehouse"):
        warehouse.init([accounts[0], accounts[2]])

    assert any(removed.table in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    assert read(warehouse, removed.table) == kept_rows
    assert {a for (a,) in read(warehouse, ADS_VIEW, ["account_id"])} == {accounts[0].id, accounts[2].id}
    assert {a for (a,) in read(warehouse, ACTIONS_VIEW, ["account_id"])} == {accounts[0].id, accounts[2].id}

    warehouse.init(accounts)  # re-added: back in the views
    assert {a for (a,) in read(warehouse, ADS_VIEW, ["account_id"])} == {a.id for a in accounts}


def test_unchanged_account_list_does_not_rewrite_views(
    warehouse: Warehouse, accounts: list[Account], caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="metaads.warehouse"):
        warehouse.init(accounts)
        assert [r for r in caplog.records if "view" in r.getMessage()], "the first init creates the views"
        caplog.clear()
        warehouse.init(accounts)
    assert not [r for r in caplog.records if "view" in r.getMessage()]


def test_existing_table_missing_a_column_is_reported(warehouse: Warehouse, accounts: list[Account]) -> None:
    warehouse.init(accounts)
    quoted = f'"{warehouse.schema}".bm_01' if warehouse.schema else "bm_01"
    with warehouse.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP VIEW {quoted.replace('bm_01', ADS_VIEW)}")
        conn.exec_driver_sql(f"ALTER TABLE {quoted} DROP COLUMN reach")
    with pytest.raises(WarehouseError, match=r"bm_01 exists but lacks columns \['reach'\]"):
        warehouse.init(accounts)


def test_schema_name_is_validated(warehouse: Warehouse) -> None:
    with pytest.raises(WarehouseError, match="WAREHOUSE_SCHEMA"):
        Warehouse(warehouse.engine, 'meta"; DROP TABLE x; --')
