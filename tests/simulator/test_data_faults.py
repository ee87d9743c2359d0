"""Data faults for reconciliation work: missing ad-level rows, empty answers, restatement, young accounts.

Also the invariant they break: with no faults, account-level insights equal the sum of ad-level rows.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import typer

from metaads.cli.simulator_cmd import apply_account_faults
from metaads.clock import FakeClock
from metaads.simulator import ALL_STATUSES, Simulator, SimulatorConfig
from tests.simulator.conftest import follow, get, time_range

ADDITIVE = ("spend", "impressions", "clicks", "inline_link_clicks")
ALL_FILTER = [{"field": "ad.effective_status", "operator": "IN", "value": list(ALL_STATUSES)}]


def _by_day(rows: list[dict[str, Any]]) -> dict[str, dict[str, Decimal]]:
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(ADDITIVE, Decimal(0)))
    for row in rows:
        for name in ADDITIVE:
            totals[row["date_start"]][name] += Decimal(row[name])
    return dict(totals)


def _insights(client: httpx.Client, sim: Simulator, account: str, since: date, until: date, **params: Any) -> Any:
    return get(
        client,
        f"act_{account}/insights",
        sim.tokens[0],
        time_range=time_range(since, until),
        time_increment=1,
        fields=",".join(("ad_id", "campaign_id", *ADDITIVE)),
        **{"limit": 500, **params},
    )


def test_account_level_equals_sum_of_ad_rows_including_archived_and_deleted(
    sim: Simulator, client: httpx.Client
) -> None:
    for account in sim.account_ids:
        today = sim.account_today(account)
        since = today - timedelta(days=400)
        # Account level, no filtering at all: Meta never filters the account level by ad status.
        totals = follow(client, _insights(client, sim, account, since, today, level="account"))
        ads = follow(
            client, _insights(client, sim, account, since, today, level="ad", filtering=json.dumps(ALL_FILTER))
        )
        hidden = {a.id for a in sim.account(account).ads if a.effective_status in ("ARCHIVED", "DELETED")}
        assert any(row["ad_id"] in hidden and Decimal(row["spend"]) > 0 for row in ads), "archived spend counted"
        assert _by_day(totals) == _by_day(ads)


def test_missing_rows_fault_drops_ad_days_below_account_level_only(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account_ids[0]
    today = sim.account_today(account)
    since = today - timedelta(days=30)
    every = json.dumps(ALL_FILTER)
    fields = ["ad_id", "campaign_id", *ADDITIVE]
    complete = sim.ground_truth(account, since, today, fields=fields, filtering=ALL_FILTER)
    sim.faults.missing_rows_rate = 0.2
    ads = follow(client, _insights(client, sim, account, since, today, level="ad", filtering=every))
    again = follow(client, _insights(client, sim, account, since, today, level="ad", filtering=every))
    campaigns = follow(client, _insights(client, sim, account, since, today, level="campaign", filtering=every))
    totals = follow(client, _insights(client, sim, account, since, today, level="account"))
    assert ads == again, "the same ad-days are missing on every call"
    assert ads == sim.ground_truth(account, since, today, fields=fields, filtering=ALL_FILTER)
    assert 0.1 < 1 - len(ads) / len(complete) < 0.3
    assert {(r["ad_id"], r["date_start"]) for r in ads} < {(r["ad_id"], r["date_start"]) for r in complete}
    assert _by_day(campaigns) == _by_day(ads), "campaign rows are sums of what ad level shows"
    sim.faults.missing_rows_rate = 0.0
    assert _by_day(totals) == _by_day(follow(client, _insights(client, sim, account, since, today, level="account")))
    assert sum(Decimal(r["spend"]) for r in totals) > sum(Decimal(r["spend"]) for r in ads)
    assert sim.ground_truth(account, since, today, fields=fields, filtering=ALL_FILTER, apply_faults=False) == complete


def test_empty_answer_account_gets_no_rows_sync_and_async(
    sim: Simulator, client: httpx.Client, fake_clock: FakeClock
) -> None:
    broken, healthy = sim.account_ids[0], sim.account_ids[1]
    sim.faults.empty_answer_accounts.add(f"act_{broken}")  # with or without the prefix
    for account, expect_rows in ((broken, False), (healthy, True)):
        today = sim.account_today(account)
        since = today - timedelta(days=10)
        assert sim.ground_truth(account, since, today, level="account")
        body = _insights(client, sim, account, since, today, level="account").json()
        assert bool(body["data"]) is expect_rows
        job = client.post(
            f"/v25.0/act_{account}/insights",
            data={"access_token": sim.tokens[0], "level": "account", "time_range": time_range(since, today)},
        ).json()["report_run_id"]
        fake_clock.advance(3600)
        result = get(client, f"{job}/insights", sim.tokens[0]).json()
        assert bool(result["data"]) is expect_rows


def test_empty_answer_rate_empties_a_share_of_first_pages_only(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account_ids[0]
    today = sim.account_today(account)
    since = today - timedelta(days=10)
    sim.faults.empty_answer_rate = 0.5
    outcomes = Counter(
        bool(_insights(client, sim, account, since, today, level="account").json()["data"]) for _ in range(200)
    )
    assert 0.35 < outcomes[False] / 200 < 0.65
    first = _insights(client, sim, account, since, today, level="ad", limit=5)
    while not first.json()["data"]:
        first = _insights(client, sim, account, since, today, level="ad", limit=5)
    # Pages after the first are never emptied: a client reading an answer gets all of it.
    assert follow(client, first) == sim.ground_truth(account, since, today, fields=["ad_id", "campaign_id", *ADDITIVE])


@pytest.mark.parametrize(("days", "scale"), [(7, 1.0), (28, 0.0)], ids=["7-days", "scale-0"])
def test_restatement_window_and_size_are_configurable(fake_clock: FakeClock, days: int, scale: float) -> None:
    sim = Simulator(
        SimulatorConfig(seed=7, n_accounts=1, ads_per_account=40, restatement_days=days, restatement_scale=scale),
        clock=fake_clock,
    )
    account = sim.account_ids[0]
    today = sim.account_today(account)
    since, until = today - timedelta(days=20), today - timedelta(days=1)
    fields = ["ad_id", "spend", "impressions", "clicks", "actions"]
    before = {(r["ad_id"], r["date_start"]): r for r in sim.ground_truth(account, since, until, fields=fields)}
    fake_clock.advance(86400)
    after = {(r["ad_id"], r["date_start"]): r for r in sim.ground_truth(account, since, until, fields=fields)}
    changed = {key[1] for key in before if after[key] != before[key]}
    if scale == 0:
        assert not changed
    else:
        assert changed
        assert min(date.fromisoformat(d) for d in changed) >= sim.account_today(account) - timedelta(days=days)


def test_young_account_has_no_history_before_its_creation(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account_ids[1]
    anchor = sim.world.anchor
    sim.faults.account_created_days_ago[account] = 10
    today = sim.account_today(account)
    since = today - timedelta(days=60)
    first_day = (anchor - timedelta(days=10)).isoformat()
    for level in ("account", "campaign", "ad"):
        rows = follow(
            client, _insights(client, sim, account, since, today, level=level, filtering=json.dumps(ALL_FILTER))
        )
        assert rows
        assert min(r["date_start"] for r in rows) == first_day, level
    created = get(client, f"act_{account}", sim.tokens[0], fields="created_time").json()["created_time"]
    assert created.startswith(first_day)
    other = sim.account_ids[0]
    assert min(r["date_start"] for r in sim.ground_truth(other, since, today, level="account")) == since.isoformat()


@pytest.mark.parametrize(
    ("empty", "new", "expect_empty", "expect_new"),
    [
        (["1"], ["3:30"], [0], {2: 30}),
        (["act_{1}"], ["{0}:5"], [1], {0: 5}),
    ],
    ids=["positions", "ids"],
)
def test_cli_account_fault_options_select_accounts_by_position_or_id(
    sim: Simulator, empty: list[str], new: list[str], expect_empty: list[int], expect_new: dict[int, int]
) -> None:
    ids = sim.account_ids
    apply_account_faults(sim, [e.format(*ids) for e in empty], [n.format(*ids) for n in new])
    assert sim.faults.empty_answer_accounts == {ids[i] for i in expect_empty}
    assert sim.faults.account_created_days_ago == {ids[i]: d for i, d in expect_new.items()}


@pytest.mark.parametrize("bad", [["9:3"], ["1:x"], ["30"]], ids=["position", "days", "no-days"])
def test_cli_account_fault_options_reject_unknown_accounts(sim: Simulator, bad: list[str]) -> None:
    with pytest.raises(typer.BadParameter):
        apply_account_faults(sim, [], bad)
