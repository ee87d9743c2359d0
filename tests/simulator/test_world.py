"""The synthetic world: deterministic from the seed, varied where real accounts vary."""

from __future__ import annotations

import unicodedata
from collections import Counter
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from metaads.clock import FakeClock
from metaads.config.accounts import parse_accounts
from metaads.simulator import Simulator, SimulatorConfig
from metaads.simulator.world import graph_time


def _snapshot(sim: Simulator) -> tuple[object, ...]:
    account = sim.account_ids[0]
    today = sim.account_today(account)
    rows = sim.ground_truth(account, today - timedelta(days=10), today, fields=["ad_id", "spend", "actions"])
    return (sim.account_ids, sim.tokens, sim.world.accounts, rows)


def test_same_seed_builds_the_same_world_tokens_and_figures() -> None:
    first = Simulator(SimulatorConfig(seed=11, n_accounts=4, ads_per_account=30), clock=FakeClock())
    second = Simulator(SimulatorConfig(seed=11, n_accounts=4, ads_per_account=30), clock=FakeClock())
    assert _snapshot(first) == _snapshot(second)


def test_another_seed_builds_another_world() -> None:
    first = Simulator(SimulatorConfig(seed=11, n_accounts=4, ads_per_account=30), clock=FakeClock())
    other = Simulator(SimulatorConfig(seed=12, n_accounts=4, ads_per_account=30), clock=FakeClock())
    assert set(first.account_ids).isdisjoint(other.account_ids)
    assert set(first.tokens).isdisjoint(other.tokens)


def test_an_account_is_the_same_whatever_the_number_of_accounts() -> None:
    small = Simulator(SimulatorConfig(seed=5, n_accounts=2, ads_per_account=20), clock=FakeClock())
    large = Simulator(SimulatorConfig(seed=5, n_accounts=6, ads_per_account=20), clock=FakeClock())
    assert large.account_ids[:2] == small.account_ids
    assert large.world.accounts[1].ads == small.world.accounts[1].ads


def test_world_has_exactly_the_configured_accounts_and_ads() -> None:
    sim = Simulator(SimulatorConfig(seed=2, n_accounts=5, ads_per_account=37), clock=FakeClock())
    assert len(sim.account_ids) == len(set(sim.account_ids)) == 5
    assert all(account_id.isdigit() for account_id in sim.account_ids)
    assert [len(account.ads) for account in sim.world.accounts] == [37] * 5


def test_world_mixes_currencies_time_zones_and_statuses() -> None:
    sim = Simulator(SimulatorConfig(seed=3, n_accounts=12, ads_per_account=80), clock=FakeClock())
    currencies = {sim.account_currency(a) for a in sim.account_ids}
    assert {"USD", "EUR", "JPY"} <= currencies  # JPY: a zero-decimal currency
    assert len({sim.account_timezone(a) for a in sim.account_ids}) >= 8
    assert len({account.account_status for account in sim.world.accounts}) >= 2
    ad_statuses = Counter(ad.effective_status for account in sim.world.accounts for ad in account.ads)
    assert {"ACTIVE", "PAUSED", "ARCHIVED", "DELETED"} <= set(ad_statuses)
    assert ad_statuses["ACTIVE"] > sum(ad_statuses.values()) * 0.2
    campaign_statuses = {c.status for account in sim.world.accounts for c in account.campaigns}
    assert campaign_statuses == {"ACTIVE", "PAUSED", "ARCHIVED", "DELETED"}


def test_names_include_emoji_arabic_and_cjk() -> None:
    sim = Simulator(SimulatorConfig(seed=1, n_accounts=10, ads_per_account=60), clock=FakeClock())
    text = "".join(
        [a.name for a in sim.world.accounts]
        + [c.name for a in sim.world.accounts for c in a.campaigns]
        + [s.name for a in sim.world.accounts for s in a.adsets]
        + [d.name for a in sim.world.accounts for d in a.ads]
    )
    scripts = {unicodedata.name(ch, "").split(" ")[0] for ch in text if ord(ch) > 0x7F}
    assert "ARABIC" in scripts
    assert "CJK" in scripts
    assert any(0x1F300 <= ord(ch) <= 0x1FAFF for ch in text)  # emoji


def test_tokens_belong_to_at_least_two_apps() -> None:
    sim = Simulator(SimulatorConfig(seed=1), clock=FakeClock())
    apps = {sim.token_app(token) for token in sim.tokens}
    assert len(apps) >= 2
    assert sim.token_app(sim.tokens[0]) != sim.token_app(sim.tokens[1])


def test_meta_accounts_env_is_valid_configuration_for_metaads() -> None:
    sim = Simulator(SimulatorConfig(seed=1, n_accounts=10), clock=FakeClock())
    accounts = parse_accounts(sim.meta_accounts_env())
    assert [a.id for a in accounts] == sim.account_ids
    assert [a.table for a in accounts] == [f"bm_{i:02d}" for i in range(1, 11)]
    assert all(a.label for a in accounts)


def test_one_instant_is_written_with_each_time_zones_own_offset() -> None:
    """Aware datetimes of one instant compare equal whatever their zone; the written time must not mix them up."""
    instant = datetime(2026, 3, 12, 22, 2, 47, tzinfo=timezone.utc)
    assert graph_time(instant) == "2026-03-12T22:02:47+0000"
    assert graph_time(instant.astimezone(ZoneInfo("America/Los_Angeles"))) == "2026-03-12T15:02:47-0700"
    assert graph_time(instant.astimezone(ZoneInfo("Asia/Kolkata"))) == "2026-03-13T03:32:47+0530"
