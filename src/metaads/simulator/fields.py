"""Insights field values: every field of the SDK's ``AdsInsights.Field`` list, computed from a row's figures.

Counts and money are exact sums of the ad-level figures (so breakdown rows and higher levels add up);
rates (``ctr``, ``cpm``, ``frequency``, ...) and unique counts (``reach``, ``unique_clicks``) are computed
per row and do not add up, as on Meta. Fields that do not apply to the simulated ads (messaging, catalog,
SKAdNetwork, ...) are left out of the row, as the API leaves out absent metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from metaads.simulator import catalog
from metaads.simulator.action_breakdowns import action_entries, hash_text
from metaads.simulator.metrics import (
    ACTIONS,
    CLICKS,
    CONVERSION_TYPES,
    IMPRESSIONS,
    INLINE,
    OUTBOUND,
    REACH,
    SPEND,
    VALUES,
    Record,
    action_total,
    mix,
    money,
    ratio,
    tenths,
)

INSIGHTS_FIELDS = catalog.INSIGHTS_FIELDS
_RANKINGS = ("ABOVE_AVERAGE", "AVERAGE", "BELOW_AVERAGE_35", "BELOW_AVERAGE_20", "BELOW_AVERAGE_10")
_PURCHASE = "omni_purchase"
#: Video action lists: share of ``video_view`` (3-second views) each one counts.
_VIDEO_SHARES = {
    "video_play_actions": 1.35,
    "video_continuous_2_sec_watched_actions": 0.8,
    "unique_video_continuous_2_sec_watched_actions": 0.7,
    "video_6_sec_watched_actions": 0.55,
    "video_15_sec_watched_actions": 0.3,
    "unique_video_view_15_sec": 0.26,
    "video_30_sec_watched_actions": 0.17,
    "video_thruplay_watched_actions": 0.2,
    "video_p25_watched_actions": 0.6,
    "video_p50_watched_actions": 0.38,
    "video_p75_watched_actions": 0.24,
    "video_p95_watched_actions": 0.15,
    "video_p100_watched_actions": 0.12,
}
_VIDEO_COSTS = {
    "cost_per_thruplay": "video_thruplay_watched_actions",
    "cost_per_15_sec_video_view": "video_15_sec_watched_actions",
    "cost_per_2_sec_continuous_video_view": "video_continuous_2_sec_watched_actions",
    "cost_per_6_sec_video_view": "video_6_sec_watched_actions",
}
_ROAS = ("purchase_roas", "website_purchase_roas", "mobile_app_purchase_roas")
_ENTITY_ONLY = frozenset(
    {
        "account_id",
        "account_name",
        "account_currency",
        "campaign_id",
        "campaign_name",
        "objective",
        "buying_type",
        "adset_id",
        "adset_name",
        "optimization_goal",
        "adset_start",
        "adset_end",
        "ad_id",
        "ad_name",
        "creative_media_type",
        "created_time",
        "updated_time",
        "attribution_setting",
        "date_start",
        "date_stop",
    }
)


class RowFigures:
    """One row's figures and the request's presentation options, with the derived values fields need."""

    def __init__(
        self,
        rec: Record,
        *,
        exponent: int,
        account_id: str,
        windows: Sequence[str],
        action_breakdowns: Sequence[str],
    ) -> None:
        self.impressions: int = rec[IMPRESSIONS]
        self.reach: int = rec[REACH]
        self.clicks: int = rec[CLICKS]
        self.inline: int = rec[INLINE]
        self.spend: int = rec[SPEND]
        self.outbound: int = rec[OUTBOUND]
        self.actions: dict[str, Any] | None = rec[ACTIONS]
        self.values: dict[str, Any] | None = rec[VALUES]
        self.exponent = exponent
        self.scale = 10**exponent
        self.account_id = account_id
        self.windows = windows
        self.action_breakdowns = action_breakdowns

    # ---------------------------------------------------------------- helpers

    def count(self, kind: str) -> float:
        """An action's count (default window), in units."""
        return action_total(self.actions, kind) / 10

    def money(self, minor: int) -> str:
        return money(minor, self.exponent)

    def cost(self, units: float) -> str | None:
        """Spend per unit, as a decimal string; None when there are no units."""
        return ratio(self.spend / self.scale / units) if units else None

    def rate(self, part: float, whole: float, times: float = 100.0) -> str | None:
        return ratio(part * times / whole) if whole else None

    def unique(self, count: int) -> int:
        """A de-duplicated count: people rather than events (not additive, like reach)."""
        if not count:
            return 0
        share = self.reach / self.impressions if self.impressions else 1.0
        return max(1, min(count, round(count * (0.75 + 0.2 * share))))

    def entries(self, part: dict[str, Any] | None, fmt: Callable[[int], str]) -> list[dict[str, str]] | None:
        if not part:
            return None
        return action_entries(
            part,
            fmt,
            account_id=self.account_id,
            windows=self.windows,
            action_breakdowns=self.action_breakdowns,
        )

    def single(self, kind: str, value: str | None) -> list[dict[str, str]] | None:
        return None if value is None else [{"action_type": kind, "value": value}]

    def per_type(self, fn: Callable[[str], str | None], kinds: Sequence[str]) -> list[dict[str, str]] | None:
        out = [{"action_type": kind, "value": v} for kind in kinds if (v := fn(kind)) is not None]
        return out or None

    def conversions(self, part: dict[str, Any] | None) -> dict[str, Any] | None:
        if not part:
            return None
        return {k: v for k, v in part.items() if k in CONVERSION_TYPES and k != "landing_page_view"} or None


