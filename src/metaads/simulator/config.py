"""The simulated world's shape (:class:`SimulatorConfig`) and what goes wrong in it (:class:`Faults`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Tier = Literal["development", "standard"]

#: Marketing API versions: calls below ``min_version`` get 2635 (v19.0 expired on 2025-02-04).
LATEST_VERSION = 27
MIN_VERSION = 24


@dataclass
class Faults:
    """Injected failures; all off by default. Mutable: change them while the simulator runs.

    Rates are probabilities per request. ``latency_s`` and ``slow_s`` are *real* seconds slept by the HTTP
    server adapter only (benchmarks need real latency; the in-process transport never sleeps, so unit
    tests on a fake clock stay instant).
    """

    error_500_rate: float = 0.0  # HTTP 500, code 1 / subcode 99, is_transient
    transient_code2_rate: float = 0.0  # HTTP 503, code 2, is_transient
    latency_s: float = 0.0  # added to every HTTP response (server adapter)
    slow_rate: float = 0.0  # share of responses delayed by ``slow_s`` more
    slow_s: float = 0.0
    async_fail_rate: float = 0.0  # report runs ending in "Job Failed"
    async_skip_rate: float = 0.0  # report runs ending in "Job Skipped"
    empty_page_rate: float = 0.0  # pages returned empty but still carrying ``next``
    batch_timeout_rate: float = 0.0  # batch operations answered with ``null``
    max_rows_per_response: int | None = None  # ``limit`` above this -> code 1, HTTP 500
    max_cells_per_response: int | None = None  # ``limit`` x fields above this -> code 1, HTTP 500
    deprecated_versions: set[str] = field(default_factory=set)  # e.g. {"v25.0"} -> 2635

    # ---- data faults, for reconciliation work (issue 10); see README "Graph API simulator"
    #: Share of ad-day rows silently missing from ad-, ad set- and campaign-level insights (the same ad-days
    #: on every call, and left out of the ad set / campaign sums); account-level answers stay complete.
    missing_rows_rate: float = 0.0
    #: Ad account ids (digits, ``act_`` optional) whose insights answers are ``{"data": []}`` whatever the range.
    empty_answer_accounts: set[str] = field(default_factory=set)
    #: Share of insights requests (a first page, or an async report run) answered ``{"data": []}``.
    empty_answer_rate: float = 0.0
    #: Ad account id (``act_`` optional) -> the account was created that many days before the anchor date:
    #: no insights rows at any level before that day, and ``created_time`` says so.
    account_created_days_ago: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SimulatorConfig:
    """The simulated world: its size and seed, quotas, async-job speed and initial faults."""

    seed: int = 1
    n_accounts: int = 10
    ads_per_account: int = 60
    tier: Tier = "standard"
    n_apps: int = 2
    tokens_per_app: int = 2
    #: Secret shared by the simulated apps; when set, a wrong ``appsecret_proof`` is rejected.
    app_secret: str | None = None
    #: When set together with ``app_secret``, calls without ``appsecret_proof`` are rejected too.
    require_appsecret_proof: bool = False
    #: The world's "creation day"; None = the clock's UTC date when the simulator starts.
    anchor_date: date | None = None

    # ---- rate limits (per app and ad account unless noted); see graph-api-spec.md "Rate limiting"
    quota_scale: float = 1.0  # multiplies every quota below (tests use tiny values)
    insights_calls_per_hour: int | None = None  # ads_insights BUC; None = tier formula
    management_calls_per_hour: int | None = None  # ads_management BUC; None = tier formula
    account_score_max: int | None = None  # None = 60 (development) / 9000 (standard)
    account_score_block_s: float | None = None  # None = 300 (development) / 60 (standard)
    account_score_window_s: float = 300.0
    account_limit_code: Literal[17, 613] = 17
    app_calls_per_hour: int = 200_000  # app-level (code 4), per app
    rate_window_s: float = 3600.0

    # ---- async report runs, on the simulator's clock
    async_base_s: float = 3.0
    async_s_per_1000_ad_days: float = 0.5

    # ---- data behaviour
    history_months: int = 37
    #: Figures of the last ``restatement_days`` local days change as the clock moves (attribution settles:
    #: young days are a little smaller and move every day); older days never change. 0 = no restatement.
    restatement_days: int = 28
    #: Size of restatement changes: 1.0 = about +-1 % on spend/impressions and up to -30 % on conversions
    #: for the newest day, shrinking linearly to 0 at ``restatement_days``; 0 = figures never change.
    restatement_scale: float = 1.0
    default_page_size: int = 25
    #: Real behaviour: act_/insights at ad/adset/campaign level omits ARCHIVED and DELETED objects unless
    #: the request filters on an ``*.effective_status`` (their spend still counts at account level).
    insights_hide_archived: bool = True
    #: Share of live campaigns, ad sets and ads (status ACTIVE) paused, archived or deleted once, at a fixed
    #: moment (from the id's hash) within ``status_change_days`` after the world's start (00:00 UTC the day
    #: after the anchor); see :mod:`metaads.simulator.lifecycle`. 0 = statuses never change.
    status_change_rate: float = 0.05
    status_change_days: int = 120
    #: Whether pausing a campaign or ad set moves its children's ``updated_time`` (their effective_status
    #: becomes CAMPAIGN_PAUSED / ADSET_PAUSED either way). Meta's behaviour is unverified; False: not written.
    pause_touches_children: bool = False
    min_version: int = MIN_VERSION
    latest_version: int = LATEST_VERSION
    max_batch: int = 50

    faults: Faults = field(default_factory=Faults)
