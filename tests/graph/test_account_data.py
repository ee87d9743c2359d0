"""Account info, account-local dates, campaigns (archived and deleted too) and parallel extraction."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone

import pytest

from metaads.accounts import Account
from metaads.clock import FakeClock
from metaads.dates import DateRange, resolve_range
from metaads.errors import ConfigError, DeprecatedVersionError, TransientError
from metaads.graph import AccountInfo, ClientPolicy, GraphClient, oldest_available_day
from metaads.graph.insights import ALL_EFFECTIVE_STATUSES
from metaads.pipeline.engines import client_policy
from metaads.simulator import Simulator
from tests.graph.conftest import ClientFactory, all_rows, by_key, truth
from tests.graph.windows import lookback

pytestmark = pytest.mark.timeout(60)


def test_account_info_matches_the_account_and_is_cached(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    client = make_client()
    for account in accounts:
        info = client.account_info(account)
        world = sim.account(account.id)
        assert (info.id, info.name, info.currency, info.timezone_name, info.account_status) == (
            world.id,
            world.name,
            world.currency,
            world.timezone_name,
            world.account_status,
        )
        assert client.local_today(account) == sim.account_today(account.id)
    calls = client.total_stats().api_calls
    client.account_info(accounts[0])
    assert client.total_stats().api_calls == calls
    client.account_info(accounts[0], refresh=True)
    assert client.total_stats().api_calls == calls + 1


# (UTC instant, time zone, account's today)
LOCAL_TODAY = [
    (datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc), "America/Los_Angeles", date(2026, 11, 19)),
    (datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc), "America/Los_Angeles", date(2026, 11, 20)),
    (datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc), "Asia/Tokyo", date(2026, 11, 21)),
    (datetime(2026, 11, 20, 10, 59, tzinfo=timezone.utc), "Pacific/Auckland", date(2026, 11, 20)),
    (datetime(2026, 11, 20, 11, 0, tzinfo=timezone.utc), "Pacific/Auckland", date(2026, 11, 21)),
    (datetime(2026, 11, 20, 23, 0, tzinfo=timezone.utc), "Not/AZone", date(2026, 11, 20)),
]


@pytest.mark.parametrize(
    ("now", "zone", "today"),
    LOCAL_TODAY,
    ids=[
        "la-before-midnight",
        "la-after-midnight",
        "tokyo-ahead",
        "auckland-before",
        "auckland-after",
        "unknown-zone-is-utc",
    ],
)
def test_local_today_is_the_date_in_the_account_time_zone(now: datetime, zone: str, today: date) -> None:
    info = AccountInfo(id="1", name="x", currency="USD", timezone_name=zone, account_status=1)
    assert info.local_today(now) == today


def test_lookback_window_ends_on_the_account_today_and_stays_inside_the_history() -> None:
    info = AccountInfo(id="1", name="x", currency="USD", timezone_name="Asia/Tokyo", account_status=1)
    today = info.local_today(datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc))
    assert resolve_range(today, lookback_days=15) == DateRange(date(2026, 11, 7), date(2026, 11, 21))
    assert resolve_range(today, lookback_days=1) == DateRange(date(2026, 11, 21), date(2026, 11, 21))
    assert resolve_range(today, lookback_days=5000).since == oldest_available_day(today) == date(2023, 10, 22)
    with pytest.raises(ConfigError, match="--lookback: must be at least 1"):
        resolve_range(today, lookback_days=0)


def test_campaigns_include_archived_and_deleted_across_pages(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    client = make_client(policy=ClientPolicy(page_size=3, min_page_size=1))
    account = max(accounts, key=lambda a: len(sim.account(a.id).campaigns))
    campaigns = list(client.campaigns(account))
    world = sim.account(account.id).campaigns
    assert sorted(c["id"] for c in campaigns) == sorted(c.id for c in world)
    assert {"ARCHIVED", "DELETED"} & {c["effective_status"] for c in campaigns}
    assert set(campaigns[0]) >= {"id", "name", "status", "effective_status", "objective", "start_time"}
    assert client.stats(account).pages >= len(world) // 3


def test_insights_include_archived_and_deleted_ads_unless_told_otherwise(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    account = accounts[0]
    client = make_client()
    since, until = lookback(client, account, 30)
    every = all_rows(client.insights(account, since, until))
    live = all_rows(client.insights(account, since, until, include_archived=False))
    hidden = {ad.id for ad in sim.account(account.id).ads if ad.effective_status in ("ARCHIVED", "DELETED")}
    assert {r["ad_id"] for r in every} & hidden, "archived ads delivered in the range"
    assert not {r["ad_id"] for r in live} & hidden
    assert by_key(every) == truth(sim, account, since, until)


def test_accounts_extracted_in_parallel_over_http_share_one_client(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    sim.faults.error_500_rate = 0.1
    sim.faults.transient_code2_rate = 0.1
    with sim.serve(port=0) as server:
        client = make_client(base_url=server.base_url, policy=ClientPolicy(page_size=50, max_retries=10))

        def extract(account: Account) -> tuple[date, date, list[dict[str, object]]]:
            since, until = lookback(client, account, 20)
            return since, until, all_rows(client.insights(account, since, until))

        with ThreadPoolExecutor(max_workers=len(accounts)) as pool:
            results = list(pool.map(extract, accounts))
    for account, (since, until, rows) in zip(accounts, results, strict=True):
        assert by_key(rows) == truth(sim, account, since, until)
    total = client.total_stats()
    assert total.retries > 0, "the transient faults were met and retried"
    assert total.api_calls == total.pages + len(accounts) + total.transient_errors
    assert sim.stats.calls == total.api_calls


def test_deprecated_version_is_a_configuration_error(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    sim.faults.deprecated_versions.add("v25.0")
    client = make_client(version="v25.0")
    with pytest.raises(DeprecatedVersionError) as caught:
        client.account_info(accounts[0])
    assert isinstance(caught.value, ConfigError)
    assert caught.value.variable == "GRAPH_API_VERSION"
    assert client.stats(accounts[0]).api_calls == 1
    assert make_client(version="v27.0").account_info(accounts[0]).id == accounts[0].id


def test_server_that_keeps_failing_raises_a_transient_error_after_the_retries(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory, clock: FakeClock
) -> None:
    sim.faults.transient_code2_rate = 1.0
    client = make_client(policy=ClientPolicy(max_retries=2))
    with pytest.raises(TransientError) as caught:
        client.account_info(accounts[0])
    assert caught.value.code == 2
    assert client.stats(accounts[0]).api_calls == 3


def test_client_repr_and_policy_validation(sim: Simulator) -> None:
    client = GraphClient(tokens=list(sim.tokens), transport=sim.transport())
    assert "graph.facebook.com" in repr(client)
    client.close()
    with pytest.raises(ValueError, match="negative"):
        ClientPolicy(max_retries=-1)
    with pytest.raises(ValueError, match="min_page_size"):
        ClientPolicy(page_size=10, min_page_size=20)
    assert ClientPolicy().throttle_wait_s(None, 3) == 240.0
    assert ClientPolicy(max_wait_s=100).throttle_wait_s(600.0, 1) == 100.0
    delays = ClientPolicy(async_poll_initial_s=5, async_poll_factor=2, async_poll_max_s=30).poll_delays()
    assert [delays.next_delay() for _ in range(5)] == [5, 10, 20, 30, 30]


def test_policy_follows_the_graph_api_settings() -> None:
    from metaads.config.settings import settings_from_mapping

    settings = settings_from_mapping(
        {
            "META_ACCOUNTS": "act_1",
            "GRAPH_API_TOKENS": "token-for-settings-test",
            "GRAPH_API_PAGE_SIZE": "10",
            "GRAPH_API_TIMEOUT_S": "30",
            "GRAPH_API_MAX_RETRIES": "3",
            "GRAPH_API_MAX_WAIT_S": "120",
            "GRAPH_API_ASYNC_THRESHOLD_DAYS": "7",
        }
    )
    policy = client_policy(settings, backoff_base_s=1.0)
    assert (
        policy.page_size,
        policy.min_page_size,
        policy.timeout_s,
        policy.max_retries,
        policy.max_wait_s,
        policy.async_threshold_days,
        policy.backoff_base_s,
    ) == (10, 10, 30.0, 3, 120.0, 7, 1.0)


@pytest.mark.parametrize(
    ("level", "breakdowns", "windows"),
    [
        ("ad", ("age", "gender"), ()),
        ("adset", ("country",), ()),
        ("campaign", (), ("7d_click", "1d_view")),
        ("account", (), ()),
    ],
    ids=["ad-by-age-gender", "adset-by-country", "campaign-attribution-windows", "account-level"],
)
def test_insights_options_are_sent_as_the_api_expects(
    sim: Simulator,
    accounts: list[Account],
    make_client: ClientFactory,
    level: str,
    breakdowns: tuple[str, ...],
    windows: tuple[str, ...],
) -> None:
    account = accounts[0]
    client = make_client()
    since, until = lookback(client, account, 7)
    fields = (
        "account_id",
        f"{level}_id" if level != "account" else "account_name",
        "spend",
        "impressions",
        "actions",
        "date_start",
        "date_stop",
    )
    rows = all_rows(
        client.insights(
            account, since, until, level=level, fields=fields, breakdowns=breakdowns, action_attribution_windows=windows
        )
    )
    status_filter = (
        []
        if level == "account"
        else [{"field": f"{level}.effective_status", "operator": "IN", "value": list(ALL_EFFECTIVE_STATUSES[level])}]
    )
    expected = sim.ground_truth(
        account.id,
        since,
        until,
        level=level,
        fields=fields,
        breakdowns=breakdowns,
        action_attribution_windows=windows,
        filtering=status_filter or None,
    )
    assert rows
    assert rows == expected
    if breakdowns:
        assert all(b in rows[0] for b in breakdowns)
    if windows:
        assert any("7d_click" in a for r in rows for a in r.get("actions", []))  # type: ignore[union-attr]
