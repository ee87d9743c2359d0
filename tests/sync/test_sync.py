"""sync_analytics against real targets (PostgreSQL, MariaDB, SQLite): contents, increments, pruning,
failures."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from metaads.errors import SyncError
from metaads.sync import FULL, INCREMENTAL, Slice, SyncOptions, SyncResult, analytics_tables, sync_analytics
from metaads.sync.plan import window_start
from metaads.warehouse import Warehouse
from tests.sync.conftest import Target
from tests.sync.data import LOADED_AT, TODAY, TRICKY_NAMES, Loader, accounts, only, syncs, target_rows, view_rows

RETENTION = 30
START = window_start(TODAY, RETENTION)  # 2026-10-22
A, B, C = accounts()


def sync(warehouse: Warehouse, target: Target, **kwargs: Any) -> SyncResult:
    options: dict[str, Any] = {"today": TODAY, "retention_days": RETENTION, "threads": 4, "batch_rows": 7}
    options.update(kwargs)
    return sync_analytics(warehouse.engine, warehouse.schema, target.engine, target.schema, SyncOptions(**options))


def load_three_accounts(loader: Loader) -> None:
    loader.load(A, date(2026, 10, 1), date(2026, 11, 19))  # partly older than the window
    loader.load(B, date(2026, 11, 1), date(2026, 11, 10))
    loader.load(C, date(2026, 11, 15), date(2026, 11, 19))


def test_first_sync_copies_the_retention_window_of_both_views(
    warehouse: Warehouse, loader: Loader, target: Target
) -> None:
    load_three_accounts(loader)

    result = sync(warehouse, target)

    expected = view_rows(warehouse.engine, warehouse.schema, since=START)
    assert result.mode == FULL
    assert result.method == {"postgresql": "pg_pipe", "mariadb": "mysql_load", "sqlite": "sqlalchemy"}[target.kind]
    assert target_rows(target.engine, target.schema) == expected
    assert (result.ads_rows, result.actions_rows) == (len(expected["graph_ads"]), len(expected["graph_ads_actions"]))
    assert result.ads_rows == (29 + 10 + 5) * 3  # A from Oct 22, B and C whole
    assert result.summary()["graph_ads"].startswith(f"{result.ads_rows:,} rows (")
    ad_names = {row[9] for row in expected["graph_ads"]}
    assert all(any(name in ad_name for ad_name in ad_names) for name in TRICKY_NAMES if name)


def test_incremental_sync_replaces_only_the_slices_loaded_since_the_last_sync(
    warehouse: Warehouse, loader: Loader, target: Target
) -> None:
    load_three_accounts(loader)
    sync(warehouse, target)
    ads = analytics_tables(sa.MetaData(), schema=None if target.kind == "sqlite" else target.schema)[0].table
    with target.engine.begin() as conn:  # a marker: an untouched slice keeps it
        conn.execute(sa.update(ads).where(ads.c.account_id == C.id).values(spend=999))
    # B restated for 4 days, with one ad fewer: its rows for those days must disappear from the target.
    loader.load(B, date(2026, 11, 5), date(2026, 11, 8), ads=2, version=1)

    result = sync(warehouse, target)

    expected = view_rows(warehouse.engine, warehouse.schema, since=START)
    after = target_rows(target.engine, target.schema)
    assert result.mode == INCREMENTAL
    assert result.slices == (Slice(B.id, date(2026, 11, 5), date(2026, 11, 8)),)
    assert (result.table("graph_ads").deleted, result.ads_rows) == (4 * 3, 4 * 2)
    assert only(after, B.id) == only(expected, B.id)
    assert only(after, A.id) == only(expected, A.id)
    assert {row[11] for row in only(after, C.id)["graph_ads"]} == {999}


def test_a_sync_with_nothing_new_changes_nothing(warehouse: Warehouse, loader: Loader, target: Target) -> None:
    load_three_accounts(loader)
    sync(warehouse, target)
    before = target_rows(target.engine, target.schema)

    result = sync(warehouse, target)

    assert (result.mode, result.slices, result.rows) == (INCREMENTAL, (), 0)
    assert target_rows(target.engine, target.schema) == before


def test_rows_older_than_the_retention_window_are_pruned(warehouse: Warehouse, loader: Loader, target: Target) -> None:
    load_three_accounts(loader)
    sync(warehouse, target)
    later = TODAY + timedelta(days=10)

    result = sync(warehouse, target, today=later)

    new_start = window_start(later, RETENTION)  # 2026-11-01: A loses 10 days
    assert result.table("graph_ads").pruned == 10 * 3
    assert result.table("graph_ads_actions").pruned == 10 * 3 * 2
    assert target_rows(target.engine, target.schema) == view_rows(warehouse.engine, warehouse.schema, since=new_start)


def test_failure_inside_a_slice_leaves_the_target_unchanged_and_the_next_sync_catches_up(
    warehouse: Warehouse, loader: Loader, target: Target
) -> None:
    load_three_accounts(loader)
    first = sync(warehouse, target)
    before = target_rows(target.engine, target.schema)
    loader.load(A, date(2026, 11, 1), date(2026, 11, 19), version=1)
    loader.load(B, date(2026, 11, 1), date(2026, 11, 10), version=1)

    def fail(item: Slice) -> None:
        raise RuntimeError(f"injected failure in {item}")

    # One thread: the failing slice is the first, so no other one starts.
    with pytest.raises(RuntimeError, match="injected failure"):
        sync(warehouse, target, threads=1, before_commit=fail)

    assert target_rows(target.engine, target.schema) == before
    recorded = syncs(warehouse.engine, warehouse.schema, ["status", "mode", "watermark", "error"])
    assert recorded[-1][:3] == ("failed", INCREMENTAL, None)
    assert "injected failure" in recorded[-1][3]

    again = sync(warehouse, target)

    assert again.mode == INCREMENTAL
    assert len(again.slices) == 2
    assert again.watermark > first.watermark
    assert target_rows(target.engine, target.schema) == view_rows(warehouse.engine, warehouse.schema, since=START)


@pytest.mark.postgres
def test_parallel_slices_stay_consistent_when_one_fails(
    warehouse: Warehouse, loader: Loader, pg_target: Target
) -> None:
    load_three_accounts(loader)
    sync(warehouse, pg_target)
    old = target_rows(pg_target.engine, pg_target.schema)
    for account in (A, B, C):
        loader.load(account, date(2026, 11, 1), date(2026, 11, 19), version=2)

    def fail_b(item: Slice) -> None:
        if item.account_id == B.id:
            raise RuntimeError("injected failure for B")

    with pytest.raises(RuntimeError, match="injected failure for B"):
        sync(warehouse, pg_target, threads=3, before_commit=fail_b)

    new = view_rows(warehouse.engine, warehouse.schema, since=START)
    after = target_rows(pg_target.engine, pg_target.schema)
    assert only(after, B.id) == only(old, B.id)
    for account in (A, C):  # committed before the failure was seen, or rolled back: never a mix
        assert only(after, account.id) in (only(old, account.id), only(new, account.id))


@pytest.mark.postgres
def test_a_database_error_names_the_slice_and_rolls_it_back(
    warehouse: Warehouse, loader: Loader, pg_target: Target
) -> None:
    load_three_accounts(loader)
    sync(warehouse, pg_target)
    before = target_rows(pg_target.engine, pg_target.schema)
    with pg_target.engine.begin() as conn:  # the target refuses what the warehouse now holds
        conn.exec_driver_sql(
            f'ALTER TABLE "{pg_target.schema}".graph_ads ADD CONSTRAINT few_clicks CHECK (clicks < 500) NOT VALID'
        )
    loader.load(B, date(2026, 11, 2), date(2026, 11, 3), version=600)

    with pytest.raises(SyncError, match=r"replacing slice 2222222222 2026-11-02\.\.2026-11-03 .*few_clicks"):
        sync(warehouse, pg_target)

    assert target_rows(pg_target.engine, pg_target.schema) == before


def test_sqlite_warehouse_syncs_to_a_sqlite_analytics_file(tmp_path: Any) -> None:
    """An explicit sqlite:/// warehouse and a SQLite analytics file (the demo's side): schemas ignored."""
    engine = sa.create_engine(f"sqlite:///{tmp_path}/warehouse.db")
    wh = Warehouse(engine, "meta_ads")
    wh.init(accounts())
    load_three_accounts(Loader(wh))
    target = Target("sqlite", sa.create_engine(f"sqlite:///{tmp_path}/analytics.db"), "graph")

    first = sync(wh, target)
    Loader(wh).load(C, date(2026, 11, 18), date(2026, 11, 19), version=1)
    second = sync(wh, target)

    assert (first.mode, first.method, second.mode) == (FULL, "sqlalchemy", INCREMENTAL)
    assert target_rows(target.engine, "graph") == view_rows(engine, None, since=START)
    assert syncs(engine, None, ["status", "ads_rows"]) == [("success", first.ads_rows), ("success", 2 * 3)]


def test_full_sync_removes_retired_accounts_only(warehouse: Warehouse, loader: Loader, target: Target) -> None:
    load_three_accounts(loader)
    sync(warehouse, target)
    ads = analytics_tables(sa.MetaData(), schema=None if target.kind == "sqlite" else target.schema)[0].table
    with target.engine.begin() as conn:  # rows of an account the warehouse does not know (never retired)
        conn.execute(
            ads.insert().values(
                unique_id="f" * 32,
                account_id="999",
                ad_id="1",
                spend=1,
                clicks=1,
                inline_link_clicks=1,
                impressions=1,
                date=TODAY - timedelta(days=1),
                loaded_at=LOADED_AT,
            )
        )
    warehouse.init([A])  # B and C left the configuration: still in the views
    warehouse.retire(B.table, [A])  # B is retired

    result = sync(warehouse, target, full=True)

    accounts = {row[1] for row in target_rows(target.engine, target.schema)["graph_ads"]}
    assert accounts == {A.id, C.id, "999"}
    assert B.id in {s.account_id for s in result.slices}
    assert target_rows(target.engine, target.schema, C.id) == only(
        view_rows(warehouse.engine, warehouse.schema, since=START), C.id
    )
