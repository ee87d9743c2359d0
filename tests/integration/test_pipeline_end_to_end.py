"""`metaads run` against the simulator over real HTTP, into PostgreSQL and SQLite."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from metaads import Pipeline
from tests.integration.conftest import World, assert_matches_truth, truth_ads, warehouse_ads


def test_run_loads_exactly_the_api_ground_truth(world: World, make_pipeline: Callable[..., Pipeline]) -> None:
    pipeline = make_pipeline()
    summary = pipeline.run()
    assert summary.ok, [r.error for r in summary.results]
    rows = assert_matches_truth(pipeline, world, summary)
    assert rows == summary.ads_rows > 100
    # every account's range ends on its own local "today"
    for result in summary.results:
        assert result.range is not None
        assert result.range.until == world.sim.account_today(result.account.id)
        assert result.range.days == 10


def test_rerun_changes_nothing_and_next_day_replaces_restated_values(
    world: World, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    first = pipeline.run()
    account = first.results[0].account
    before = warehouse_ads(pipeline.warehouse_engine, pipeline.settings.warehouse_schema, account.table)

    again = pipeline.run()
    assert again.ok
    rerun = warehouse_ads(pipeline.warehouse_engine, pipeline.settings.warehouse_schema, account.table)
    assert set(rerun) == set(before)
    assert all(rerun[k]["spend"] == before[k]["spend"] for k in before)
    assert_matches_truth(pipeline, world, again)
    assert again.ads_rows == first.ads_rows

    world.clock.advance(36 * 3600)  # a day and a half later Meta has restated the recent days
    third = pipeline.run()
    assert third.ok
    assert_matches_truth(pipeline, world, third)
    after = warehouse_ads(pipeline.warehouse_engine, pipeline.settings.warehouse_schema, account.table)
    shared = set(before) & set(after)
    assert shared, "the windows overlap"
    changed = [k for k in shared if before[k]["spend"] != after[k]["spend"]]
    assert changed, "restated spend was replaced"
    # rows older than the new window were not touched by the load (same loaded_at)
    assert third.results[0].range is not None
    older = [k for k in before if k[1] < third.results[0].range.since.isoformat()]
    assert older
    assert all(after[k]["loaded_at"] == before[k]["loaded_at"] for k in older)


def test_two_concurrent_runs_for_one_account_leave_no_duplicates(
    world: World, make_pipeline: Callable[..., Pipeline]
) -> None:
    first, second = make_pipeline(), make_pipeline()
    account = first.settings.accounts[0]
    first.init_warehouse()
    results = []
    barrier = threading.Barrier(2)

    def go(p: Pipeline) -> None:
        barrier.wait()
        results.append(p.extract_and_load(account))

    threads = [threading.Thread(target=go, args=(p,)) for p in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [r.status for r in results] == ["loaded", "loaded"]
    loaded = warehouse_ads(first.warehouse_engine, first.settings.warehouse_schema, account.table)  # no dup keys
    assert results[0].range is not None
    truth = truth_ads(world.sim, account.id, results[0].range.since, results[0].range.until)
    assert set(loaded) == set(truth)


def test_unreadable_account_fails_alone_and_is_reported(world: World, make_pipeline: Callable[..., Pipeline]) -> None:
    accounts = world.sim.account_ids
    # The configured tokens may read every account but the second one.
    tokens = [world.sim.add_token(accounts=[accounts[0], accounts[2]]) for _ in range(2)]
    pipeline = make_pipeline(GRAPH_API_TOKENS=",".join(tokens))
    summary = pipeline.run()
    statuses = {r.account.id: r.status for r in summary.results}
    assert statuses == {accounts[0]: "loaded", accounts[1]: "failed", accounts[2]: "loaded"}
    failed = summary.failed[0]
    assert failed.error
    assert "permission" in failed.error.lower()
    for token in tokens:
        assert token not in failed.error
    ledger = sa.Table(
        "metaads_account_runs", sa.MetaData(), schema=pipeline.warehouse.schema, autoload_with=pipeline.warehouse_engine
    )
    with pipeline.warehouse_engine.connect() as conn:
        rows = conn.execute(sa.select(ledger.c.account_id, ledger.c.status)).all()
    assert (accounts[1], "failed") in rows
    assert sum(1 for _, s in rows if s == "loaded") == 2


def test_fetch_failure_leaves_the_previous_rows_untouched(world: World, make_pipeline: Callable[..., Pipeline]) -> None:
    pipeline = make_pipeline(GRAPH_API_MAX_RETRIES="1")
    account = pipeline.settings.accounts[0]
    assert pipeline.extract_and_load(account).ok
    before = warehouse_ads(pipeline.warehouse_engine, pipeline.settings.warehouse_schema, account.table)
    world.sim.faults.error_500_rate = 1.0
    try:
        result = pipeline.extract_and_load(account)
    finally:
        world.sim.faults.error_500_rate = 0.0
    assert result.status == "failed"
    assert result.missing == [result.range]
    assert warehouse_ads(pipeline.warehouse_engine, pipeline.settings.warehouse_schema, account.table) == before


@pytest.mark.parametrize("chunk_days", ["4"])
def test_backfill_is_loaded_in_chunks(world: World, make_pipeline: Callable[..., Pipeline], chunk_days: str) -> None:
    pipeline = make_pipeline(BACKFILL_CHUNK_DAYS=chunk_days)
    account = pipeline.settings.accounts[0]
    today = world.sim.account_today(account.id)
    result = pipeline.extract_and_load(account, since=today - timedelta(days=13), until=today)
    assert result.ok
    assert [c.range.days for c in result.chunks] == [4, 4, 4, 2]
    truth = truth_ads(world.sim, account.id, today - timedelta(days=13), today)
    loaded = warehouse_ads(pipeline.warehouse_engine, pipeline.settings.warehouse_schema, account.table)
    assert set(loaded) == set(truth)
