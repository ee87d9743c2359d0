"""Rows staged while a chunk is fetched (binary COPY data on PostgreSQL, pickled records elsewhere) load
exactly as rows handed to the load would, and are checked when they are staged."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import date
from itertools import islice
from typing import Any

import pytest
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.errors import LoadError, RowRejectedError
from metaads.transform import to_actions_rows, to_ads_rows
from metaads.warehouse import LoadResult, Warehouse, staging
from tests.warehouse.insights import DAY, LOADED_AT, days, grid, insight, load, read

AWKWARD_NAMES = ["Café Zürich 広告 🚀", "tab\there", "new\nline", "back\\slash", "quote \" and '", "\\N", ""]


def stage_and_load(
    wh: Warehouse, account: Account, since: date, until: date, rows: list[dict[str, Any]], **kwargs: Any
) -> LoadResult:
    """Stage ``rows`` page by page, as the pipeline does while fetching, then replace the range with them."""
    with wh.stage(account, since, until) as staged:
        for start in range(0, len(rows), 97):
            page = rows[start : start + 97]
            staged.ads.add(to_ads_rows(page, campaign_status={}, currency="EUR", loaded_at=LOADED_AT))
            staged.actions.add(to_actions_rows(page, loaded_at=LOADED_AT))
        return wh.replace_range(account, since, until, staged.ads, staged.actions, **kwargs)


def _week(account: Account, **kwargs: Any) -> list[dict[str, Any]]:
    rows = grid(account, 150, days(DAY, 7), **kwargs)
    rows += [insight(account, 1000 + i, DAY, name=name, spend="0.005") for i, name in enumerate(AWKWARD_NAMES)]
    rows += [insight(account, 2000, DAY, actions=(), values=())]  # an ad-day without actions rows
    return rows


@pytest.fixture
def ready(warehouse: Warehouse, accounts: list[Account], monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    monkeypatch.setattr(staging, "MEMORY_BYTES", 4096)  # the staged bytes go to the temporary file
    warehouse.init(accounts)
    return warehouse


def test_staged_rows_load_the_same_tables_as_rows_handed_to_the_load(ready: Warehouse, accounts: list[Account]) -> None:
    account, until = accounts[0], days(DAY, 7)[-1]
    rows = _week(account)
    direct = load(ready, account, DAY, until, rows)
    tables = read(ready, account.table), read(ready, account.actions_table)

    staged = stage_and_load(ready, account, DAY, until, rows)

    assert (staged.ads_rows, staged.actions_rows) == (direct.ads_rows, direct.actions_rows) == (1058, 2114)
    assert (staged.deleted_ads_rows, staged.deleted_actions_rows) == (1058, 2114)
    assert (read(ready, account.table), read(ready, account.actions_table)) == tables
    assert {row[9] for row in tables[0]} >= set(AWKWARD_NAMES)


def test_staged_load_of_some_days_keeps_the_stored_rows_of_the_others(
    ready: Warehouse, accounts: list[Account]
) -> None:
    account, week = accounts[0], days(DAY, 7)
    load(ready, account, week[0], week[-1], grid(account, 20, week, spend="1.00"))
    chosen = {week[1], week[4]}

    result = stage_and_load(
        ready, account, week[0], week[-1], grid(account, 20, week, spend="2.00"), choose_days=lambda stored: chosen
    )

    assert (result.ads_rows, result.replaced_days) == (40, frozenset(chosen))
    spend_by_day: dict[str, set[Any]] = {}
    for row in read(ready, account.table):
        spend_by_day.setdefault(row[17], set()).add(row[11])
    assert spend_by_day == {day.isoformat(): {2 if day in chosen else 1} for day in week}
    assert len(read(ready, account.actions_table)) == 7 * 20 * 2


def test_a_row_outside_the_range_is_refused_when_staged(ready: Warehouse, accounts: list[Account]) -> None:
    account = accounts[0]
    with ready.stage(account, DAY, DAY) as staged, pytest.raises(LoadError, match="outside the range"):
        staged.ads.add(
            to_ads_rows([insight(account, 1, days(DAY, 2)[1])], campaign_status={}, currency="EUR", loaded_at=LOADED_AT)
        )
    with ready.stage(account, DAY, DAY) as staged, pytest.raises(LoadError, match="outside the range"):
        staged.actions.add(to_actions_rows([insight(accounts[1], 1, DAY)], loaded_at=LOADED_AT))


def test_a_value_its_column_cannot_hold_rolls_back_and_keeps_the_stored_rows(
    ready: Warehouse, accounts: list[Account]
) -> None:
    # PostgreSQL refuses it while staging (psycopg cannot encode it), SQLite in the load: same error.
    account = accounts[0]
    load(ready, account, DAY, DAY, grid(account, 3, [DAY]))
    before = read(ready, account.table)
    bad = grid(account, 3, [DAY])
    bad[1]["impressions"] = "9" * 25  # no BIGINT holds it

    with pytest.raises(RowRejectedError):
        stage_and_load(ready, account, DAY, DAY, bad)
    assert read(ready, account.table) == before


@pytest.mark.postgres
def test_staging_holds_no_connection_while_the_chunk_is_fetched(
    pg_engine: sa.Engine, pg_schema: str, accounts: list[Account]
) -> None:
    wh = Warehouse(pg_engine, pg_schema)
    wh.init(accounts)
    with wh.stage(accounts[0], DAY, DAY) as staged:
        assert isinstance(staged.ads, staging.CopyStaged)
        assert pg_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def _api_rows(account: Account, count: int) -> Iterator[dict[str, Any]]:
    for i in range(count):
        yield insight(account, i, DAY, name=f"Video {i}")


def _peak_bytes_staging(wh: Warehouse, account: Account, rows: int) -> int:
    """Peak traced Python memory of staging ``rows`` page by page and loading them."""
    tracemalloc.start()
    try:
        with wh.stage(account, DAY, DAY) as staged:
            source = _api_rows(account, rows)
            tracemalloc.reset_peak()
            while page := list(islice(source, 500)):  # one page at a time, as the client yields them
                staged.ads.add(to_ads_rows(page, campaign_status={}, currency="EUR", loaded_at=LOADED_AT))
                staged.actions.add(to_actions_rows(page, loaded_at=LOADED_AT))
            del page
            wh.replace_range(account, DAY, DAY, staged.ads, staged.actions)
            _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def test_staging_and_loading_hold_no_list_of_the_rows_memory_does_not_grow_with_them(
    ready: Warehouse, accounts: list[Account]
) -> None:
    # Not timed: traced allocations. Ten times the rows must not take more memory to stage and load; a
    # list of the rows anywhere on the way (or staged bytes kept in memory) would take ten times as much.
    # The portable INSERT holds one batch of rows: batches of 500 keep both sizes at the same batch.
    wh = Warehouse(ready.engine, ready.schema, batch_rows=500)
    small = _peak_bytes_staging(wh, accounts[0], 1_000)
    large = _peak_bytes_staging(wh, accounts[0], 10_000)
    assert large < 1.3 * small + 256 * 1024, (small, large)
