"""The synthetic world: businesses, ad accounts, campaigns, ad sets and ads, built from a seed.

Only the *objects* are materialised here (a few thousand small records); daily figures are generated
lazily from each ad's parameters by :mod:`metaads.simulator.metrics`. Dates are local to each account
(day ordinals, ``date.toordinal()``); the world is laid out backwards from ``anchor`` (the day the
simulator was started), so active ads keep delivering whatever the clock says later, except the few
objects :mod:`metaads.simulator.lifecycle` pauses, archives or deletes after the world's start.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from metaads.simulator import names
from metaads.simulator.config import SimulatorConfig
from metaads.simulator.lifecycle import ARCHIVED_STATES, StatusChange, change_times, plan_changes

#: (currency, minor-unit exponent, time zone, typical CPM and order value in major units)
_PROFILES: tuple[tuple[str, int, str, float, float], ...] = (
    ("USD", 2, "America/Los_Angeles", 9.0, 60.0),
    ("EUR", 2, "Europe/Paris", 7.0, 55.0),
    ("JPY", 0, "Asia/Tokyo", 1100.0, 6500.0),
    ("GBP", 2, "Europe/London", 6.0, 45.0),
    ("BRL", 2, "America/Sao_Paulo", 18.0, 250.0),
    ("INR", 2, "Asia/Kolkata", 110.0, 2500.0),
    ("AUD", 2, "Australia/Sydney", 11.0, 90.0),
    ("USD", 2, "America/New_York", 10.0, 70.0),
    ("KRW", 0, "Asia/Seoul", 9000.0, 70000.0),
    ("NZD", 2, "Pacific/Auckland", 12.0, 95.0),
    ("AED", 2, "Asia/Dubai", 25.0, 220.0),
    ("EUR", 2, "Europe/Berlin", 7.0, 50.0),
)
# 1 ACTIVE, 2 DISABLED, 3 UNSETTLED, 9 IN_GRACE_PERIOD: mostly active, a few others.
_ACCOUNT_STATUSES = (1, 1, 1, 1, 1, 1, 3, 1, 9, 2)

AD_STATUSES = (
    "ACTIVE",
    "PAUSED",
    "ADSET_PAUSED",
    "CAMPAIGN_PAUSED",
    "ARCHIVED",
    "DELETED",
    "DISAPPROVED",
    "PENDING_REVIEW",
    "WITH_ISSUES",
    "IN_PROCESS",
    "PREAPPROVED",
    "PENDING_BILLING_INFO",
)

_HISTORY_DAYS = 1150  # a little more than 37 months, so the limit is reachable


@dataclass(frozen=True, slots=True)
class Business:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    account_id: str
    name: str
    objective: str
    status: str
    effective_status: str
    created_time: datetime
    start_time: datetime
    stop_time: datetime | None
    updated_time: datetime
    daily_budget: int | None
    lifetime_budget: int | None
    changes: tuple[StatusChange, ...] = ()  # status changes after the world's start (lifecycle)


@dataclass(frozen=True, slots=True)
class AdSet:
    id: str
    account_id: str
    campaign_id: str
    name: str
    status: str
    effective_status: str
    created_time: datetime
    start_time: datetime
    end_time: datetime | None
    updated_time: datetime
    daily_budget: int | None
    optimization_goal: str
    changes: tuple[StatusChange, ...] = ()


@dataclass(frozen=True, slots=True)
class Ad:
    """An ad and the parameters its daily figures are drawn from."""

    id: str
    account_id: str
    campaign_id: str
    adset_id: str
    name: str
    status: str
    effective_status: str
    created_time: datetime
    updated_time: datetime
    first_day: int  # local day ordinal of the first possible delivery
    last_day: int | None  # None: still delivering
    seed: int
    p_deliver: float
    base_impressions: float
    ctr: float
    link_share: float
    cpm_minor: float
    conversion_rate: float
    order_value_minor: float
    video: bool
    has_actions: bool
    changes: tuple[StatusChange, ...] = ()  # last_day already stops at the first one


@dataclass(frozen=True, slots=True)
class AdAccount:
    id: str  # digits only
    name: str
    currency: str
    exponent: int  # 2 for cents, 0 for JPY/KRW
    timezone_name: str
    account_status: int
    business: Business
    created_time: datetime
    campaigns: tuple[Campaign, ...]
    adsets: tuple[AdSet, ...]
    ads: tuple[Ad, ...]  # ordered by id
    status_change_times: tuple[datetime, ...] = ()  # every StatusChange.at of its objects, sorted

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone_name)

    @property
    def active_ads(self) -> int:
        return sum(1 for ad in self.ads if ad.effective_status == "ACTIVE")


@dataclass(frozen=True)
class World:
    anchor: date
    businesses: tuple[Business, ...]
    accounts: tuple[AdAccount, ...]
    by_id: Mapping[str, AdAccount]

    def account(self, account_id: str) -> AdAccount | None:
        return self.by_id.get(account_id)

    @property
    def start(self) -> datetime:
        """The world's start: 00:00 UTC the day after the anchor (status changes only happen later)."""
        return world_start(self.anchor)


