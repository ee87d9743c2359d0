"""Two loads of one account at once queue up instead of interleaving: no duplicates, last writer wins."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.database import lock_key
from metaads.transform import AdsRow, to_actions_rows, to_ads_rows
from metaads.warehouse import Warehouse
from tests.warehouse.insights import DAY, LOADED_AT, days, grid, load, read

WEEK = days(DAY, 7)


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _second_writer_is_waiting(warehouse: Warehouse, account: Account) -> Callable[[], bool]:
    if warehouse.engine.dialect.name != "postgresql":
        # SQLite shows no lock queue; give the second writer time to reach BEGIN IMMEDIATE.
        deadline = time.monotonic() + 0.3
        return lambda: time.monotonic() > deadline
    key = lock_key("load", warehouse.schema or "", account.table) & 0xFFFFFFFFFFFFFFFF
    query = sa.text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND classid = :hi AND objid = :lo AND objsubid = 1"
    )

    def waiting() -> bool:
        with warehouse.engine.connect() as conn:
            return bool(conn.execute(query, {"hi": key >> 32, "lo": key & 0xFFFFFFFF}).scalar())

    return waiting


def test_concurrent_loads_of_one_account_leave_no_duplicates(warehouse: Warehouse, accounts: list[Account]) -> None:
    account = accounts[0]
    warehouse.init(accounts)
    load(warehouse, account, WEEK[0], WEEK[-1], grid(account, 5, WEEK, spend="1.00"))
    first_rows = grid(account, 5, WEEK, spend="2.00")
    second_rows = grid(account, 5, WEEK, spend="3.00")
    first_inside = threading.Event()
    second_starting = threading.Event()

    def first_ads() -> Iterator[AdsRow]:
        # Runs inside the first load's transaction, after its delete: hold it until the second waits.
        first_inside.set()
        assert second_starting.wait(10)
        _wait_for(_second_writer_is_waiting(warehouse, account), "the second load to wait for the lock")
        yield from to_ads_rows(first_rows, campaign_status={}, currency="EUR", loaded_at=LOADED_AT)

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(
            warehouse.replace_range,
            account,
            WEEK[0],
            WEEK[-1],
            first_ads(),
            to_actions_rows(first_rows, loaded_at=LOADED_AT),
        )
        assert first_inside.wait(10)
        second_starting.set()
        second = pool.submit(load, warehouse, account, WEEK[0], WEEK[-1], second_rows)
        results: list[Any] = [first.result(timeout=30), second.result(timeout=30)]

    assert [(r.ads_rows, r.deleted_ads_rows) for r in results] == [(35, 35), (35, 35)]
    ads = read(warehouse, account.table, ["unique_id", "spend"])
    assert len(ads) == len({unique_id for unique_id, _ in ads}) == 35
    assert {spend for _, spend in ads} == {Decimal("3.00")}  # the second load committed last
    actions = read(warehouse, account.actions_table, ["unique_id"])
    assert len(actions) == len(set(actions)) == 70


@pytest.mark.postgres
def test_postgres_loads_of_different_accounts_do_not_wait_for_each_other(
    pg_engine: sa.Engine,
    pg_schema: str,
    accounts: list[Account],
) -> None:
    # (SQLite has one writer per database by design; PostgreSQL locks per account table.)
    warehouse = Warehouse(pg_engine, pg_schema)
    warehouse.init(accounts)
    other_done = threading.Event()

    def ads_waiting_for_other_account() -> Iterator[AdsRow]:
        # Holding bm_01's lock, the bm_02 load must still complete.
        assert other_done.wait(20), "bm_02's load waited for bm_01's"
        yield from to_ads_rows(grid(accounts[0], 1, [DAY]), campaign_status={}, currency=None, loaded_at=LOADED_AT)

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(warehouse.replace_range, accounts[0], DAY, DAY, ads_waiting_for_other_account(), [])
        load(warehouse, accounts[1], DAY, DAY, grid(accounts[1], 1, [DAY]))
        other_done.set()
        assert first.result(timeout=30).ads_rows == 1
