"""Async report runs: completed, failed / skipped (resubmitted once, then split), timed out (split)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import httpx
import pytest

from metaads.accounts import Account
from metaads.clock import FakeClock
from metaads.graph import AsyncJobFailedError, AsyncJobTimeoutError, ClientPolicy
from metaads.simulator import Simulator, SimulatorConfig
from tests.graph.conftest import ClientFactory, accounts_of, all_rows, by_key, truth
from tests.graph.windows import lookback

pytestmark = pytest.mark.timeout(60)


class OnSubmit(httpx.BaseTransport):
    """The simulator's transport, running ``actions[n]`` just before the n-th report submission (1-based)."""

    def __init__(self, inner: httpx.BaseTransport, actions: dict[int, Callable[[], None]]) -> None:
        self.inner = inner
        self.actions = actions
        self.submissions = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/insights"):
            self.submissions += 1
            action = self.actions.get(self.submissions)
            if action is not None:
                action()
        return self.inner.handle_request(request)


def _truth(sim: Simulator, account: Account, since: date, until: date) -> list[dict[str, object]]:
    return truth(sim, account, since, until)


def test_long_range_uses_an_async_report_and_equals_ground_truth(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory, clock: FakeClock
) -> None:
    client = make_client(policy=ClientPolicy(async_threshold_days=31, async_poll_initial_s=2.0))
    since, until = lookback(client, accounts[0], 45)
    started = clock.monotonic()
    rows = all_rows(client.insights(accounts[0], since, until))
    assert by_key(rows) == _truth(sim, accounts[0], since, until)
    stats = client.stats(accounts[0])
    assert stats.async_jobs == 1
    assert stats.async_polls >= 2, "the job takes a few simulated seconds: it is polled until done"
    assert clock.monotonic() - started >= sim.config.async_base_s
    assert stats.range_splits == 0


def test_small_range_is_read_synchronously_unless_the_ads_estimate_is_large(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    client = make_client(policy=ClientPolicy(async_threshold_days=31, async_threshold_cells=5_000))
    since, until = lookback(client, accounts[0], 10)
    all_rows(client.insights(accounts[0], since, until, estimated_ads=100))
    assert client.stats(accounts[0]).async_jobs == 0
    all_rows(client.insights(accounts[0], since, until, estimated_ads=1000))
    assert client.stats(accounts[0]).async_jobs == 1


@pytest.mark.parametrize("fault", ["async_fail_rate", "async_skip_rate"], ids=["failed", "skipped"])
def test_failed_or_skipped_job_is_resubmitted_once(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory, fault: str
) -> None:
    setattr(sim.faults, fault, 1.0)
    transport = OnSubmit(sim.transport(), {2: lambda: setattr(sim.faults, fault, 0.0)})
    client = make_client(transport=transport)
    since, until = lookback(client, accounts[1], 20)
    rows = all_rows(client.insights(accounts[1], since, until, mode="async"))
    assert by_key(rows) == _truth(sim, accounts[1], since, until)
    stats = client.stats(accounts[1])
    assert (stats.async_jobs, stats.async_retries, stats.range_splits) == (2, 1, 0)


@pytest.mark.parametrize("fault", ["async_fail_rate", "async_skip_rate"], ids=["failed", "skipped"])
def test_job_failing_twice_is_split_into_halves(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory, fault: str
) -> None:
    setattr(sim.faults, fault, 1.0)
    transport = OnSubmit(sim.transport(), {3: lambda: setattr(sim.faults, fault, 0.0)})
    client = make_client(transport=transport)
    since, until = lookback(client, accounts[1], 20)
    rows = all_rows(client.insights(accounts[1], since, until, mode="async"))
    assert by_key(rows) == _truth(sim, accounts[1], since, until)
    stats = client.stats(accounts[1])
    assert (stats.async_jobs, stats.async_retries, stats.range_splits) == (4, 1, 1)
    assert transport.submissions == 4


def test_single_day_job_that_keeps_failing_is_raised(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    sim.faults.async_fail_rate = 1.0
    client = make_client()
    day = client.local_today(accounts[0])
    with pytest.raises(AsyncJobFailedError) as caught:
        all_rows(client.insights(accounts[0], day, day, mode="async"))
    assert caught.value.async_status == "Job Failed"
    assert caught.value.account_id == accounts[0].id
    assert client.stats(accounts[0]).async_jobs == 2


def test_job_that_does_not_finish_in_time_is_split_until_parts_finish(
    clock: FakeClock, make_client: ClientFactory
) -> None:
    # A job's duration grows with ads x days: 40 ads x 16 days = 640 s, halves 320 s, quarters 160 s.
    sim = Simulator(
        SimulatorConfig(seed=9, n_accounts=1, ads_per_account=40, async_base_s=0.0, async_s_per_1000_ad_days=1000.0),
        clock=clock,
    )
    account = accounts_of(sim)[0]
    policy = ClientPolicy(async_timeout_s=200.0, async_start_timeout_s=100.0, async_poll_max_s=20.0)
    with make_client(policy=policy, transport=sim.transport(), tokens=list(sim.tokens)) as client:
        since, until = lookback(client, account, 16)
        rows = all_rows(client.insights(account, since, until, mode="async"))
        assert by_key(rows) == _truth(sim, account, since, until)
        stats = client.stats(account)
    assert stats.range_splits == 3
    assert stats.async_jobs == 1 + 2 + 4


def test_job_that_never_starts_times_out(clock: FakeClock, make_client: ClientFactory) -> None:
    sim = Simulator(SimulatorConfig(seed=9, n_accounts=1, ads_per_account=10, async_base_s=100_000.0), clock=clock)
    account = accounts_of(sim)[0]
    policy = ClientPolicy(async_start_timeout_s=300.0)
    with make_client(policy=policy, transport=sim.transport(), tokens=list(sim.tokens)) as client:
        day = client.local_today(account)
        with pytest.raises(AsyncJobTimeoutError, match="had not started"):
            all_rows(client.insights(account, day, day, mode="async"))
        assert 300 <= clock.monotonic() <= 300 + 60 + 1
