"""Replacing a date range: idempotent, restatements replace, failures leave the previous data intact."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.errors import LoadError
from metaads.transform import to_actions_rows, to_ads_rows
from metaads.warehouse import Warehouse
from tests.warehouse.insights import DAY, LOADED_AT, days, grid, insight, load, read

WEEK = days(DAY, 7)
LAST = WEEK[-1]


class Boom(RuntimeError):
    """A failure injected by a test."""


@pytest.fixture
def loaded(warehouse: Warehouse, accounts: list[Account]) -> Warehouse:
    """Accounts initialised; bm_01 and bm_02 hold a week of 4 ads each."""
    warehouse.init(accounts)
    for account in accounts[:2]:
        load(warehouse, account, WEEK[0], LAST, grid(account, 4, WEEK))
    return warehouse


def test_first_load_inserts_every_row(loaded: Warehouse, accounts: list[Account]) -> None:
    assert len(read(loaded, "bm_01")) == 28
    assert len(read(loaded, "bm_01_actions")) == 56
    assert {r[0] for r in read(loaded, "bm_01", ["spend"])} == {10}


def test_reloading_the_same_range_gives_the_same_tables(loaded: Warehouse, accounts: list[Account]) -> None:
    before = (read(loaded, "bm_01"), read(loaded, "bm_01_actions"))
    result = load(loaded, accounts[0], WEEK[0], LAST, grid(accounts[0], 4, WEEK))
    assert (read(loaded, "bm_01"), read(loaded, "bm_01_actions")) == before
    assert (result.ads_rows, result.actions_rows) == (28, 56)
    assert (result.deleted_ads_rows, result.deleted_actions_rows) == (28, 56)


def test_restated_values_replace_old_ones_only_inside_the_range(loaded: Warehouse, accounts: list[Account]) -> None:
    account = accounts[0]
    other_account_before = read(loaded, "bm_02")
    recent = WEEK[4:]
    # Meta restates the last 3 days: spend changes, ad 3 disappears, purchases vanish, a new type appears.
    restated = [
        insight(account, ad, day, spend="12.34", actions=[("link_click", "4"), ("lead", "0.5")], values=())
        for day in recent
        for ad in range(3)
    ]
    load(loaded, account, recent[0], recent[-1], restated)

    ads = read(loaded, "bm_01", ["date", "ad_id", "spend"])
    assert len(ads) == 4 * 4 + 3 * 3
    assert {spend for day, _, spend in ads if day >= recent[0].isoformat()} == {Decimal("12.34")}
    assert {spend for day, _, spend in ads if day < recent[0].isoformat()} == {10}
    actions = read(loaded, "bm_01_actions", ["date", "action_type", "value", "action_value"])
    assert {(t, v, a) for d, t, v, a in actions if d >= recent[0].isoformat()} == {
        ("link_click", 4, None),
        ("lead", Decimal("0.5"), None),
    }
    assert read(loaded, "bm_02") == other_account_before


def test_failure_after_delete_before_commit_keeps_previous_data(loaded: Warehouse, accounts: list[Account]) -> None:
    before = (read(loaded, "bm_01"), read(loaded, "bm_01_actions"))
    seen: dict[str, Any] = {}

    def fail_before_commit() -> None:
        seen["called"] = True
        raise Boom("injected after delete and inserts")

    with pytest.raises(Boom):
        load(
            loaded,
            accounts[0],
            WEEK[0],
            LAST,
            grid(accounts[0], 2, WEEK, spend="99.99"),
            before_commit=fail_before_commit,
        )
    assert seen == {"called": True}
    assert (read(loaded, "bm_01"), read(loaded, "bm_01_actions")) == before


def test_row_source_failing_midway_keeps_previous_data(loaded: Warehouse, accounts: list[Account]) -> None:
    before = (read(loaded, "bm_01"), read(loaded, "bm_01_actions"))
    rows = grid(accounts[0], 4, WEEK, spend="50.00")

    def actions_then_failure() -> Iterator[Any]:
        yield from list(to_actions_rows(rows, loaded_at=LOADED_AT))[:10]
        raise Boom("API paging failed")

    with pytest.raises(Boom, match="API paging failed"):
        loaded.replace_range(
            accounts[0],
            WEEK[0],
            LAST,
            to_ads_rows(rows, campaign_status={}, currency="EUR", loaded_at=LOADED_AT),
            actions_then_failure(),
        )
    assert (read(loaded, "bm_01"), read(loaded, "bm_01_actions")) == before


def test_row_outside_the_range_is_refused_and_nothing_changes(loaded: Warehouse, accounts: list[Account]) -> None:
    before = read(loaded, "bm_01")
    rows = grid(accounts[0], 2, [*WEEK[:2], LAST + timedelta(days=1)])
    with pytest.raises(LoadError, match="outside the range"):
        load(loaded, accounts[0], WEEK[0], WEEK[1], rows)
    assert read(loaded, "bm_01") == before


def test_row_of_another_account_is_refused(loaded: Warehouse, accounts: list[Account]) -> None:
    with pytest.raises(LoadError, match="outside the range"):
        load(loaded, accounts[0], DAY, DAY, grid(accounts[1], 1, [DAY]))


def test_empty_range_is_refused(loaded: Warehouse, accounts: list[Account]) -> None:
    with pytest.raises(LoadError, match="empty range"):
        load(loaded, accounts[0], LAST, DAY, [])


def test_loading_an_empty_range_deletes_its_rows(loaded: Warehouse, accounts: list[Account]) -> None:
    result = load(loaded, accounts[0], LAST, LAST, [])
    assert (result.ads_rows, result.deleted_ads_rows) == (0, 4)
    assert len(read(loaded, "bm_01")) == 24


def test_driver_errors_become_load_errors_without_password(accounts: list[Account]) -> None:
    engine = sa.create_engine("postgresql+psycopg://metaads:s3cr3t-pw@127.0.0.1:1/nowhere", poolclass=sa.pool.NullPool)
    with pytest.raises(LoadError) as caught:
        load(Warehouse(engine, "meta_ads"), accounts[0], DAY, DAY, grid(accounts[0], 1, [DAY]))
    message = str(caught.value)
    assert "s3cr3t-pw" not in message
    assert ("loading bm_01 2026-10-01..2026-10-01 failed on postgresql+psycopg://metaads:***@127.0.0.1:1") in message


def test_missing_table_is_a_load_error(warehouse: Warehouse, accounts: list[Account]) -> None:
    with pytest.raises(LoadError, match="loading bm_01"):
        load(warehouse, accounts[0], DAY, DAY, grid(accounts[0], 1, [DAY]))
