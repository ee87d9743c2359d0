"""A chunk's rows and its ledger row commit together, and the sync's watermark never skips a committed range.

Loads of different accounts commit in parallel; the ledger lock, taken right before the ledger insert and
held until the load commits, makes ledger ids commit in order. The sync reads its watermark under it.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.dates import DateRange
from metaads.outcomes import ChunkResult
from metaads.statuses import AccountStatus
from metaads.sync import SyncOptions, sync_analytics
from metaads.warehouse import Warehouse
from tests.warehouse.insights import DAY, days, grid, load

pytestmark = pytest.mark.postgres


def _record(wh: Warehouse, account: Account, since: date, until: date):  # type: ignore[no-untyped-def]
    def record(conn: sa.Connection, result: object) -> int:
        return wh.record_chunk(conn, "run-1", account, ChunkResult(DateRange(since, until), AccountStatus.LOADED, 1, 1))

    return record


def _waiting_advisory_locks(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar_one()
        )


def _wait_for_waiters(engine: sa.Engine, count: int, timeout_s: float = 30.0) -> None:
    # Polls the server's lock table: correctness does not depend on speed, only the give-up time does.
    deadline = time.monotonic() + timeout_s
    while _waiting_advisory_locks(engine) < count:
        assert time.monotonic() < deadline, f"expected {count} transactions waiting for the ledger lock"
        time.sleep(0.05)


def test_sync_watermark_never_passes_an_uncommitted_ledger_row(
    pg_engine: sa.Engine, pg_schema: str, accounts: list[Account], tmp_path: Path
) -> None:
    wh = Warehouse(pg_engine, pg_schema)
    wh.init(accounts)
    first, second = accounts[0], accounts[1]
    dates = days(DAY, 2)
    release = threading.Event()
    errors: list[BaseException] = []

    def slow_first() -> None:  # takes ledger id 1, then holds its transaction open
        try:
            load(
                wh,
                first,
                dates[0],
                dates[-1],
                grid(first, 3, dates),
                record=_record(wh, first, dates[0], dates[-1]),
                before_commit=lambda: release.wait(60),
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    def fast_second() -> None:
        try:
            load(
                wh, second, dates[0], dates[-1], grid(second, 3, dates), record=_record(wh, second, dates[0], dates[-1])
            )
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    target = sa.create_engine(f"sqlite:///{tmp_path}/analytics.db")
    synced: list[object] = []
    a = threading.Thread(target=slow_first)
    a.start()
    while not _ledger_lock_held(pg_engine):
        time.sleep(0.05)
    b = threading.Thread(target=fast_second)
    b.start()
    _wait_for_waiters(pg_engine, 1)  # the second load cannot take a ledger id before the first commits
    options = SyncOptions(retention_days=3650, today=DAY)
    c = threading.Thread(target=lambda: synced.append(sync_analytics(pg_engine, pg_schema, target, "graph", options)))
    c.start()
    _wait_for_waiters(pg_engine, 2)  # nor can the sync read its watermark
    release.set()
    for thread in (a, b, c):
        thread.join(60)
    assert not errors
    with target.connect() as conn:
        accounts_synced = {row[0] for row in conn.exec_driver_sql("SELECT DISTINCT account_id FROM graph_ads")}
    result = synced[0]
    # Whatever the sync's watermark, every committed range at or below it was copied.
    ledger = wh.account_runs
    with pg_engine.connect() as conn:
        below = {r[0] for r in conn.execute(sa.select(ledger.c.account_id).where(ledger.c.id <= result.watermark))}  # type: ignore[attr-defined]
    assert below <= accounts_synced
    assert first.id in below, "the first load committed before the sync read the watermark"
    target.dispose()


def _ledger_lock_held(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")).scalar_one()
            >= 2
        )


def test_a_failed_ledger_write_rolls_the_load_back(
    pg_engine: sa.Engine, pg_schema: str, accounts: list[Account]
) -> None:
    wh = Warehouse(pg_engine, pg_schema)
    wh.init(accounts)
    account = accounts[0]
    dates = days(DAY, 2)

    def broken(conn: sa.Connection, result: object) -> int:
        wh.record_chunk(conn, "run-1", account, ChunkResult(DateRange(dates[0], dates[-1]), AccountStatus.LOADED))
        raise sa.exc.OperationalError("INSERT INTO metaads_chunk_days", {}, Exception("disk full"))

    with pytest.raises(Exception, match="disk full"):
        load(wh, account, dates[0], dates[-1], grid(account, 3, dates), record=broken)
    with pg_engine.connect() as conn:
        ads, _ = wh.tables(account)
        assert conn.execute(sa.select(sa.func.count()).select_from(ads)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(wh.account_runs)).scalar_one() == 0
