"""Scheduling: an account waiting for its quota holds no worker; the other accounts proceed."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from metaads.accounts import Account
from metaads.clock import FakeClock
from metaads.config.settings import settings_from_mapping
from metaads.pipeline import Pipeline
from metaads.simulator import Simulator, SimulatorConfig

pytestmark = pytest.mark.timeout(120)


class GatedClock(FakeClock):
    """A fake clock whose long sleeps block until the test opens the gate (to observe waiting threads)."""

    def __init__(self, gate_above_s: float) -> None:
        super().__init__()
        self.gate_above_s = gate_above_s
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def sleep(self, seconds: float) -> None:
        if seconds > self.gate_above_s:
            self.waiting.set()
            assert self.gate.wait(timeout=60), "test never opened the gate"
        super().sleep(seconds)


class Finished:
    """A progress listener noting which accounts finished, and when (on the shared clock)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.at: dict[str, float] = {}
        self.changed = threading.Condition()

    def account_started(self, account: Account, date_range: object) -> None:
        return None

    def rows_fetched(self, account: Account, rows: int) -> None:
        return None

    def stage(self, account: Account, stage: str) -> None:
        return None

    def account_finished(self, result: Any) -> None:
        with self.changed:
            self.at[result.account.id] = self.clock.monotonic()
            self.changed.notify_all()

    def wait_for(self, account_id: str, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: account_id in self.at, timeout=timeout)


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_throttled_account_does_not_hold_the_only_worker_from_the_other_account(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    clock = GatedClock(gate_above_s=100.0)
    # Development tier: 20 points per 300 s, a 300 s block once exceeded.
    sim = Simulator(
        SimulatorConfig(
            seed=11,
            n_accounts=2,
            ads_per_account=25,
            tier="development",
            account_score_max=20,
            account_score_block_s=300.0,
        ),
        clock=clock,
    )
    throttled, free = sim.world.accounts[0].id, sim.world.accounts[1].id
    if backend == "postgres":
        warehouse = {
            "WAREHOUSE_URL": request.getfixturevalue("pg_url"),
            "WAREHOUSE_SCHEMA": request.getfixturevalue("pg_schema"),
        }
    else:
        warehouse = {"WAREHOUSE_URL": f"sqlite:///{tmp_path / 'warehouse.db'}"}
    with sim.serve(port=0) as server:
        token = sim.tokens[0]
        settings = settings_from_mapping(
            {
                **warehouse,
                "META_ACCOUNTS": f"{throttled},{free}",
                "GRAPH_API_TOKENS": token,
                "GRAPH_API_BASE_URL": server.base_url,
                "GRAPH_API_PAGE_SIZE": "50",
                "LOOKBACK_DAYS": "10",
                "ACCOUNT_GROUP_SIZE": "1",  # one API call in flight at a time, one load at a time
            }
        )
        listener = Finished(clock)
        with Pipeline.from_settings(settings, clock=clock) as pipeline:
            pipeline.init_warehouse()
            pipeline.check_tokens_daily()  # today's token check is done: the run goes straight to accounts
            # Someone else spent the throttled account's quota on this token: its next call is blocked 300 s.
            with httpx.Client(base_url=server.base_url) as other_tool:
                for _ in range(21):
                    other_tool.get(
                        f"/v25.0/act_{throttled}",
                        params={"fields": "name"},
                        headers={"Authorization": f"Bearer {token}"},
                    )
            started = clock.monotonic()
            outcome: dict[str, Any] = {}
            runner = threading.Thread(target=lambda: outcome.update(summary=pipeline.run(listener=listener)))
            runner.start()
            try:
                assert listener.wait_for(free, timeout=60), "the free account waited for the throttled one"
                assert clock.waiting.is_set(), "the throttled account never waited for its quota"
                assert throttled not in listener.at
                # On time: the free account's calls never waited for a quota window.
                assert listener.at[free] - started < 100.0
            finally:
                clock.gate.set()
                runner.join(timeout=60)
    summary = outcome["summary"]
    assert summary.ok, [r.error for r in summary.results]
    by_id = {r.account.id: r for r in summary.results}
    assert by_id[free].throttled_s == 0
    assert by_id[throttled].throttled_s >= 100.0
    assert by_id[free].ads_rows > 0
    assert by_id[throttled].ads_rows > 0
