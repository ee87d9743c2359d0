"""Pacing from the usage headers' own numbers: spend a rolling-window quota exactly, never overshoot it."""

from __future__ import annotations

import math

import orjson
import pytest

from metaads.clock import FakeClock
from metaads.graph import ClientPolicy, GraphClient
from metaads.graph.throttle import InMemoryThrottleStore, QuotaKeys, Throttle
from metaads.graph.usage import parse_usage
from metaads.simulator import Simulator, SimulatorConfig
from tests.graph.conftest import accounts_of, all_rows, by_key, truth
from tests.graph.windows import lookback

pytestmark = pytest.mark.timeout(60)

KEYS = QuotaKeys.for_call("fingerprint1", "123")
WINDOW = 300


def _headers(calls: int, quota: int, reset_s: int) -> dict[str, str]:
    """Usage headers as Meta sends them for an ad-account score of ``calls`` out of ``quota``."""
    pct = round(100.0 * calls / quota, 2)
    return {
        "X-App-Usage": '{"call_count":0,"total_time":0,"total_cputime":0}',
        "X-Ad-Account-Usage": orjson.dumps(
            {"acc_id_util_pct": pct, "reset_time_duration": reset_s, "ads_api_access_tier": "development_access"}
        ).decode(),
    }


def _throttle(clock: FakeClock, **policy: float) -> Throttle:
    return Throttle(InMemoryThrottleStore(), ClientPolicy(**policy), clock)  # type: ignore[arg-type]


def _call(throttle: Throttle, clock: FakeClock, calls: int, quota: int) -> float:
    """One paced call answered with a score of ``calls``; returns the wait before it."""
    waited = throttle.wait_turn(KEYS).seconds
    throttle.observe(KEYS, parse_usage(_headers(calls, quota, WINDOW)))
    return waited


@pytest.mark.parametrize("quota", [60, 20, 7], ids=["development-score-60", "score-20", "score-7"])
def test_next_call_reaching_exactly_100_percent_goes_out_without_waiting(clock: FakeClock, quota: int) -> None:
    throttle = _throttle(clock)
    for calls in range(1, quota + 1):  # the last one brings usage to exactly 100 %
        assert _call(throttle, clock, calls, quota) == 0.0, f"call {calls} of {quota} waited"
        clock.advance(1.0)


def test_at_100_percent_the_next_call_waits_for_the_oldest_call_to_leave_the_window_not_a_whole_one(
    clock: FakeClock,
) -> None:
    throttle = _throttle(clock)
    start = clock.monotonic()
    for calls in range(1, 61):
        _call(throttle, clock, calls, 60)
        clock.advance(2.0)  # calls at 0, 2, ..., 118 s; now 120 s
    # The 61st call fits when the first (answered at 0 s) has left the 300 s window: at 300 s, not 420 s.
    waited = throttle.wait_turn(KEYS).seconds
    assert clock.monotonic() - start == pytest.approx(300.0)
    assert waited == pytest.approx(180.0)
    # The server now counts 60 calls again (59 old ones and this one): the next waits for the second.
    throttle.observe(KEYS, parse_usage(_headers(60, 60, WINDOW)))
    assert throttle.wait_turn(KEYS).seconds == pytest.approx(2.0)


# (usage %, reset_time_duration, expected wait): usage of calls this process did not make.
OTHERS = [(50.0, 250, 0.0), (98.33, 250, 0.0), (100.0, 250, 250.0), (100.0, 0, 298.0)]


@pytest.mark.parametrize(
    ("pct", "reset_s", "wait"),
    OTHERS,
    ids=["half-full", "room-for-one", "full-waits-until-reset", "full-no-reset-our-first-call-leaves-first"],
)
def test_usage_of_calls_made_elsewhere_is_assumed_as_recent_as_the_reset_time_allows(
    clock: FakeClock, pct: float, reset_s: int, wait: float
) -> None:
    throttle = _throttle(clock)
    _call(throttle, clock, 1, 60)  # at 0 s: the score says 1 call (1.67 %) ...
    clock.advance(1.0)
    _call(throttle, clock, 2, 60)  # ... at 1 s, 2 calls: one call is 1.66 %
    clock.advance(1.0)
    # At 2 s our third call; the header counts the calls of someone else on the same token too.
    throttle.wait_turn(KEYS)
    throttle.observe(
        KEYS,
        parse_usage(
            {"X-Ad-Account-Usage": orjson.dumps({"acc_id_util_pct": pct, "reset_time_duration": reset_s}).decode()}
        ),
    )
    assert throttle.wait_turn(KEYS).seconds == pytest.approx(wait)


def test_pacing_target_below_100_leaves_room_and_above_100_disables_pacing(clock: FakeClock) -> None:
    low = _throttle(clock, slowdown_start_pct=50.0)
    waits = [_call(low, clock, calls, 60) for calls in range(1, 32)]
    assert waits[:30] == [0.0] * 30  # 30 calls are 50 %
    assert waits[30] > 0
    off = _throttle(clock, slowdown_start_pct=101.0)
    assert [_call(off, clock, calls, 60) for calls in range(1, 62)] == [0.0] * 61


def test_a_throttling_block_in_the_headers_is_still_waited_out(clock: FakeClock) -> None:
    throttle = _throttle(clock)
    regain = orjson.dumps(
        {
            "123": [
                {
                    "type": "ads_insights",
                    "call_count": 100,
                    "total_cputime": 20,
                    "total_time": 20,
                    "estimated_time_to_regain_access": 3,
                }
            ]
        }
    ).decode()
    throttle.wait_turn(KEYS)
    throttle.observe(KEYS, parse_usage({"X-Business-Use-Case-Usage": regain}))
    assert throttle.wait_turn(KEYS).seconds == pytest.approx(180.0)


@pytest.mark.parametrize("score_max", [20, 60], ids=["score-20", "development-score-60"])
def test_simulated_development_tier_run_spends_the_quota_exactly_without_a_throttling_error(
    clock: FakeClock, score_max: int
) -> None:
    # One shared fake clock; calls take no simulated time, so an account needing n calls under a score
    # of q per 300 s needs exactly 300 x floor((n - 1) / q) s: every full window is spent, none wasted.
    sim = Simulator(
        SimulatorConfig(
            seed=11,
            n_accounts=2,
            ads_per_account=60,
            tier="development",
            account_score_max=score_max,
            account_score_block_s=300.0,
        ),
        clock=clock,
    )
    policy = ClientPolicy(page_size=10, min_page_size=10, max_page_size=10)
    with GraphClient(tokens=list(sim.tokens), policy=policy, clock=clock, transport=sim.transport()) as client:
        for account in accounts_of(sim):
            since, until = lookback(client, account, 60)
            started = clock.monotonic()
            rows = all_rows(client.insights(account, since, until, mode="sync"))
            elapsed = clock.monotonic() - started
            assert by_key(rows) == truth(sim, account, since, until)
            stats = client.stats(account)
            assert stats.throttled_errors == 0
            insights_calls = stats.api_calls - 1  # the account_info call came before ``started``
            assert insights_calls > score_max, "the account must need more calls than one window allows"
            # The account_info call counts in the first window too.
            assert elapsed == pytest.approx(WINDOW * math.floor(insights_calls / score_max))
    assert sim.stats.throttled == 0
