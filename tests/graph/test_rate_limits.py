"""Rate limits: slow down before a quota runs out, wait what the API says, never block other accounts."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor  # noqa: F401
from datetime import date

import orjson
import pytest

from metaads.accounts import Account
from metaads.clock import FakeClock
from metaads.errors import RateLimitedError
from metaads.graph import ClientPolicy, GraphClient
from metaads.simulator import Simulator, SimulatorConfig
from tests.graph.conftest import Scripted, ScriptedTransport, accounts_of, all_rows, by_key, truth
from tests.graph.windows import lookback

pytestmark = pytest.mark.timeout(60)


def _extract_all(
    client: GraphClient, accounts: list[Account], days: int
) -> dict[str, tuple[date, date, list[dict[str, object]]]]:
    # One account after the other: threads sleeping on one shared fake clock would advance each
    # other's time and make per-account waits non-deterministic. Quotas are per (app, account) anyway;
    # the parallel case is covered by the test below and by test_account_data.
    results = {}
    for account in accounts:
        since, until = lookback(client, account, days)
        results[account.id] = (since, until, all_rows(client.insights(account, since, until, mode="sync")))
    return results


def _tight_quota_sim(clock: FakeClock) -> Simulator:
    # Development tier, an ad-account score of 20 calls per 300 s (a 300 s block when exceeded). With
    # pages of 10 rows over 60 days the accounts need about 115, 210 and 120 calls.
    return Simulator(
        SimulatorConfig(
            seed=11,
            n_accounts=3,
            ads_per_account=60,
            tier="development",
            account_score_max=20,
            account_score_block_s=300.0,
        ),
        clock=clock,
    )


@pytest.mark.parametrize("slowdown_start_pct", [75.0, 101.0], ids=["slowing-down", "no-slow-down"])
def test_run_that_would_exceed_the_quota_completes_without_loss_or_hammering(
    clock: FakeClock, slowdown_start_pct: float
) -> None:
    sim = _tight_quota_sim(clock)
    accounts = accounts_of(sim)
    policy = ClientPolicy(page_size=10, min_page_size=10, max_page_size=10, slowdown_start_pct=slowdown_start_pct)
    with GraphClient(tokens=list(sim.tokens), policy=policy, clock=clock, transport=sim.transport()) as client:
        results = _extract_all(client, accounts, 60)
        over_quota = 0
        for account in accounts:
            since, until, rows = results[account.id]
            expected = truth(sim, account, since, until)
            assert by_key(rows) == expected, f"account {account.id} lost or duplicated rows"
            stats = client.stats(account)
            if stats.api_calls <= 20:
                assert stats.throttled_errors == 0
                continue
            over_quota += 1
            assert stats.throttled_s > 0, "the quota must have forced waiting"
            if slowdown_start_pct < 100:
                # Paced: at most one throttling error per account.
                assert stats.throttled_errors <= 1
                assert stats.slowdown_s > 0
            else:
                # Without slowing down the quota is hit, but each block is waited out in one go: one
                # throttling error per quota's worth of calls, not a storm of retries.
                assert 1 <= stats.throttled_errors <= stats.api_calls // 20 + 1
                assert stats.slowdown_s == 0
            assert stats.api_calls == stats.pages + 1 + stats.throttled_errors
        assert over_quota == len(accounts), "every account needs more calls than its quota allows"


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
            assert self.gate.wait(timeout=30), "test never opened the gate"
        super().sleep(seconds)


def test_rate_limited_account_waits_estimated_time_while_other_accounts_proceed() -> None:
    clock = GatedClock(gate_above_s=100.0)
    sim = Simulator(SimulatorConfig(seed=5, n_accounts=3, ads_per_account=60), clock=clock)
    blocked, _, free = accounts_of(sim)
    regain = orjson.dumps(
        {
            blocked.id: [
                {
                    "type": "ads_insights",
                    "call_count": 100,
                    "total_cputime": 20,
                    "total_time": 20,
                    "estimated_time_to_regain_access": 7,
                }
            ]
        }
    ).decode()
    transport = ScriptedTransport(
        sim.transport(),
        [
            Scripted(
                400,
                {
                    "error": {
                        "message": "(#80000) There have been too many calls to this ad-account.",
                        "type": "OAuthException",
                        "code": 80000,
                        "error_subcode": 2446079,
                        "is_transient": True,
                        "fbtrace_id": "Xy",
                    }
                },
                headers={"X-Business-Use-Case-Usage": regain},
                match=lambda r: r.url.path.endswith(f"act_{blocked.id}/insights"),
            )
        ],
    )
    with GraphClient(tokens=[sim.tokens[0]], clock=clock, transport=transport) as client:
        since, until = date.fromordinal(clock.now().date().toordinal() - 10), clock.now().date()
        with ThreadPoolExecutor(max_workers=1) as pool:
            waiting = pool.submit(lambda: all_rows(client.insights(blocked, since, until)))
            assert clock.waiting.wait(timeout=30), "the blocked account never waited"
            # The same client, the same token: the other account is not held up by that wait.
            other_rows = all_rows(client.insights(free, since, until))
            assert not waiting.done()
            clock.gate.set()
            blocked_rows = waiting.result(timeout=30)
    assert other_rows
    assert blocked_rows
    assert client.stats(free).throttled_s == 0
    assert client.stats(blocked).throttled_s == pytest.approx(7 * 60)
    assert client.stats(blocked).throttled_errors == 1


def test_wait_is_capped_by_the_policy_maximum(sim: Simulator, accounts: list[Account], clock: FakeClock) -> None:
    regain = (
        '{"1":[{"type":"ads_insights","call_count":100,"total_cputime":20,"total_time":20,'
        '"estimated_time_to_regain_access":600}]}'
    )
    transport = ScriptedTransport(
        sim.transport(),
        [
            Scripted(
                400,
                {"error": {"message": "(#80000) too many calls", "code": 80000, "error_subcode": 2446079}},
                headers={"X-Business-Use-Case-Usage": regain},
                match=lambda r: r.url.path.endswith("/insights"),
            )
        ],
    )
    policy = ClientPolicy(max_wait_s=120.0)
    with GraphClient(tokens=list(sim.tokens), policy=policy, clock=clock, transport=transport) as client:
        since, until = lookback(client, accounts[0], 3)
        assert all_rows(client.insights(accounts[0], since, until))
    assert client.stats(accounts[0]).throttled_s == pytest.approx(120.0)


def test_persistent_throttling_gives_up_after_the_policy_limit(
    sim: Simulator, accounts: list[Account], clock: FakeClock
) -> None:
    transport = ScriptedTransport(
        sim.transport(),
        [
            Scripted(
                400,
                {"error": {"message": "(#17) User request limit reached", "code": 17, "error_subcode": 2446079}},
                headers={"X-Ad-Account-Usage": '{"acc_id_util_pct":100,"reset_time_duration":30}'},
                times=100,
                match=lambda r: r.url.path.endswith("/insights"),
            )
        ],
    )
    policy = ClientPolicy(max_throttle_waits=3)
    with GraphClient(tokens=list(sim.tokens), policy=policy, clock=clock, transport=transport) as client:
        since, until = lookback(client, accounts[0], 3)
        with pytest.raises(RateLimitedError) as caught:
            all_rows(client.insights(accounts[0], since, until))
    assert caught.value.retry_after_s == 30
    assert caught.value.scope == "account"
    assert client.stats(accounts[0]).throttled_errors == 4
    assert client.stats(accounts[0]).throttled_s == pytest.approx(3 * 30)


def test_app_level_limit_with_tokens_of_one_app_waits_instead_of_switching(
    sim: Simulator, accounts: list[Account], clock: FakeClock
) -> None:
    from metaads.graph import TokenPool

    same_app = [sim.tokens[0], sim.tokens[2]]  # the simulator deals tokens to apps round-robin
    app_id = "app-1"
    transport = ScriptedTransport(
        sim.transport(),
        [
            Scripted(
                400,
                {
                    "error": {
                        "message": "(#4) Application request limit reached",
                        "code": 4,
                        "error_subcode": 1504022,
                        "is_transient": True,
                    }
                },
                match=lambda r: r.url.path.endswith("/insights"),
            )
        ],
    )
    pool = TokenPool(same_app, app_ids=[app_id, app_id])
    with GraphClient(
        tokens=pool, policy=ClientPolicy(throttle_fallback_s=30), clock=clock, transport=transport
    ) as client:
        since, until = lookback(client, accounts[0], 3)
        assert all_rows(client.insights(accounts[0], since, until))
    stats = client.stats(accounts[0])
    assert stats.token_failovers == 0
    assert stats.throttled_errors == 1
    assert stats.throttled_s == pytest.approx(30)
    assert {token for _, path, token in transport.requests if path.endswith("/insights")} == {sim.tokens[0]}


def test_a_long_wait_is_announced_at_info_with_the_account_the_reason_and_until_when(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    sim = _tight_quota_sim(clock)
    account = accounts_of(sim)[0]
    seen: list[tuple[str | None, str]] = []
    policy = ClientPolicy(page_size=10, min_page_size=10, max_page_size=10)
    with GraphClient(tokens=list(sim.tokens), policy=policy, clock=clock, transport=sim.transport()) as client:
        client.session.on_wait = lambda account_id, until, why: seen.append((account_id, why))
        since, until = lookback(client, account, 60)
        with caplog.at_level("INFO", logger="metaads.graph.session"):
            all_rows(client.insights(account, since, until, mode="sync"))
    assert client.stats(account).throttled_s > 0, "the quota is tight enough to make the account wait"
    announced = [
        r.getMessage()
        for r in caplog.records
        if r.levelname == "INFO" and r.getMessage().startswith(f"account {account.id}: waiting ")
    ]
    assert announced, "a wait of minutes is visible at INFO"
    assert all(" UTC" in m and ("quota" in m or "because it is" in m) for m in announced)
    assert seen
    assert {who for who, _ in seen} == {account.id}
