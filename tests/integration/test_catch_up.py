"""Which days a run fetches: deep re-fetch of restated days, catch-up after an outage, a new account's history.

The simulator restates an ad-day's figures until it is 28 days old (as Meta does); one fake clock moves
both the simulator and the pipeline, so "a day later" and "40 days later" are exact and independent of
the date the suite runs on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from metaads.pipeline import Pipeline
from tests.integration.conftest import World, truth_ads, warehouse_ads

DAY_S = 24 * 3600


def _spend_differs(
    pipeline: Pipeline, world: World, table: str, account_id: str, since: date, until: date
) -> list[tuple[str, str]]:
    """Keys (ad, day) in since..until whose warehouse spend differs from the API's, or that are missing."""
    truth = truth_ads(world.sim, account_id, since, until)
    loaded = {
        k: v
        for k, v in warehouse_ads(pipeline.warehouse_engine, pipeline.settings.warehouse_schema, table).items()
        if since.isoformat() <= k[1] <= until.isoformat()
    }
    wrong = [
        k for k, row in truth.items() if k not in loaded or Decimal(str(loaded[k]["spend"])) != Decimal(row["spend"])
    ]
    extra = [k for k in loaded if k not in truth]
    return sorted(wrong + extra)


def _ledger_days(pipeline: Pipeline, account_id: str) -> list[tuple[date, date, str]]:
    ledger = sa.Table(
        "metaads_account_runs", sa.MetaData(), schema=pipeline.warehouse.schema, autoload_with=pipeline.warehouse_engine
    )
    with pipeline.warehouse_engine.connect() as conn:
        rows = conn.execute(
            sa.select(ledger.c.since, ledger.c.until, ledger.c.status)
            .where(ledger.c.account_id == account_id)
            .order_by(ledger.c.id)
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def test_first_run_of_the_day_replaces_days_16_to_28_that_meta_restated(
    world: World, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline(LOOKBACK_DAYS="15", DEEP_LOOKBACK_DAYS="28")
    account = pipeline.settings.accounts[0]
    today = world.sim.account_today(account.id)
    assert pipeline.extract_and_load(account, since=today - timedelta(days=39), until=today).ok

    world.clock.advance(DAY_S)  # a day later: Meta has restated the last 28 days, including days 16-28
    today = world.sim.account_today(account.id)
    old_days = (today - timedelta(days=27), today - timedelta(days=15))
    stale = _spend_differs(pipeline, world, account.table, account.id, *old_days)
    assert stale, "the simulator restated days 16-28 ago: the warehouse holds yesterday's figures"

    first = pipeline.extract_and_load(account)

    assert first.ok, first.error
    assert first.range is not None
    assert (first.range.since, first.range.until) == (today - timedelta(days=27), today)
    assert _spend_differs(pipeline, world, account.table, account.id, *old_days) == []
    assert _spend_differs(pipeline, world, account.table, account.id, today - timedelta(days=14), today) == []


def test_later_runs_of_the_same_day_fetch_the_short_lookback_and_deep_forces_the_long_one(
    world: World, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline(LOOKBACK_DAYS="15", DEEP_LOOKBACK_DAYS="28", INITIAL_HISTORY_DAYS="30")
    account = pipeline.settings.accounts[0]
    assert pipeline.extract_and_load(account).ok  # new account: its initial history, which is deep too
    world.clock.advance(DAY_S)
    deep = pipeline.extract_and_load(account)
    world.clock.advance(3600)
    again = pipeline.extract_and_load(account)
    world.clock.advance(3600)
    forced = pipeline.extract_and_load(account, deep=True)

    assert [r.range.days if r.range else 0 for r in (deep, again, forced)] == [28, 15, 28]
    assert [r.window for r in (deep, again, forced)] == ["deep", "look-back", "deep"]


def test_a_40_day_outage_is_closed_by_one_plain_run_chunk_by_chunk(
    world: World, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline(LOOKBACK_DAYS="15", DEEP_LOOKBACK_DAYS="28", BACKFILL_CHUNK_DAYS="20")
    account = pipeline.settings.accounts[0]
    assert pipeline.extract_and_load(account).ok  # a new account: its last 28 days
    last_loaded = world.sim.account_today(account.id)

    world.clock.advance(40 * DAY_S)  # nothing ran for 40 days
    result = pipeline.extract_and_load(account)

    today = world.sim.account_today(account.id)
    assert result.ok, result.error
    assert result.range is not None
    # The 40 missed days, and the 27 days before them: fetched younger than 27 days, since restated.
    assert (result.range.since, result.range.until) == (last_loaded - timedelta(days=26), today)
    assert result.window == "catch-up"
    assert [c.range.days for c in result.chunks] == [20, 20, 20, 7]
    assert _spend_differs(pipeline, world, account.table, account.id, last_loaded - timedelta(days=26), today) == []
    loaded_days = {
        k[1] for k in warehouse_ads(pipeline.warehouse_engine, pipeline.settings.warehouse_schema, account.table)
    }
    gap = [
        d
        for d in (last_loaded + timedelta(days=n) for n in range(41))
        if truth_ads(world.sim, account.id, d, d) and d.isoformat() not in loaded_days
    ]
    assert gap == []


def test_a_day_without_runs_is_fetched_once_more_when_it_leaves_the_deep_window(
    world: World, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline(LOOKBACK_DAYS="15", DEEP_LOOKBACK_DAYS="28")
    account = pipeline.settings.accounts[0]
    assert pipeline.extract_and_load(account).ok
    world.clock.advance(2 * DAY_S)  # no run yesterday (the DAG does not run on Sundays)
    today = world.sim.account_today(account.id)

    result = pipeline.extract_and_load(account)

    assert result.range is not None
    assert result.range.since == today - timedelta(days=28)  # last fetched at 26 days old: once more at 28
    assert _spend_differs(pipeline, world, account.table, account.id, today - timedelta(days=28), today) == []


def test_a_failed_range_is_fetched_again_by_the_next_plain_run(
    world: World, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline(LOOKBACK_DAYS="15", DEEP_LOOKBACK_DAYS="28", GRAPH_API_MAX_RETRIES="0")
    account = pipeline.settings.accounts[0]
    assert pipeline.extract_and_load(account).ok
    last_loaded = world.sim.account_today(account.id)
    world.clock.advance(40 * DAY_S)
    world.sim.faults.error_500_rate = 1.0
    try:
        assert pipeline.extract_and_load(account).status == "failed"
    finally:
        world.sim.faults.error_500_rate = 0.0
    world.clock.advance(DAY_S)

    result = pipeline.extract_and_load(account)

    assert result.ok, result.error
    assert result.range is not None
    assert result.range.since == last_loaded - timedelta(days=26)
    statuses = [status for *_, status in _ledger_days(pipeline, account.id)]
    assert statuses[:2] == ["loaded", "failed"]
    assert set(statuses[2:]) == {"loaded"}


@pytest.mark.parametrize(("history", "expected"), [("20", 28), ("45", 45)], ids=["shorter-than-deep", "longer"])
def test_a_new_account_starts_with_its_initial_history(
    world: World, make_pipeline: Callable[..., Pipeline], history: str, expected: int
) -> None:
    pipeline = make_pipeline(LOOKBACK_DAYS="15", DEEP_LOOKBACK_DAYS="28", INITIAL_HISTORY_DAYS=history)
    account = pipeline.settings.accounts[0]

    result = pipeline.extract_and_load(account)

    assert result.ok, result.error
    assert result.range is not None
    assert result.range.days == expected
    assert result.window == "initial"


def test_explicit_since_and_until_win_over_catch_up(world: World, make_pipeline: Callable[..., Pipeline]) -> None:
    pipeline = make_pipeline(LOOKBACK_DAYS="15")
    account = pipeline.settings.accounts[0]
    assert pipeline.extract_and_load(account).ok
    world.clock.advance(40 * DAY_S)
    today = world.sim.account_today(account.id)

    result = pipeline.extract_and_load(account, since=today - timedelta(days=2), until=today - timedelta(days=1))

    assert result.range is not None
    assert (result.range.since, result.range.until) == (today - timedelta(days=2), today - timedelta(days=1))
    assert result.window == "explicit"


def test_a_young_account_loads_from_its_creation_day_not_its_whole_initial_history(
    world: World, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline(LOOKBACK_DAYS="15", DEEP_LOOKBACK_DAYS="28", INITIAL_HISTORY_DAYS="90")
    account = pipeline.settings.accounts[1]
    world.sim.faults.account_created_days_ago[account.id] = 40
    today = world.sim.account_today(account.id)

    first = pipeline.extract_and_load(account)

    assert first.ok, first.error
    assert first.range is not None
    assert today - timedelta(days=41) <= first.range.since <= today - timedelta(days=39)  # its local creation day
    assert first.window == "initial"
    assert _spend_differs(pipeline, world, account.table, account.id, first.range.since, today) == []
    world.clock.advance(3600)
    assert pipeline.extract_and_load(account).window == "look-back"
