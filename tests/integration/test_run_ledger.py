"""The run ledger row of each chunk carries that chunk's own figures, not the account's running totals; the next
chunk is fetched while the previous one loads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.errors import ConfigError
from metaads.pipeline import Pipeline
from metaads.pipeline.results import NullListener
from metaads.warehouse.load import LoadResult
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


class _Stages(NullListener):
    """Sets ``second_fetch`` once the account's second chunk starts fetching."""

    def __init__(self) -> None:
        self.fetches = 0
        self.second_fetch = threading.Event()

    def stage(self, account: Account, stage: str) -> None:
        if stage.startswith("fetching"):
            self.fetches += 1
            if self.fetches == 2:
                self.second_fetch.set()


def test_the_next_chunk_is_fetched_while_the_previous_one_loads(
    make_pipeline: Callable[..., Pipeline], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = make_pipeline(LOOKBACK_DAYS="8", BACKFILL_CHUNK_DAYS="4")
    account = pipeline.settings.accounts[0]
    listener = _Stages()
    replace_range = pipeline.warehouse.replace_range
    seen_during_first_load: list[bool] = []

    def first_load_waits_for_the_second_fetch(*args: Any, **kwargs: Any) -> LoadResult:
        if not seen_during_first_load:  # real seconds: only a failure waits them out
            seen_during_first_load.append(listener.second_fetch.wait(20))
        return replace_range(*args, **kwargs)

    monkeypatch.setattr(pipeline.warehouse, "replace_range", first_load_waits_for_the_second_fetch)
    result = pipeline.extract_and_load(account, listener=listener)

    assert seen_during_first_load == [True]
    assert result.ok, result.error
    assert len(result.chunks) >= 2
    assert all(c.status == "loaded" for c in result.chunks)
    assert [c.range.since for c in result.chunks] == sorted(c.range.since for c in result.chunks)
    assert sum(c.ads_rows for c in result.chunks) == _stored_ads_rows(pipeline, account)


def test_a_load_leaving_the_account_unusable_drops_the_next_chunk_already_fetched(
    make_pipeline: Callable[..., Pipeline], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = make_pipeline(LOOKBACK_DAYS="12", BACKFILL_CHUNK_DAYS="4")
    account = pipeline.settings.accounts[0]
    listener = _Stages()
    loads: list[object] = []

    def unusable(*args: Any, **kwargs: Any) -> LoadResult:
        loads.append(args)
        listener.second_fetch.wait(20)  # the next chunk is fetched meanwhile
        raise ConfigError("the warehouse refuses this account", variable="META_ACCOUNTS")

    monkeypatch.setattr(pipeline.warehouse, "replace_range", unusable)
    result = pipeline.extract_and_load(account, listener=listener)

    assert len(loads) == 1  # the fetched second chunk was not loaded, the third not fetched
    assert listener.fetches == 2
    (chunk,) = result.chunks
    assert chunk.fatal
    assert chunk.status == "failed"
    assert _stored_ads_rows(pipeline, account) == 0


def _stored_ads_rows(pipeline: Pipeline, account: Account) -> int:
    ads, _ = pipeline.warehouse.tables(account)
    with pipeline.warehouse_engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(ads)).scalar_one())
