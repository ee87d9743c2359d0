"""Rate limits from Meta's real quotas, per (app, ad account) over rolling windows.

- app level: calls per app per hour -> code 4 (``X-App-Usage``);
- ad-account score: 1 point per read over ``account_score_window_s``; above the maximum the pair is
  blocked for ``account_score_block_s`` -> 17/2446079 or 613/1487742 (``X-Ad-Account-Usage``);
- business use case: ``ads_insights`` (``600|190000 + 400 x active ads`` per hour) -> 80000/2446079 and
  ``ads_management`` (``300|100000 + 40 x active ads``) -> 80004/2446079 (``X-Business-Use-Case-Usage``,
  ``estimated_time_to_regain_access`` in minutes).

Rejected calls are not counted (so waiting what the headers say always clears the limit). Time is the
simulator clock's, in POSIX seconds.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

import orjson

from metaads.simulator import errors
from metaads.simulator.config import SimulatorConfig

INSIGHTS = "ads_insights"
MANAGEMENT = "ads_management"


@dataclass(frozen=True)
class Quotas:
    insights: int
    management: int
    score_max: int
    block_s: float
    app: int


def quotas(config: SimulatorConfig, active_ads: int) -> Quotas:
    """The quotas of one (app, account) pair under ``config``'s tier and scale."""
    dev = config.tier == "development"
    scale = config.quota_scale

    def scaled(value: float) -> int:
        return max(1, int(value * scale))

    insights = config.insights_calls_per_hour
    if insights is None:
        insights = (600 if dev else 190_000) + 400 * active_ads
    management = config.management_calls_per_hour
    if management is None:
        management = (300 if dev else 100_000) + 40 * active_ads
    score_max = config.account_score_max if config.account_score_max is not None else (60 if dev else 9000)
    block_s = config.account_score_block_s if config.account_score_block_s is not None else (300.0 if dev else 60.0)
    return Quotas(
        insights=scaled(insights),
        management=scaled(management),
        score_max=scaled(score_max),
        block_s=block_s,
        app=scaled(config.app_calls_per_hour),
    )


def _prune(window: deque[float], horizon: float) -> None:
    while window and window[0] <= horizon:
        window.popleft()


class RateLimiter:
    """Thread-safe call accounting and throttling decisions."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._app: dict[str, deque[float]] = {}
        self._score: dict[tuple[str, str], deque[float]] = {}
        self._blocked: dict[tuple[str, str], float] = {}
        self._over: set[tuple[str, str]] = set()
        self._buc: dict[tuple[str, str, str], deque[float]] = {}

    @property
    def tier_name(self) -> str:
        return "development_access" if self._config.tier == "development" else "standard_access"

    def admit(self, app_id: str, account_id: str | None, use_case: str | None, active_ads: int, now: float) -> None:
        """Count a call, or raise the throttling error it would get."""
        cfg = self._config
        q = quotas(cfg, active_ads)
        with self._lock:
            app_calls = self._app.setdefault(app_id, deque())
            _prune(app_calls, now - cfg.rate_window_s)
            if len(app_calls) >= q.app:
                raise errors.app_limit()
            if account_id is not None:
                pair = (app_id, account_id)
                score = self._score.setdefault(pair, deque())
                _prune(score, now - cfg.account_score_window_s)
                if self._blocked.get(pair, 0.0) > now:
                    raise errors.account_score_limit(cfg.account_limit_code)
                if len(score) + 1 > q.score_max:
                    # A block starts when the score crosses the maximum; calls refused while the score
                    # is still full do not start another one (the headers' wait stays true).
                    if pair not in self._over:
                        self._over.add(pair)
                        self._blocked[pair] = now + q.block_s
                    raise errors.account_score_limit(cfg.account_limit_code)
                self._over.discard(pair)
                if use_case is not None:
                    buc = self._buc.setdefault((app_id, account_id, use_case), deque())
                    _prune(buc, now - cfg.rate_window_s)
                    if len(buc) >= (q.insights if use_case == INSIGHTS else q.management):
                        raise errors.business_use_case_limit(use_case)
                    buc.append(now)
                score.append(now)
            app_calls.append(now)

    def headers(self, app_id: str, account_id: str | None, active_ads: int, now: float) -> dict[str, str]:
        """The four usage headers for a response to ``app_id`` about ``account_id``."""
        cfg = self._config
        q = quotas(cfg, active_ads)
        tier = self.tier_name
        with self._lock:
            app_calls = self._app.get(app_id, deque())
            _prune(app_calls, now - cfg.rate_window_s)
            app_pct = 100.0 * len(app_calls) / q.app
            acc_pct = 0.0
            reset_s = 0
            buc_entries = []
            insights_pct = 0.0
            if account_id is not None:
                pair = (app_id, account_id)
                score = self._score.get(pair, deque())
                _prune(score, now - cfg.account_score_window_s)
                acc_pct = 100.0 * len(score) / q.score_max
                reset_s = self._reset_seconds(pair, score, q, now)
                for use_case, quota in ((INSIGHTS, q.insights), (MANAGEMENT, q.management)):
                    calls = self._buc.get((app_id, account_id, use_case), deque())
                    _prune(calls, now - cfg.rate_window_s)
                    pct = 100.0 * len(calls) / quota
                    if use_case == INSIGHTS:
                        insights_pct = pct
                    regain = 0
                    if len(calls) >= quota:
                        frees_at = calls[len(calls) - quota] + cfg.rate_window_s
                        regain = max(1, math.ceil((frees_at - now) / 60.0))
                    buc_entries.append(
                        {
                            "type": use_case,
                            "call_count": int(pct),
                            "total_cputime": int(pct * 0.5),
                            "total_time": int(pct * 0.6),
                            "estimated_time_to_regain_access": regain,
                            "ads_api_access_tier": tier,
                        }
                    )
        return {
            "X-App-Usage": _dumps(
                {
                    "call_count": int(app_pct),
                    "total_cputime": int(app_pct * 0.5),
                    "total_time": int(app_pct * 0.6),
                }
            ),
            "X-Ad-Account-Usage": _dumps(
                {
                    "acc_id_util_pct": round(acc_pct, 2),
                    "reset_time_duration": reset_s,
                    "ads_api_access_tier": tier,
                }
            ),
            "X-Business-Use-Case-Usage": _dumps({account_id: buc_entries} if account_id else {}),
            "X-FB-Ads-Insights-Throttle": _dumps(
                {
                    "app_id_util_pct": round(app_pct, 2),
                    "acc_id_util_pct": round(insights_pct, 2),
                    "ads_api_access_tier": tier,
                }
            ),
        }

    def _reset_seconds(self, pair: tuple[str, str], score: deque[float], q: Quotas, now: float) -> int:
        # Throttled: seconds until calls are accepted again. Otherwise: until the score decays to 0.
        window = self._config.account_score_window_s
        blocked_until = self._blocked.get(pair, 0.0)
        if blocked_until > now or len(score) >= q.score_max:
            frees_at = score[len(score) - q.score_max] + window if len(score) >= q.score_max else now
            return max(1, math.ceil(max(blocked_until, frees_at) - now))
        return math.ceil(score[-1] + window - now) if score else 0


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()
