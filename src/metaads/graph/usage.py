"""Rate-limit usage headers: parse the four headers Meta sends into one :class:`Usage` value.

Values are percentages of a quota (throttling starts at 100). See ``graph-api-spec.md`` "Rate limiting"
and https://developers.facebook.com/docs/graph-api/overview/rate-limiting/.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import orjson

logger = logging.getLogger(__name__)

APP_USAGE = "x-app-usage"
AD_ACCOUNT_USAGE = "x-ad-account-usage"
BUSINESS_USE_CASE_USAGE = "x-business-use-case-usage"
INSIGHTS_THROTTLE = "x-fb-ads-insights-throttle"
USAGE_HEADERS = (APP_USAGE, AD_ACCOUNT_USAGE, BUSINESS_USE_CASE_USAGE, INSIGHTS_THROTTLE)


@dataclass(frozen=True)
class BusinessUseCaseUsage:
    """One entry of ``X-Business-Use-Case-Usage`` (per business or ad account and use-case type)."""

    owner_id: str
    type: str
    call_count: float
    total_cputime: float
    total_time: float
    # Meta sends this in *minutes*.
    estimated_time_to_regain_access_min: float
    access_tier: str | None = None

    @property
    def pct(self) -> float:
        return max(self.call_count, self.total_cputime, self.total_time)

    @property
    def regain_s(self) -> float:
        return self.estimated_time_to_regain_access_min * 60.0


@dataclass(frozen=True)
class Usage:
    """What one response's headers say about quota usage; ``None`` where a header was absent."""

    app_call_count: float | None = None
    app_total_time: float | None = None
    app_total_cputime: float | None = None
    account_pct: float | None = None
    # Seconds until the ad-account usage resets to zero (``reset_time_duration``).
    account_reset_s: float | None = None
    business: tuple[BusinessUseCaseUsage, ...] = ()
    insights_app_pct: float | None = None
    insights_account_pct: float | None = None
    access_tier: str | None = None

    @property
    def app_pct(self) -> float | None:
        """Highest app-level usage (``X-App-Usage`` and the insights throttle's app share)."""
        return _max(self.app_call_count, self.app_total_time, self.app_total_cputime, self.insights_app_pct)

    @property
    def account_level_pct(self) -> float | None:
        """Highest usage of any quota tied to the ad account (account score, BUC, insights throttle)."""
        return _max(self.account_pct, self.insights_account_pct, *(b.pct for b in self.business))

    def regain_s(self, use_case: str | None = None) -> float | None:
        """Seconds until access returns per ``X-Business-Use-Case-Usage`` (``use_case`` entries first)."""
        entries = [b for b in self.business if use_case is None or b.type == use_case] or list(self.business)
        waits = [b.regain_s for b in entries if b.regain_s > 0]
        return max(waits) if waits else None

    @property
    def is_empty(self) -> bool:
        return self == Usage()


def parse_usage(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> Usage:
    """Parse the usage headers of a response; malformed headers are logged and ignored."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    found = {name.lower(): value for name, value in items if name.lower() in USAGE_HEADERS}
    values: dict[str, object] = {}
    tiers: list[str] = []
    app = _json_object(found, APP_USAGE)
    if app is not None:
        values["app_call_count"] = _num(app.get("call_count"))
        values["app_total_time"] = _num(app.get("total_time"))
        values["app_total_cputime"] = _num(app.get("total_cputime"))
    account = _json_object(found, AD_ACCOUNT_USAGE)
    if account is not None:
        values["account_pct"] = _num(account.get("acc_id_util_pct"))
        values["account_reset_s"] = _num(account.get("reset_time_duration"))
        tiers.append(str(account.get("ads_api_access_tier") or ""))
    throttle = _json_object(found, INSIGHTS_THROTTLE)
    if throttle is not None:
        values["insights_app_pct"] = _num(throttle.get("app_id_util_pct"))
        values["insights_account_pct"] = _num(throttle.get("acc_id_util_pct"))
        tiers.append(str(throttle.get("ads_api_access_tier") or ""))
    business = _json_object(found, BUSINESS_USE_CASE_USAGE)
    if business is not None:
        entries = tuple(_business_entries(business))
        values["business"] = entries
        tiers.extend(e.access_tier or "" for e in entries)
    tier = next((t for t in tiers if t), None)
    return Usage(access_tier=tier, **values)  # type: ignore[arg-type]


def _business_entries(payload: Mapping[str, object]) -> Iterable[BusinessUseCaseUsage]:
    for owner_id, entries in payload.items():
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            yield BusinessUseCaseUsage(
                owner_id=str(owner_id),
                type=str(entry.get("type") or "unknown"),
                call_count=_num(entry.get("call_count")) or 0.0,
                total_cputime=_num(entry.get("total_cputime")) or 0.0,
                total_time=_num(entry.get("total_time")) or 0.0,
                estimated_time_to_regain_access_min=_num(entry.get("estimated_time_to_regain_access")) or 0.0,
                access_tier=str(entry["ads_api_access_tier"]) if entry.get("ads_api_access_tier") else None,
            )


def _json_object(found: Mapping[str, str], name: str) -> dict[str, object] | None:
    raw = found.get(name)
    if raw is None:
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        logger.debug("ignoring malformed %s header: %.200s", name, raw)
        return None
    if not isinstance(value, dict):
        logger.debug("ignoring %s header that is not a JSON object", name)
        return None
    return value


def _num(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _max(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None