def world_start(anchor: date) -> datetime:
    """00:00 UTC the day after ``anchor``: after any moment of the anchor day, the simulator's creation."""
    return datetime.combine(anchor + timedelta(days=1), time(0), timezone.utc)


class _Ids:
    """Object ids in creation order, unique in the world, 17-18 digits like Meta's."""

    def __init__(self, rng: random.Random, prefix: str) -> None:
        self._rng = rng
        self._prefix = prefix
        self._n = rng.randrange(10**6, 10**7)

    def next(self) -> str:
        self._n += self._rng.randrange(1, 997)
        return f"{self._prefix}{self._n:010d}"


def build_world(config: SimulatorConfig, anchor: date) -> World:
    """The deterministic world of ``config.seed`` laid out backwards from ``anchor``."""
    rng = random.Random(f"metaads-world-{config.seed}")
    n_businesses = max(1, (config.n_accounts + 3) // 4)
    businesses = tuple(
        Business(id=str(rng.randrange(10**14, 10**15)), name=names.BUSINESSES[i % len(names.BUSINESSES)])
        for i in range(n_businesses)
    )
    account_ids: set[str] = set()
    accounts = []
    for index in range(config.n_accounts):
        # One random stream per account: account i is the same whatever the number of accounts.
        account_rng = random.Random(f"metaads-world-{config.seed}-account-{index}")
        account_id = str(account_rng.randrange(10**9, 10**16))
        while account_id in account_ids:
            account_id = str(account_rng.randrange(10**9, 10**16))
        account_ids.add(account_id)
        accounts.append(
            _build_account(config, account_rng, index, account_id, businesses[index % n_businesses], anchor)
        )
    return World(
        anchor=anchor,
        businesses=businesses,
        accounts=tuple(accounts),
        by_id={account.id: account for account in accounts},
    )


def _build_account(
    config: SimulatorConfig, rng: random.Random, index: int, account_id: str, business: Business, anchor: date
) -> AdAccount:
    currency, exponent, tz_name, cpm_major, aov_major = _PROFILES[index % len(_PROFILES)]
    zone = ZoneInfo(tz_name)
    label = names.ACCOUNTS[(index + config.seed) % len(names.ACCOUNTS)]
    name = label if index < len(names.ACCOUNTS) else f"{label} {index + 1}"
    minor = 10**exponent
    prefix = f"238{config.seed % 10}{index % 100:02d}"
    ids = _Ids(rng, prefix)
    account_created = _local_time(rng, anchor - timedelta(days=_HISTORY_DAYS + rng.randrange(30, 400)), zone)

    campaigns: list[Campaign] = []
    adsets: list[AdSet] = []
    ads: list[Ad] = []
    ad_number = 0
    live_ads = 0
    while ad_number < config.ads_per_account:
        # Keep about 60 % of the ads in live campaigns, so every account has recent delivery.
        if live_ads < 0.6 * ad_number or ad_number == 0:
            status = "ACTIVE"
        else:
            status = rng.choices(("ACTIVE", "PAUSED", "ARCHIVED", "DELETED"), (25, 30, 25, 20))[0]
        first_ad = ad_number
        if status == "ACTIVE":
            start = anchor.toordinal() - int(rng.triangular(1, 700, 20))
            stop = None
        else:
            start = anchor.toordinal() - rng.randrange(30 if status == "PAUSED" else 60, _HISTORY_DAYS)
            stop = min(start + rng.randrange(3, 200), anchor.toordinal() - 1)
        objective = rng.choices(names.OBJECTIVES, names.OBJECTIVE_WEIGHTS)[0]
        created = _local_time(rng, date.fromordinal(start - rng.randrange(0, 4)), zone)
        campaign_id = ids.next()
        cbo = rng.random() < 0.4
        campaign_effective = status
        if status == "ACTIVE" and rng.random() < 0.04:
            campaign_effective = rng.choice(("WITH_ISSUES", "IN_PROCESS"))
        campaigns.append(
            Campaign(
                id=campaign_id,
                account_id=account_id,
                name=names.campaign_name(rng, date.fromordinal(start).year),
                objective=objective,
                status=status,
                effective_status=campaign_effective,
                created_time=created,
                start_time=_local_time(rng, date.fromordinal(start), zone),
                stop_time=None if stop is None else _local_time(rng, date.fromordinal(stop), zone),
                updated_time=_local_time(rng, date.fromordinal(stop or anchor.toordinal() - 1), zone),
                daily_budget=round(rng.choice((50, 100, 200, 500, 1000)) * cpm_major / 9) * minor if cbo else None,
                lifetime_budget=None if cbo or rng.random() < 0.7 else rng.randrange(1000, 20000) * minor,
            )
        )
        for _ in range(rng.randrange(1, 5)):
            if ad_number >= config.ads_per_account:
                break
            adset_status, adset_effective, adset_stop = _child_status(rng, status, stop, start, anchor)
            adset_id = ids.next()
            adsets.append(
                AdSet(
                    id=adset_id,
                    account_id=account_id,
                    campaign_id=campaign_id,
                    name=names.adset_name(rng),
                    status=adset_status,
                    effective_status=adset_effective,
                    created_time=created,
                    start_time=_local_time(rng, date.fromordinal(start), zone),
                    end_time=None if adset_stop is None else _local_time(rng, date.fromordinal(adset_stop), zone),
                    updated_time=created,
                    daily_budget=None if cbo else round(rng.choice((10, 20, 50, 100)) * cpm_major / 9) * minor,
                    optimization_goal=_OPTIMIZATION_GOALS[objective],
                )
            )
            for _ in range(rng.randrange(1, 7)):
                if ad_number >= config.ads_per_account:
                    break
                ad_number += 1
                ads.append(
                    _build_ad(
                        rng,
                        ids.next(),
                        account_id,
                        campaign_id,
                        adset_id,
                        ad_number,
                        objective,
                        adset_status,
                        adset_effective,
                        start,
                        adset_stop,
                        anchor,
                        zone,
                        cpm_major * minor,
                        aov_major * minor,
                    )
                )
        if status == "ACTIVE":
            live_ads += ad_number - first_ad
    campaigns, adsets, ads = plan_changes(
        campaigns,
        adsets,
        ads,
        seed=config.seed,
        start=world_start(anchor),
        days=config.status_change_days,
        rate=config.status_change_rate,
        zone=zone,
        pause_touches_children=config.pause_touches_children,
    )
    return AdAccount(
        id=account_id,
        name=name,
        currency=currency,
        exponent=exponent,
        timezone_name=tz_name,
        account_status=_ACCOUNT_STATUSES[index % len(_ACCOUNT_STATUSES)],
        business=business,
        created_time=account_created,
        campaigns=tuple(campaigns),
        adsets=tuple(adsets),
        ads=tuple(sorted(ads, key=lambda ad: int(ad.id))),
        status_change_times=change_times([*campaigns, *adsets, *ads]),
    )


_OPTIMIZATION_GOALS = {
    "OUTCOME_TRAFFIC": "LINK_CLICKS",
    "OUTCOME_SALES": "OFFSITE_CONVERSIONS",
    "OUTCOME_AWARENESS": "REACH",
    "OUTCOME_ENGAGEMENT": "POST_ENGAGEMENT",
    "OUTCOME_LEADS": "LEAD_GENERATION",
    "OUTCOME_APP_PROMOTION": "APP_INSTALLS",
}


def _child_status(
    rng: random.Random, parent: str, parent_stop: int | None, start: int, anchor: date
) -> tuple[str, str, int | None]:
    """(status, effective_status, last delivery day) of a child of a ``parent``-status object."""
    if parent in ARCHIVED_STATES:
        return parent, parent, parent_stop
    if parent == "PAUSED":
        own = rng.choice(("ACTIVE", "PAUSED"))
        return own, "CAMPAIGN_PAUSED" if own == "ACTIVE" else "PAUSED", parent_stop
    draw = rng.random()
    if draw < 0.8:
        return "ACTIVE", "ACTIVE", parent_stop
    stop = min(start + rng.randrange(1, max(2, anchor.toordinal() - start)), anchor.toordinal() - 1)
    if draw < 0.93:
        return "PAUSED", "PAUSED", max(start, stop)
    status = rng.choice(("ARCHIVED", "DELETED"))
    return status, status, max(start, stop)


def _build_ad(
    rng: random.Random,
    ad_id: str,
    account_id: str,
    campaign_id: str,
    adset_id: str,
    number: int,
    objective: str,
    adset_status: str,
    adset_effective: str,
    start: int,
    adset_stop: int | None,
    anchor: date,
    zone: ZoneInfo,
    cpm_minor: float,
    aov_minor: float,
) -> Ad:
    first = start + rng.randrange(0, 3)
    last = adset_stop
    if adset_effective == "ACTIVE":
        status, effective, last = _ad_status(rng, first, anchor)
    elif adset_effective == "PAUSED":
        status, effective = "ACTIVE", "ADSET_PAUSED"
    elif adset_effective == "CAMPAIGN_PAUSED":
        status, effective = "ACTIVE", "CAMPAIGN_PAUSED"
    else:
        status, effective = adset_status, adset_effective
    if last is not None and last < first:
        last = first
    if effective == "PENDING_REVIEW":
        first = anchor.toordinal() + 1  # not approved yet: no delivery
    created = _local_time(rng, date.fromordinal(min(first, anchor.toordinal())), zone)
    sales = objective in ("OUTCOME_SALES", "OUTCOME_LEADS", "OUTCOME_APP_PROMOTION")
    return Ad(
        id=ad_id,
        account_id=account_id,
        campaign_id=campaign_id,
        adset_id=adset_id,
        name=names.ad_name(rng, number),
        status=status,
        effective_status=effective,
        created_time=created,
        updated_time=created,
        first_day=first,
        last_day=last,
        seed=rng.getrandbits(62),
        p_deliver=rng.uniform(0.7, 0.99),
        # Heavy-tailed: most ads are small, a few carry the account.
        base_impressions=min(200_000.0, rng.lognormvariate(6.3, 1.2)),
        ctr=rng.uniform(0.004, 0.03),
        link_share=rng.uniform(0.55, 0.95),
        cpm_minor=cpm_minor * rng.lognormvariate(0.0, 0.35),
        conversion_rate=rng.uniform(0.01, 0.06) if sales else rng.uniform(0.0, 0.004),
        order_value_minor=aov_minor * rng.lognormvariate(0.0, 0.4),
        video=rng.random() < 0.4,
        has_actions=rng.random() > 0.08,
    )


def _ad_status(rng: random.Random, first: int, anchor: date) -> tuple[str, str, int | None]:
    draw = rng.random()
    if draw < 0.76:
        return "ACTIVE", "ACTIVE", None
    last = max(first, min(first + rng.randrange(1, 120), anchor.toordinal() - 1))
    if draw < 0.88:
        return "PAUSED", "PAUSED", last
    if draw < 0.93:
        return "ARCHIVED", "ARCHIVED", last
    if draw < 0.96:
        return "DELETED", "DELETED", last
    if draw < 0.98:
        return "ACTIVE", "DISAPPROVED", last
    return "ACTIVE", "PENDING_REVIEW", None


def _local_time(rng: random.Random, day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(rng.randrange(7, 20), rng.randrange(60), rng.randrange(60)), zone)


def graph_time(moment: datetime) -> str:
    """Meta's timestamp format: ``2024-03-12T15:02:47-0700``."""
    # Aware datetimes compare equal across time zones: the offset is part of the key.
    return _graph_time(moment, moment.utcoffset())


@lru_cache(maxsize=16384)  # the rows of an ad set's ads repeat its start time; strftime with %z is slow
def _graph_time(moment: datetime, offset: timedelta | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")
