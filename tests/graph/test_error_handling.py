"""Every row of the spec's error table, handled end to end as the table says.

The first insights request gets the scripted error response (real Graph error bodies and headers); the
simulator answers everything after it, so the test also proves nothing is lost after recovering.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from metaads.accounts import Account
from metaads.clock import FakeClock
from metaads.dates import oldest_available_day
from metaads.errors import (
    BadRequestError,
    ConfigError,
    DateRangeTooOldError,
    DeprecatedVersionError,
    GraphAPIError,
    PermissionDeniedError,
)
from metaads.graph import ClientPolicy
from metaads.simulator import Simulator
from tests.graph.conftest import ClientFactory, Scripted, ScriptedTransport, all_rows, by_key, truth
from tests.graph.windows import lookback

pytestmark = pytest.mark.timeout(60)

REDUCE = "Please reduce the amount of data you're asking for, then retry your request"
POLICY = ClientPolicy(throttle_fallback_s=45.0, max_wait_s=900.0, page_size=100)


def error(code: int, subcode: int | None = None, message: str = "error", transient: bool = False) -> dict:
    body: dict[str, object] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "is_transient": transient,
        "fbtrace_id": "AbCdEf",
    }
    if subcode is not None:
        body["error_subcode"] = subcode
    return {"error": body}


def account_usage(pct: float, reset_s: int) -> dict[str, str]:
    return {"X-Ad-Account-Usage": f'{{"acc_id_util_pct":{pct},"reset_time_duration":{reset_s}}}'}


def buc(use_case: str, regain_min: int) -> dict[str, str]:
    return {
        "X-Business-Use-Case-Usage": f'{{"1":[{{"type":"{use_case}","call_count":100,"total_cputime":10,'
        f'"total_time":10,"estimated_time_to_regain_access":{regain_min}}}]}}'
    }


# (status, body, headers, what the client does, expected rate-limit wait in seconds)
CASES = [
    (500, error(1, message=REDUCE), {}, "halve", 0.0),
    (500, error(1, 99, "An unknown error occurred", True), {}, "retry", 0.0),
    (400, error(1, message="An unknown error occurred", transient=True), {}, "retry", 0.0),
    (503, error(2, message="Service temporarily unavailable", transient=True), {}, "retry", 0.0),
    (502, "<html>502 Bad Gateway</html>", {}, "retry", 0.0),
    (400, error(4, 1504022, "(#4) Application request limit reached"), {}, "switch-app", 0.0),
    (400, error(17, message="(#17) User request limit reached"), {}, "wait", 45.0),
    (400, error(17, 2446079, "(#17) User request limit reached"), account_usage(100, 240), "wait", 240.0),
    (400, error(32, message="(#32) Page request limit reached"), {}, "wait", 45.0),
    (400, error(613, message="(#613) Calls to this api have exceeded the rate limit."), {}, "wait", 45.0),
    (400, error(613, 1487742), account_usage(100, 120), "wait", 120.0),
    (400, error(80000, 2446079), buc("ads_insights", 3), "wait", 180.0),
    (400, error(80004, 2446079), buc("ads_management", 2), "wait", 120.0),
    (400, error(80003), buc("custom_audience", 1), "wait", 60.0),
    (400, error(368, message="Temporarily blocked for policies violations"), {}, "wait", 45.0),
    (400, error(100, message="(#100) Invalid parameter"), {}, "fix-request", 0.0),
    (400, error(100, 1487534, "Too much data per call"), {}, "halve", 0.0),
    (400, error(100, 33, "Unsupported get request. Object does not exist"), {}, "fix-request", 0.0),
    (400, error(190, 458), {}, "switch-token", 0.0),
    (400, error(190, 460), {}, "switch-token", 0.0),
    (400, error(190, 463, "Error validating access token: Session has expired"), {}, "switch-token", 0.0),
    (400, error(190, 467), {}, "switch-token", 0.0),
    (400, error(10, message="(#10) Application does not have permission for this action"), {}, "skip", 0.0),
    (403, error(200, message="(#200) Ad account owner has NOT grant ads_read permission"), {}, "skip", 0.0),
    (400, error(2635, message="(#2635) You are calling a deprecated version of the Ads API."), {}, "config", 0.0),
]
IDS = [
    "1-reduce-data",
    "1-99-unknown",
    "1-transient",
    "2-unavailable",
    "5xx-html",
    "4-app-limit",
    "17-user-limit",
    "17-2446079-account-score",
    "32-page-limit",
    "613-rate-limit",
    "613-1487742-account",
    "80000-ads-insights",
    "80004-ads-management",
    "80003-custom-audience",
    "368-policy-block",
    "100-invalid-param",
    "100-1487534-too-much-data",
    "100-33-missing-object",
    "190-458",
    "190-460",
    "190-463-expired",
    "190-467",
    "10-permission",
    "200-permission",
    "2635-deprecated-version",
]


@pytest.mark.parametrize(("status", "body", "headers", "behaviour", "wait"), CASES, ids=IDS)
def test_graph_error_is_handled_as_the_spec_table_says(
    sim: Simulator,
    accounts: list[Account],
    make_client: ClientFactory,
    clock: FakeClock,
    status: int,
    body: object,
    headers: dict[str, str],
    behaviour: str,
    wait: float,
) -> None:
    account = accounts[0]
    transport = ScriptedTransport(
        sim.transport(), [Scripted(status, body, headers, match=lambda r: r.url.path.endswith("/insights"))]
    )
    client = make_client(transport=transport, policy=POLICY)
    since, until = lookback(client, account, 10)
    insights_calls = lambda: sum(1 for _, path, _ in transport.requests if path.endswith("/insights"))  # noqa: E731

    if behaviour in ("skip", "fix-request", "config"):
        expected = {"skip": PermissionDeniedError, "fix-request": BadRequestError, "config": DeprecatedVersionError}[
            behaviour
        ]
        with pytest.raises(expected) as caught:
            all_rows(client.insights(account, since, until))
        assert caught.value.account_id == account.id
        assert caught.value.code == body["error"]["code"]  # type: ignore[index]
        assert insights_calls() == 1, "must not retry a request that cannot succeed as is"
        if behaviour == "config":
            assert isinstance(caught.value, ConfigError)
        return

    rows = all_rows(client.insights(account, since, until))
    expected = truth(sim, account, since, until)
    assert by_key(rows) == expected, "nothing lost after recovering"
    stats = client.stats(account)
    assert insights_calls() == stats.pages + 1
    assert stats.retries == (1 if behaviour == "retry" else 0)
    assert stats.limit_halvings == (1 if behaviour == "halve" else 0)
    assert stats.token_failovers == (1 if behaviour in ("switch-token", "switch-app") else 0)
    assert stats.throttled_errors == (1 if behaviour in ("wait", "switch-app") else 0)
    assert stats.throttled_s == pytest.approx(wait)
    assert clock.slept == pytest.approx(wait + stats.backoff_s)
    if behaviour in ("switch-token", "switch-app"):
        tokens_used = [token for _, path, token in transport.requests if path.endswith("/insights")]
        assert tokens_used[0] == sim.tokens[0]
        assert set(tokens_used[1:]) == {sim.tokens[1]}, "the next token (of another app) takes over"


def test_transient_error_backs_off_exponentially_with_jitter_then_gives_up(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory, clock: FakeClock
) -> None:
    sim.faults.error_500_rate = 1.0
    policy = ClientPolicy(max_retries=4, backoff_base_s=2.0, backoff_cap_s=10.0)
    client = make_client(policy=policy)
    with pytest.raises(GraphAPIError) as caught:
        client.account_info(accounts[0])
    assert caught.value.is_transient
    stats = client.stats(accounts[0])
    assert stats.api_calls == 5
    assert stats.retries == 4
    # Ceilings 2, 4, 8, 10 (capped); each wait is between half the ceiling and the ceiling.
    assert 12.0 <= stats.backoff_s <= 24.0
    assert clock.slept == pytest.approx(stats.backoff_s)


def test_transient_retry_waits_at_least_as_long_as_the_server_says(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory, clock: FakeClock
) -> None:
    transport = ScriptedTransport(
        sim.transport(),
        [
            Scripted(
                503,
                {"error": {"message": "Service temporarily unavailable", "code": 2, "is_transient": True}},
                headers={"Retry-After": "45"},
                times=2,
            )
        ],
    )
    client = make_client(transport=transport, policy=ClientPolicy(max_retries=3, backoff_base_s=1.0))
    assert client.account_info(accounts[0]).id == accounts[0].id
    stats = client.stats(accounts[0])
    assert (stats.transient_errors, stats.retries, stats.api_calls) == (2, 2, 3)
    assert stats.backoff_s == pytest.approx(90.0)  # the header's 45 s twice, not 1-2 s of back-off
    assert clock.slept == pytest.approx(90.0)


def test_start_date_beyond_37_months_is_clamped_to_the_history_window(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    account = accounts[1]
    client = make_client(policy=POLICY)
    today = client.local_today(account)
    oldest = oldest_available_day(today)
    # Account level keeps three years of daily rows small.
    fields = ("account_id", "spend", "impressions", "date_start", "date_stop")
    rows = all_rows(
        client.insights(account, oldest - timedelta(days=400), today, level="account", fields=fields, mode="sync")
    )
    expected = sim.ground_truth(account.id, oldest, today, level="account", fields=fields)
    assert len(rows) > 30
    assert rows == expected
    assert client.stats(account).range_clamps == 1


def test_range_entirely_beyond_37_months_yields_nothing(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    account = accounts[1]
    client = make_client(policy=POLICY)
    oldest = oldest_available_day(client.local_today(account))
    since, until = oldest - timedelta(days=400), oldest - timedelta(days=300)
    assert all_rows(client.insights(account, since, until, mode="sync")) == []
    assert client.stats(account).range_clamps == 1


def test_3018_inside_the_history_window_is_raised_not_clamped(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    transport = ScriptedTransport(
        sim.transport(),
        [
            Scripted(
                400,
                error(
                    3018,
                    message="(#3018) The start date of the time range cannot be beyond 37 months from the current date",
                ),
                match=lambda r: r.url.path.endswith("/insights"),
            )
        ],
    )
    client = make_client(transport=transport, policy=POLICY)
    since, until = lookback(client, accounts[0], 5)
    with pytest.raises(DateRangeTooOldError):
        all_rows(client.insights(accounts[0], since, until))
