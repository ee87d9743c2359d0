"""The run ledger row of each chunk carries that chunk's own figures, not the account's running totals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa

from metaads.pipeline import Pipeline
from tests.integration.conftest import World


def test_each_chunk_ledger_row_counts_only_that_chunk(make_pipeline: Callable[..., Pipeline], world: World) -> None:
    pipeline = make_pipeline(LOOKBACK_DAYS="12", BACKFILL_CHUNK_DAYS="4")
    account = pipeline.settings.accounts[0]
    # The day's token check runs beside the accounts and its calls count on the accounts they read: one
    # landing after this account finished would be in the client's figure only. Done first, it is not.
    pipeline.check_tokens_daily()
    before = pipeline.client.stats(account).api_calls
    summary = pipeline.run([account])
    (result,) = summary.results
    assert result.ok, result.error
    assert len(result.chunks) == 3

    runs = pipeline.warehouse.account_runs
    with pipeline.warehouse_engine.connect() as conn:
        rows = conn.execute(
            sa.select(runs.c.since, runs.c.api_calls, runs.c.ads_rows)
            .where(runs.c.account_id == account.id)
            .order_by(runs.c.since)
        ).all()
    assert [(r.since, r.api_calls, r.ads_rows) for r in rows] == [
        (c.range.since, c.api_calls, c.ads_rows) for c in result.chunks
    ]
    assert all(r.api_calls >= 1 for r in rows)
    # The account's total also counts its account-info and campaigns calls, made before any chunk.
    assert sum(r.api_calls for r in rows) < result.api_calls
    assert result.api_calls == pipeline.client.stats(account).api_calls - before


def test_the_days_token_check_before_any_run_creates_its_table_and_the_run_does_not_repeat_it(
    make_pipeline: Callable[..., Pipeline], world: World
) -> None:
    pipeline = make_pipeline()  # a fresh warehouse: no metaads table exists yet
    checks = pipeline.check_tokens_daily()
    assert checks is not None
    assert len({c.fingerprint for c in checks}) == len(world.sim.tokens)  # each token checked once
    calls = sum(pipeline.client.stats(a).api_calls for a in pipeline.settings.accounts)
    assert calls > 0  # each token read the accounts it serves

    summary = pipeline.run()
    assert summary.ok
    assert summary.token_checks == []  # done today already
    assert summary.api_calls == sum(pipeline.client.stats(a).api_calls for a in pipeline.settings.accounts) - calls


def test_bounds_impossible_for_the_accounts_fail_them_without_stopping_the_run(
    make_pipeline: Callable[..., Pipeline], world: World
) -> None:
    pipeline = make_pipeline()
    future = world.clock.now().date() + timedelta(days=3)  # after today in every time zone
    summary = pipeline.run(since=future)

    assert [r.status for r in summary.results] == ["failed"] * len(world.sim.account_ids)
    assert all("--since" in (r.error or "") and not r.retryable for r in summary.results)
    runs, account_runs = pipeline.warehouse.runs, pipeline.warehouse.account_runs
    with pipeline.warehouse_engine.connect() as conn:
        (status,) = conn.execute(sa.select(runs.c.status)).one()
        recorded = conn.execute(sa.select(account_runs.c.account_id, account_runs.c.status)).all()
    assert status == "failed"
    assert sorted(recorded) == sorted((i, "failed") for i in world.sim.account_ids)