def _video(f: RowFigures, share: float) -> int:
    return int(f.count("video_view") * share)


def _result_kind(entity: dict[str, str]) -> str:
    sales = entity.get("objective") in ("OUTCOME_SALES", "OUTCOME_LEADS", "OUTCOME_APP_PROMOTION")
    return "offsite_conversion.fb_pixel_purchase" if sales else "link_click"


def value_of(name: str, f: RowFigures, entity: dict[str, str]) -> Any:
    """The value of insights field ``name`` for a row (None = left out of the row)."""
    if name in entity:
        return entity[name]
    if name in _ENTITY_ONLY:
        return None  # an id or name finer than the level (ad_name at campaign level): not sent
    simple = _SIMPLE.get(name)
    if simple is not None:
        return simple(f)
    if name in _VIDEO_SHARES:
        views = _video(f, _VIDEO_SHARES[name])
        return f.single("video_view", str(views) if views else None)
    if name in _VIDEO_COSTS:
        return f.single("video_view", f.cost(_video(f, _VIDEO_SHARES[_VIDEO_COSTS[name]])))
    if name in _ROAS:
        purchases = action_total(f.values, _PURCHASE)
        return f.single(_PURCHASE, ratio(purchases / f.spend) if purchases and f.spend else None)
    if name in ("quality_ranking", "engagement_rate_ranking", "conversion_rate_ranking"):
        ad_id = entity.get("ad_id")
        if ad_id is None:
            return None  # rankings exist for ads only
        if f.impressions < 500:
            return "UNKNOWN"
        return _RANKINGS[mix(int(ad_id) ^ hash_text(name)) % len(_RANKINGS)]
    if name in ("results", "objective_results", "cost_per_result", "cost_per_objective_result"):
        kind = _result_kind(entity)
        count = f.count(kind)
        text = f.cost(count) if name.startswith("cost_per") else (tenths(int(count * 10)) if count else None)
        if text is None:
            return None
        return [{"indicator": f"actions:{kind}", "values": [{"value": text, "attribution_windows": ["default"]}]}]
    if name in ("result_rate", "objective_result_rate"):
        kind = _result_kind(entity)
        text = f.rate(f.count(kind), f.impressions)
        return None if text is None else [{"indicator": f"actions:{kind}", "values": [{"value": text}]}]
    if INSIGHTS_FIELDS.get(name) == "list<AdsHistogramStats>":
        played = f.count("video_view")
        if not played:
            return None
        curve = [int(played * 100 / (1 + i * 0.35)) for i in range(15)]
        return [{"action_type": "video_view", "value": curve}]
    return None


def _lpv_per_click(f: RowFigures) -> str | None:
    return f.rate(f.count("landing_page_view"), f.inline, 1.0)


