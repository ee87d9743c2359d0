"""What a sync records in the warehouse's run ledger, and the errors raised before any copying."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from metaads.clock import FakeClock
from metaads.database import lock_key
from metaads.errors import SyncError
from metaads.sync import FULL, INCREMENTAL, SyncOptions, sync_analytics
from metaads.sync.ledger import describe_target
from metaads.warehouse import Warehouse
from tests.sync.conftest import Target
from tests.sync.data import TODAY, Loader, accounts, syncs

A, B, _ = accounts()


@pytest.fixture
def other_pg_target(pg_engine: sa.Engine) -> Iterator[Target]:
    schema = f"b_{uuid.uuid4().hex[:12]}"
    yield Target("postgresql", pg_engine, schema)
    with pg_engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.postgres
def test_each_sync_is_recorded_with_its_counts_and_watermark_per_target(
    warehouse: Warehouse, loader: Loader, pg_target: Target, other_pg_target: Target
) -> None:
    clock = FakeClock(datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc))
    first_id = loader.load(A, date(2026, 11, 1), date(2026, 11, 2))

    def run(target: Target) -> None:
        clock.advance(60)
        sync_analytics(
            warehouse.engine, warehouse.schema, target.engine, target.schema, SyncOptions(today=TODAY), clock=clock
        )

    run(pg_target)
    second_id = loader.load(B, date(2026, 11, 3), date(2026, 11, 3))
    run(pg_target)
    run(other_pg_target)  # a new target starts with a full copy, whatever the other one has seen

    recorded = syncs(
        warehouse.engine,
        warehouse.schema,
        ["status", "mode", "target", "watermark", "ads_rows", "actions_rows", "started_at"],
    )
    assert [row[:6] for row in recorded] == [
        ("success", FULL, describe_target(pg_target.engine, pg_target.schema), first_id, 6, 12),
        ("success", INCREMENTAL, describe_target(pg_target.engine, pg_target.schema), second_id, 3, 6),
        ("success", FULL, describe_target(other_pg_target.engine, other_pg_target.schema), second_id, 9, 18),
    ]
    assert [row[6] for row in recorded] == [datetime(2026, 11, 20, 9, m, tzinfo=timezone.utc) for m in (1, 2, 3)]


def test_the_target_is_described_without_its_password() -> None:
    engine = sa.create_engine("postgresql+psycopg://sync_user:s3cr3t-pw@bi.example.com:5432/analytics")

    described = describe_target(engine, "graph")

    assert "s3cr3t-pw" not in described
    assert described == "postgresql+psycopg://sync_user:***@bi.example.com:5432/analytics [graph]"


def test_a_warehouse_without_a_run_ledger_is_a_clear_error(tmp_path: object) -> None:
    empty = sa.create_engine(f"sqlite:///{tmp_path}/empty.db")

    with pytest.raises(SyncError, match=r"no run ledger .*metaads init-db"):
        sync_analytics(empty, None, sa.create_engine(f"sqlite:///{tmp_path}/an.db"), None, SyncOptions(today=TODAY))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"analytics_schema": "Graph-BI"}, "analytics_schema 'Graph-BI' must match"),
        ({"warehouse_schema": "meta ads"}, "warehouse_schema 'meta ads' must match"),
        ({"threads": 0}, "threads must be at least 1"),
        ({"batch_rows": 0}, "batch_rows must be at least 1"),
        ({"retention_days": 0}, "retention_days must be at least 1"),
    ],
    ids=["bad-analytics-schema", "bad-warehouse-schema", "no-threads", "empty-batches", "no-retention"],
)
def test_bad_arguments_are_refused_before_touching_a_database(
    tmp_path: object, kwargs: dict[str, object], message: str
) -> None:
    options: dict[str, object] = {"warehouse_schema": "meta_ads", "analytics_schema": "graph"}
    options.update(kwargs)
    never = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # connecting would fail

    with pytest.raises(SyncError, match=message):
        sync_analytics(
            never,
            options.pop("warehouse_schema"),
            never,
            options.pop("analytics_schema"),
            SyncOptions(today=TODAY, **options),
        )


@pytest.mark.postgres
def test_an_unreachable_target_fails_the_sync_without_leaking_its_password(warehouse: Warehouse) -> None:
    unreachable = sa.create_engine("postgresql+psycopg://bi:s3cr3t-pw@127.0.0.1:1/analytics")

    with pytest.raises(SyncError, match=r"creating or checking the analytics tables failed on .*bi:\*\*\*@") as caught:
        sync_analytics(warehouse.engine, warehouse.schema, unreachable, "graph", SyncOptions(today=TODAY))

    assert "s3cr3t-pw" not in str(caught.value)
    ((status, error),) = syncs(warehouse.engine, warehouse.schema, ["status", "error"])
    assert status == "failed"
    assert "s3cr3t-pw" not in error
    assert "127.0.0.1:1" in error


@pytest.mark.postgres
def test_a_second_sync_to_the_same_target_waits_for_the_first(
    warehouse: Warehouse, loader: Loader, pg_target: Target
) -> None:
    loader.load(A, date(2026, 11, 1), date(2026, 11, 2))
    key = lock_key("sync", describe_target(pg_target.engine, pg_target.schema))
    outcome: list[object] = []

    def second() -> None:
        outcome.append(
            sync_analytics(
                warehouse.engine, warehouse.schema, pg_target.engine, pg_target.schema, SyncOptions(today=TODAY)
            )
        )

    with warehouse.engine.connect() as first:  # plays the first sync, holding the target's lock
        first.execute(sa.select(sa.func.pg_advisory_lock(key)))
        waiter = threading.Thread(target=second)
        waiter.start()
        with warehouse.engine.connect() as probe:
            waiting = False
            for _ in range(200):  # until the second sync queues on the lock (a few ms)
                waiting = bool(
                    probe.execute(
                        sa.text(
                            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                            "AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1"
                        ),
                        {"high": (key >> 32) & 0xFFFFFFFF, "low": key & 0xFFFFFFFF},
                    ).scalar()
                )
                if waiting:
                    break
                time.sleep(0.01)
        assert waiting
        assert outcome == []
        first.execute(sa.select(sa.func.pg_advisory_unlock(key)))
        first.commit()
    waiter.join(timeout=30)

    assert len(outcome) == 1
    assert syncs(warehouse.engine, warehouse.schema, ["status"]) == [("success",)]
