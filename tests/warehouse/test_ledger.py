"""The run ledger: a row per run and per account range, with counts, timings and safe error text."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from metaads.accounts import Account
from metaads.clock import FakeClock
from metaads.dates import DateRange
from metaads.errors import WarehouseError
from metaads.outcomes import ChunkResult
from metaads.redact import register_secret
from metaads.statuses import AccountStatus
from metaads.warehouse import Warehouse
from tests.warehouse.insights import read

START = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
TOKEN = "EAAGledgerTestToken1234567890abcdef"


@pytest.fixture
def ledger_wh(warehouse: Warehouse, accounts: list[Account]) -> tuple[Warehouse, FakeClock]:
    clock = FakeClock(START)
    wh = Warehouse(warehouse.engine, warehouse.schema, clock=clock)
    wh.init(accounts)
    return wh, clock


def test_run_and_account_runs_are_recorded(ledger_wh: tuple[Warehouse, FakeClock], accounts: list[Account]) -> None:
    wh, clock = ledger_wh
    run_id = wh.start_run(trigger="cli", accounts=2)
    clock.advance(30)
    days = DateRange(date(2026, 10, 1), date(2026, 10, 15))
    first = wh.record_account_run(
        run_id,
        accounts[0],
        ChunkResult(
            days, AccountStatus.LOADED, ads_rows=120, actions_rows=250, api_calls=7, throttled_s=12.5, duration_s=30.0
        ),
    )
    second = wh.record_account_run(
        run_id, accounts[1], ChunkResult(days, AccountStatus.FAILED, api_calls=1, error="(#190) token expired")
    )
    clock.advance(5)
    wh.finish_run(run_id, status="partial", accounts_failed=1)

    assert second > first
    assert read(
        wh, "metaads_runs", ["run_id", "status", "trigger", "accounts", "accounts_failed", "started_at", "finished_at"]
    ) == [(run_id, "partial", "cli", 2, 1, "2026-11-20 08:00:00", "2026-11-20 08:00:35")]
    assert read(
        wh,
        "metaads_account_runs",
        [
            "id",
            "run_id",
            "account_id",
            "table_name",
            "since",
            "until",
            "status",
            "ads_rows",
            "actions_rows",
            "api_calls",
            "throttled_s",
            "duration_s",
            "error",
            "finished_at",
        ],
    ) == [
        (
            first,
            run_id,
            accounts[0].id,
            "bm_01",
            "2026-10-01",
            "2026-10-15",
            "loaded",
            120,
            250,
            7,
            12.5,
            30,
            None,
            "2026-11-20 08:00:30",
        ),
        (
            second,
            run_id,
            accounts[1].id,
            "bm_02",
            "2026-10-01",
            "2026-10-15",
            "failed",
            0,
            0,
            1,
            0,
            0,
            "(#190) token expired",
            "2026-11-20 08:00:30",
        ),
    ]


def test_ledger_error_text_never_holds_a_token(ledger_wh: tuple[Warehouse, FakeClock], accounts: list[Account]) -> None:
    wh, _ = ledger_wh
    register_secret(TOKEN)
    run_id = wh.start_run(trigger="airflow", accounts=1)
    error = (
        f"GET https://graph.facebook.com/v27.0/act_1/insights?access_token={TOKEN}&after=x failed; "
        f"token {TOKEN} rejected " + "x" * 5000
    )
    wh.record_account_run(
        run_id,
        accounts[0],
        ChunkResult(DateRange(date(2026, 10, 1), date(2026, 10, 1)), AccountStatus.FAILED, error=error),
    )
    ((stored,),) = read(wh, "metaads_account_runs", ["error"])
    assert TOKEN not in stored
    assert "access_token=***" in stored
    assert len(stored) <= 4000


def test_finishing_an_unknown_run_is_an_error(ledger_wh: tuple[Warehouse, FakeClock]) -> None:
    wh, _ = ledger_wh
    with pytest.raises(WarehouseError, match="no run"):
        wh.finish_run("00000000-0000-0000-0000-000000000000", status="success", accounts_failed=0)


def test_unknown_run_status_is_refused(ledger_wh: tuple[Warehouse, FakeClock]) -> None:
    wh, _ = ledger_wh
    run_id = wh.start_run(trigger="cli", accounts=0)
    with pytest.raises(ValueError, match="unknown run status"):
        wh.finish_run(run_id, status="done", accounts_failed=0)
