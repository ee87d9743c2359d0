"""Creating the warehouse: idempotent, views over every registered (not retired) account, orphans untouched."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.clock import FakeClock
from metaads.errors import ConfigError, WarehouseError
from metaads.warehouse import Warehouse
from metaads.warehouse.schema import ACTIONS_VIEW, ADS_VIEW
from tests.warehouse.insights import DAY, grid, load, read, table_names


def test_init_creates_account_tables_ledger_and_views(warehouse: Warehouse, accounts: list[Account]) -> None:
    warehouse.init(accounts)
    assert {
        "bm_01",
        "bm_01_actions",
        "bm_02",
        "bm_02_actions",
        "bm_03",
        "bm_03_actions",
        "metaads_runs",
        "metaads_account_runs",
        "metaads_syncs",
    } <= table_names(warehouse)
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


def test_views_union_the_configured_accounts(warehouse: Warehouse, accounts: list[Account]) -> None:
    warehouse.init(accounts)
    for account in accounts:
        load(warehouse, account, DAY, DAY, grid(account, 2, [DAY]))
    ads = read(warehouse, ADS_VIEW, ["account_id", "ad_id"])
    assert sorted({a for a, _ in ads}) == [a.id for a in accounts]
    assert len(ads) == 6
    assert read(warehouse, ADS_VIEW) == sorted((row for a in accounts for row in read(warehouse, a.table)), key=repr)
    assert read(warehouse, ACTIONS_VIEW) == sorted(
        (row for a in accounts for row in read(warehouse, a.actions_table)), key=repr
    )


def test_an_account_left_out_of_the_configuration_stays_in_the_views_until_retired(
    warehouse: Warehouse,
    accounts: list[Account],
) -> None:
    warehouse.init(accounts)
    for account in accounts:
        load(warehouse, account, DAY, DAY, grid(account, 2, [DAY]))
    removed = accounts[1]
    kept_rows = read(warehouse, removed.table)

    warehouse.init([accounts[0], accounts[2]])  # a run with a shorter META_ACCOUNTS

    assert read(warehouse, removed.table) == kept_rows
    assert {a for (a,) in read(warehouse, ADS_VIEW, ["account_id"])} == {a.id for a in accounts}
    assert {a for (a,) in read(warehouse, ACTIONS_VIEW, ["account_id"])} == {a.id for a in accounts}

    retired = warehouse.retire(removed.table, [accounts[0], accounts[2]])

    assert (retired.account_id, retired.status, retired.retired_at) == (removed.id, "retired", retired.retired_at)
    assert retired.retired_at is not None
    assert read(warehouse, removed.table) == kept_rows  # its tables are kept
    assert {a for (a,) in read(warehouse, ADS_VIEW, ["account_id"])} == {accounts[0].id, accounts[2].id}
    assert {a for (a,) in read(warehouse, ACTIONS_VIEW, ["account_id"])} == {accounts[0].id, accounts[2].id}

    warehouse.init(accounts)  # configured again: active again, back in the views
    assert {a for (a,) in read(warehouse, ADS_VIEW, ["account_id"])} == {a.id for a in accounts}


@pytest.mark.parametrize(
    "key", ["act_2222222222", "2222222222", "bm_02", "Acme US"], ids=["act-id", "bare-id", "table", "label"]
)
def test_retire_finds_the_account_by_id_table_or_label(warehouse: Warehouse, accounts: list[Account], key: str) -> None:
    warehouse.init(accounts)
    warehouse.init([accounts[0]])
    assert warehouse.retire(key, [accounts[0]]).table == "bm_02"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("bm_01", "still configured: remove it from META_ACCOUNTS first"),
        ("bm_09", "'bm_09' is not a registered account"),
    ],
    ids=["still-configured", "unknown"],
)
def test_retire_refuses_a_configured_or_unknown_account(
    warehouse: Warehouse, accounts: list[Account], key: str, message: str
) -> None:
    warehouse.init(accounts)
    with pytest.raises(ConfigError, match=message):
        warehouse.retire(key, accounts)
    assert {r.status for r in warehouse.registered_accounts()} == {"active"}


def test_registry_records_first_and_last_seen_and_labels(
    accounts: list[Account], backend: tuple[sa.Engine, str | None]
) -> None:
    clock = FakeClock()
    warehouse = Warehouse(backend[0], backend[1], clock=clock)
    warehouse.init(accounts)
    first = clock.now()
    clock.advance(3600)
    warehouse.init(accounts[:1])
    entries = {r.table: r for r in warehouse.registered_accounts()}
    assert [(r.account_id, r.label, r.status) for r in entries.values()] == [
        ("1111111111", "Acme EU", "active"),
        ("2222222222", "Acme US", "active"),
        ("3333333333", None, "active"),
    ]
    assert {r.first_seen for r in entries.values()} == {first}
    assert (entries["bm_01"].last_seen, entries["bm_02"].last_seen) == (clock.now(), first)


def test_a_warehouse_without_registry_adopts_its_account_tables_on_first_init(
    warehouse: Warehouse,
    accounts: list[Account],
) -> None:
    warehouse.init(accounts)
    for account in accounts:
        load(warehouse, account, DAY, DAY, grid(account, 2, [DAY]))
    prefix = f'"{warehouse.schema}".' if warehouse.schema else ""
    with warehouse.engine.begin() as conn:  # as a warehouse of the previous release left it
        conn.exec_driver_sql(f"DROP TABLE {prefix}metaads_accounts")
        conn.exec_driver_sql(f"CREATE TABLE {prefix}notes (id INTEGER)")
        conn.exec_driver_sql(f"CREATE TABLE {prefix}notes_actions (id INTEGER)")

    fresh = Warehouse(warehouse.engine, warehouse.schema)
    fresh.init(accounts[:1])

    entries = {r.table: (r.account_id, r.status) for r in fresh.registered_accounts()}
    assert entries == {a.table: (a.id, "active") for a in accounts}  # not notes/notes_actions
    assert {a for (a,) in read(fresh, ADS_VIEW, ["account_id"])} == {a.id for a in accounts}


def test_unchanged_account_list_does_not_rewrite_views(
    warehouse: Warehouse,
    accounts: list[Account],
    caplog: pytest.LogCaptureFixture,
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