_SIMPLE: dict[str, Callable[[RowFigures], Any]] = {
    "impressions": lambda f: str(f.impressions),
    "reach": lambda f: str(f.reach),
    "clicks": lambda f: str(f.clicks),
    "inline_link_clicks": lambda f: str(f.inline),
    "spend": lambda f: f.money(f.spend),
    "social_spend": lambda f: f.money(f.spend * 3 // 10),
    "frequency": lambda f: f.rate(f.impressions, f.reach, 1.0),
    "ctr": lambda f: f.rate(f.clicks, f.impressions),
    "inline_link_click_ctr": lambda f: f.rate(f.inline, f.impressions),
    "cpm": lambda f: f.rate(f.spend / f.scale, f.impressions, 1000.0),
    "cpp": lambda f: f.rate(f.spend / f.scale, f.reach, 1000.0),
    "cpc": lambda f: f.cost(f.clicks),
    "cost_per_inline_link_click": lambda f: f.cost(f.inline),
    "inline_post_engagement": lambda f: str(int(f.count("post_engagement"))),
    "cost_per_inline_post_engagement": lambda f: f.cost(f.count("post_engagement")),
    "unique_clicks": lambda f: str(f.unique(f.clicks)),
    "unique_inline_link_clicks": lambda f: str(f.unique(f.inline)),
    "unique_ctr": lambda f: f.rate(f.unique(f.clicks), f.reach),
    "unique_inline_link_click_ctr": lambda f: f.rate(f.unique(f.inline), f.reach),
    "unique_link_clicks_ctr": lambda f: f.rate(f.unique(f.inline), f.reach),
    "cost_per_unique_click": lambda f: f.cost(f.unique(f.clicks)),
    "cost_per_unique_inline_link_click": lambda f: f.cost(f.unique(f.inline)),
    "full_view_impressions": lambda f: str(f.impressions * 3 // 10),
    "full_view_reach": lambda f: str(f.reach * 3 // 10),
    "estimated_ad_recallers": lambda f: str(f.reach * 4 // 100),
    "estimated_ad_recallers_lower_bound": lambda f: str(f.reach * 3 // 100),
    "estimated_ad_recallers_upper_bound": lambda f: str(f.reach * 5 // 100),
    "estimated_ad_recall_rate": lambda f: f.rate(f.reach * 4 // 100, f.reach),
    "estimated_ad_recall_rate_lower_bound": lambda f: f.rate(f.reach * 3 // 100, f.reach),
    "estimated_ad_recall_rate_upper_bound": lambda f: f.rate(f.reach * 5 // 100, f.reach),
    "cost_per_estimated_ad_recallers": lambda f: f.cost(f.reach * 4 // 100),
    "landing_page_view_per_link_click": _lpv_per_click,
    "landing_page_view_actions_per_link_click": _lpv_per_click,
    "purchases_per_link_click": lambda f: f.rate(f.count(_PURCHASE), f.inline, 1.0),
    "purchase_per_landing_page_view": lambda f: f.rate(f.count(_PURCHASE), f.count("landing_page_view"), 1.0),
    "actions": lambda f: f.entries(f.actions, tenths),
    "action_values": lambda f: f.entries(f.values, f.money),
    "conversions": lambda f: f.entries(f.conversions(f.actions), tenths),
    "conversion_values": lambda f: f.entries(f.conversions(f.values), f.money),
    "unique_actions": lambda f: f.per_type(
        lambda k: str(f.unique(int(f.count(k)))) if f.count(k) >= 1 else None, list(f.actions or ())
    ),
    "unique_conversions": lambda f: f.per_type(
        lambda k: str(f.unique(int(f.count(k)))) if f.count(k) >= 1 else None, list(f.conversions(f.actions) or ())
    ),
    "cost_per_action_type": lambda f: f.per_type(lambda k: f.cost(f.count(k)), list(f.actions or ())),
    "cost_per_conversion": lambda f: f.per_type(lambda k: f.cost(f.count(k)), list(f.conversions(f.actions) or ())),
    "cost_per_unique_action_type": lambda f: f.per_type(
        lambda k: f.cost(f.unique(int(f.count(k)))), list(f.actions or ())
    ),
    "cost_per_unique_conversion": lambda f: f.per_type(
        lambda k: f.cost(f.unique(int(f.count(k)))), list(f.conversions(f.actions) or ())
    ),
    "outbound_clicks": lambda f: f.single("outbound_click", str(f.outbound) if f.outbound else None),
    "unique_outbound_clicks": lambda f: f.single("outbound_click", str(f.unique(f.outbound)) if f.outbound else None),
    "outbound_clicks_ctr": lambda f: f.single("outbound_click", f.rate(f.outbound, f.impressions)),
    "unique_outbound_clicks_ctr": lambda f: f.single("outbound_click", f.rate(f.unique(f.outbound), f.reach)),
    "cost_per_outbound_click": lambda f: f.single("outbound_click", f.cost(f.outbound)),
    "cost_per_unique_outbound_click": lambda f: f.single("outbound_click", f.cost(f.unique(f.outbound))),
    "website_ctr": lambda f: f.single("link_click", f.rate(f.inline, f.impressions)),
    "video_avg_time_watched_actions": lambda f: f.single(
        "video_view", str(4 + int(f.count("video_view")) % 7) if f.count("video_view") else None
    ),
    "video_time_watched_actions": lambda f: f.single(
        "video_view", str(int(f.count("video_view")) * 6) if f.count("video_view") else None
    ),
    "video_view_per_impression": lambda f: f.single("video_view", f.rate(f.count("video_view"), f.impressions, 1.0)),
    "ad_impression_actions": lambda f: f.single("ad_impression", str(f.impressions) if f.impressions else None),
    "ad_click_actions": lambda f: f.single("ad_click", str(f.clicks) if f.clicks else None),
    "cost_per_ad_click": lambda f: f.single("ad_click", f.cost(f.clicks)),
    "cost_per_one_thousand_ad_impression": lambda f: f.single(
        "ad_impression", f.rate(f.spend / f.scale, f.impressions, 1000.0)
    ),
}


def render_row(
    f: RowFigures,
    fields: Sequence[str],
    entity: dict[str, str],
    start_iso: str,
    stop_iso: str,
    labels: dict[str, str] | None,
) -> dict[str, Any]:
    """The row as the API sends it: requested fields (absent ones left out), dates, breakdown labels."""
    row: dict[str, Any] = {}
    for name in fields:
        value = value_of(name, f, entity)
        if value is not None:
            row[name] = value
    row["date_start"] = start_iso
    row["date_stop"] = stop_iso
    if labels:
        row.update(labels)
    return row
