"""Rate-limit state shared by workers through the warehouse database (``metaads_throttle``).

Each "worker" has its own engine and store, as separate Airflow task processes do.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from metaads import FakeClock, RateLimitedError
from metaads.graph import ClientPolicy
from metaads.graph.throttle import QuotaKeys, Throttle
from metaads.warehouse.throttle import WarehouseThrottleStore

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
KEY = "account:0123456789ab:1001"


@pytest.fixture(params=["postgres", "sqlite"])
def workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[WarehouseThrottleStore, ...]]:
    """Two stores on two engines over one fresh warehouse."""
    if request.param == "postgres":
        url, schema = request.getfixturevalue("pg_url"), request.getfixturevalue("pg_schema")
    else:
        url, schema = f"sqlite:///{tmp_path / 'warehouse.db'}", None
    engines = [sa.create_engine(url) for _ in range(2)]
    stores = tuple(WarehouseThrottleStore(engine, schema) for engine in engines)
    stores[0].create()
    stores[1].create()  # harmless to repeat, as every task does
    yield stores
    for engine in engines:
        engine.dispose()


def test_a_hold_made_by_one_worker_is_seen_by_another_and_a_shorter_hold_does_not_shorten_it(
    workers: tuple[WarehouseThrottleStore, ...],
) -> None:
    first, second = workers
    assert second.get(KEY) is None
    first.hold(KEY, T0 + timedelta(seconds=300), reason="rate limited (code 17)", at=T0)
    second.hold(KEY, T0 + timedelta(seconds=30), reason="slowdown", at=T0 + timedelta(seconds=1))
    state = second.get(KEY)
    assert state is not None
    assert (state.not_before, state.reason) == (T0 + timedelta(seconds=300), "rate limited (code 17)")
    second.hold(KEY, T0 + timedelta(seconds=600), reason="blocked", at=T0 + timedelta(seconds=2))
    state = first.get(KEY)
    assert state is not None
    assert (state.not_before, state.reason) == (T0 + timedelta(seconds=600), "blocked")
    assert state.updated_at == T0 + timedelta(seconds=2)


def test_usage_is_shared_and_leaves_the_hold_alone(workers: tuple[WarehouseThrottleStore, ...]) -> None:
    first, second = workers
    first.record_usage(KEY, 42.5, at=T0)
    second.hold(KEY, T0 + timedelta(seconds=60), reason="slowdown", at=T0)
    first.record_usage(KEY, 88.0, at=T0 + timedelta(seconds=5))
    state = second.get(KEY)
    assert state is not None
    assert (state.usage_pct, state.not_before) == (88.0, T0 + timedelta(seconds=60))
    assert state.not_before is not None
    assert state.not_before.tzinfo is not None


def test_worker_waits_for_a_block_another_worker_hit(workers: tuple[WarehouseThrottleStore, ...]) -> None:
    clock = FakeClock(T0)
    policy = ClientPolicy()
    keys = QuotaKeys.for_call("0123456789ab", "1001")
    blocked, other = (Throttle(store, policy, clock) for store in workers)
    waited = blocked.block(keys, RateLimitedError("too many calls", retry_after_s=120.0, code=17), repeat=1)
    assert waited == 120.0

    wait = other.wait_turn(keys)

    assert wait.seconds == pytest.approx(120.0)
    assert wait.reason == "rate limited (code 17)"
    assert clock.now() == T0 + timedelta(seconds=120)
    assert other.wait_turn(keys).seconds == 0.0  # the hold has passed


def test_database_trouble_degrades_to_this_process_state_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    store = WarehouseThrottleStore(engine, None)  # create() never ran: the table is missing
    with caplog.at_level(logging.WARNING, logger="metaads.orchestration"):
        store.hold(KEY, T0 + timedelta(seconds=90), reason="blocked", at=T0)
        state = store.get(KEY)
    engine.dispose()
    assert state is not None
    assert state.not_before == T0 + timedelta(seconds=90)
    assert any("shared throttle state" in r.getMessage() for r in caplog.records)
