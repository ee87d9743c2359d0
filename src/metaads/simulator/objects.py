"""Graph API nodes other than insights: ad accounts, campaigns, ad sets, ads, creatives, images, videos,
custom conversions and audiences, businesses and business users, each with its ``fields``.

Every field of the SDK's ``Field`` list for the node type is accepted; the ones simulated here get values,
the others are left out (the API leaves out fields that have no value). A field outside the list is code
100 "Tried accessing nonexisting field". Objects still running are updated on a fixed per-object schedule
as the clock moves (``updated_time``, budgets), so incremental loads can be tested.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from metaads.simulator import catalog, errors
from metaads.simulator.assets import (
    AccountAssets,
    Creative,
    CustomAudience,
    CustomConversion,
    Image,
    Video,
)
from metaads.simulator.metrics import mix
from metaads.simulator.world import Ad, AdAccount, AdSet, Business, Campaign, graph_time

Getter = Callable[[Any, "Context"], Any]

#: Objects with these effective statuses keep being edited (budgets, targeting) as time goes by.
_LIVE = frozenset({"ACTIVE", "WITH_ISSUES", "IN_PROCESS"})
_BUDGET_STEPS = (1.0, 1.1, 1.25, 0.9)
_BID_STRATEGIES = ("LOWEST_COST_WITHOUT_CAP", "LOWEST_COST_WITHOUT_CAP", "COST_CAP", "LOWEST_COST_WITH_BID_CAP")


@dataclass(frozen=True)
class Context:
    """What rendering a node needs besides the object: its account, the account's assets, now."""

    account: AdAccount
    assets: AccountAssets
    now: datetime
    campaigns: Mapping[str, Campaign]
    adsets: Mapping[str, AdSet]
    created_time: datetime | None = None  # Faults.account_created_days_ago
    amount_spent: Callable[[], int] | None = None  # the account's lifetime spend in minor units (lazy)


# --------------------------------------------------------------------------- updates on the clock


def schedule(obj: Campaign | AdSet | Ad) -> tuple[float, float]:
    """(period, phase) in seconds of the object's edits: every 2-14 days, at a fixed time of day."""
    h = mix(int(obj.id) ^ 0x5EED)
    period = 86400.0 * (2 + h % 13)
    return period, float((h >> 8) % int(period))


def update_count(obj: Campaign | AdSet | Ad, now: datetime) -> int:
    """How many scheduled edits a live object has had after its stored ``updated_time`` by ``now``."""
    if obj.effective_status not in _LIVE:
        return 0
    period, phase = schedule(obj)
    elapsed = now.timestamp() - obj.updated_time.timestamp() - phase
    return 0 if elapsed < 0 else int(elapsed // period) + 1


def updated_time(obj: Campaign | AdSet | Ad, now: datetime) -> datetime:
    """``updated_time`` as of ``now``: the last scheduled edit, or the stored time before any."""
    count = update_count(obj, now)
    if not count:
        return obj.updated_time
    period, phase = schedule(obj)
    return obj.updated_time + timedelta(seconds=phase + (count - 1) * period)


def _budget(value: int | None, obj: Campaign | AdSet, ctx: Context) -> str | None:
    if value is None:
        return None
    step = _BUDGET_STEPS[update_count(obj, ctx.now) % len(_BUDGET_STEPS)]
    minor = 10**ctx.account.exponent
    return str(max(minor, round(value * step / minor) * minor))


def _time(value: datetime | None) -> str | None:
    return None if value is None else graph_time(value)


def _bid_strategy(obj: Campaign | AdSet) -> str:
    return _BID_STRATEGIES[mix(int(obj.id)) % len(_BID_STRATEGIES)]


# --------------------------------------------------------------------------- ad accounts


def _offset_hours(account: AdAccount, now: datetime) -> float | int:
    offset = now.astimezone(account.zone).utcoffset()
    hours = offset.total_seconds() / 3600 if offset is not None else 0.0
    return int(hours) if hours == int(hours) else hours


_TIMEZONE_IDS = {
    "America/Los_Angeles": 1,
    "America/New_York": 7,
    "Europe/London": 79,
    "Europe/Paris": 84,
    "Europe/Berlin": 80,
    "Asia/Tokyo": 135,
    "America/Sao_Paulo": 41,
    "Asia/Kolkata": 125,
    "Australia/Sydney": 97,
    "Asia/Seoul": 134,
    "Pacific/Auckland": 147,
    "Asia/Dubai": 119,
}


def _account_created(a: AdAccount, ctx: Context) -> datetime:
    return ctx.created_time or a.created_time


_ACCOUNT: dict[str, Getter] = {
    "id": lambda a, ctx: f"act_{a.id}",
    "account_id": lambda a, ctx: a.id,
    "name": lambda a, ctx: a.name,
    "currency": lambda a, ctx: a.currency,
    "timezone_name": lambda a, ctx: a.timezone_name,
    "timezone_id": lambda a, ctx: _TIMEZONE_IDS.get(a.timezone_name, 0),
    "timezone_offset_hours_utc": lambda a, ctx: _offset_hours(a, ctx.now),
    "account_status": lambda a, ctx: a.account_status,
    "disable_reason": lambda a, ctx: 0 if a.account_status == 1 else 1,
    "business": lambda a, ctx: {"id": a.business.id, "name": a.business.name},
    "business_name": lambda a, ctx: a.business.name,
    "owner": lambda a, ctx: a.business.id,
    "end_advertiser": lambda a, ctx: a.business.id,
    "end_advertiser_name": lambda a, ctx: a.business.name,
    "created_time": lambda a, ctx: graph_time(_account_created(a, ctx)),
    "age": lambda a, ctx: round((ctx.now - _account_created(a, ctx)).total_seconds() / 86400, 6),
    "spend_cap": lambda a, ctx: "0",
    "amount_spent": lambda a, ctx: None if ctx.amount_spent is None else str(ctx.amount_spent()),
    "balance": lambda a, ctx: "0",
    "min_daily_budget": lambda a, ctx: 100,
    "min_campaign_group_spend_cap": lambda a, ctx: str(10000 if a.exponent else 1000),
    "is_personal": lambda a, ctx: 0,
    "is_prepay_account": lambda a, ctx: False,
    "is_tax_id_required": lambda a, ctx: False,
    "is_notifications_enabled": lambda a, ctx: True,
    "is_attribution_spec_system_default": lambda a, ctx: True,
    "offsite_pixels_tos_accepted": lambda a, ctx: True,
    "tax_id_status": lambda a, ctx: 0,
    "fb_entity": lambda a, ctx: 85,
    "capabilities": lambda a, ctx: [],
    "user_tasks": lambda a, ctx: ["DRAFT", "ANALYZE", "ADVERTISE", "MANAGE"],
    "brand_safety_content_filter_levels": lambda a, ctx: ["FACEBOOK_STANDARD", "AN_STANDARD"],
    "attribution_spec": lambda a, ctx: [
        {"event_type": "CLICK_THROUGH", "window_days": 7},
        {"event_type": "VIEW_THROUGH", "window_days": 1},
    ],
    "tos_accepted": lambda a, ctx: {"web_custom_audience_tos": 1},
}


# --------------------------------------------------------------------------- campaigns, ad sets, ads


_CAMPAIGN: dict[str, Getter] = {
    "id": lambda c, ctx: c.id,
    "account_id": lambda c, ctx: c.account_id,
    "name": lambda c, ctx: c.name,
    "status": lambda c, ctx: c.status,
    "configured_status": lambda c, ctx: c.status,
    "effective_status": lambda c, ctx: c.effective_status,
    "objective": lambda c, ctx: c.objective,
    "buying_type": lambda c, ctx: "AUCTION",
    "bid_strategy": lambda c, ctx: _bid_strategy(c) if c.daily_budget is not None else None,
    "special_ad_categories": lambda c, ctx: [],
    "special_ad_category": lambda c, ctx: "NONE",
    "special_ad_category_country": lambda c, ctx: [],
    "pacing_type": lambda c, ctx: ["standard"],
    "smart_promotion_type": lambda c, ctx: "GUIDED_CREATION",
    "source_campaign_id": lambda c, ctx: "0",
    "topline_id": lambda c, ctx: "0",
    "can_use_spend_cap": lambda c, ctx: True,
    "budget_rebalance_flag": lambda c, ctx: False,
    "is_skadnetwork_attribution": lambda c, ctx: False,
    "has_secondary_skadnetwork_reporting": lambda c, ctx: False,
    "is_budget_schedule_enabled": lambda c, ctx: False,
    "primary_attribution": lambda c, ctx: "DEFAULT",
    "start_time": lambda c, ctx: _time(c.start_time),
    "stop_time": lambda c, ctx: _time(c.stop_time),
    "created_time": lambda c, ctx: _time(c.created_time),
    "updated_time": lambda c, ctx: _time(updated_time(c, ctx.now)),
    "daily_budget": lambda c, ctx: _budget(c.daily_budget, c, ctx),
    "lifetime_budget": lambda c, ctx: _budget(c.lifetime_budget, c, ctx),
    "budget_remaining": lambda c, ctx: (
        "0"
        if c.daily_budget is None and c.lifetime_budget is None
        else _budget(c.daily_budget or c.lifetime_budget, c, ctx)
    ),
}


def _targeting(s: AdSet, ctx: Context) -> dict[str, Any]:
    h = mix(int(s.id))
    home = {"USD": "US", "EUR": "FR", "JPY": "JP", "GBP": "GB", "BRL": "BR", "INR": "IN", "AUD": "AU"}
    age_min = (18, 18, 25, 35)[h % 4]
    targeting: dict[str, Any] = {
        "age_min": age_min,
        "age_max": (65, 54, 44, 65)[(h >> 4) % 4],
        "geo_locations": {"countries": [home.get(ctx.account.currency, "US")], "location_types": ["home", "recent"]},
        "publisher_platforms": ["facebook", "instagram"],
        "facebook_positions": ["feed", "story", "facebook_reels"],
        "instagram_positions": ["stream", "story", "reels", "explore"],
        "device_platforms": ["mobile", "desktop"],
        "targeting_automation": {"advantage_audience": (h >> 8) % 2},
    }
    if (h >> 12) % 3 == 0:
        targeting["genders"] = [1 + (h >> 14) % 2]
    if (h >> 16) % 2:
        targeting["flexible_spec"] = [{"interests": [{"id": "6003139266461", "name": "Online shopping"}]}]
    return targeting


def _adset_bid(s: AdSet, ctx: Context) -> int | None:
    if _bid_strategy(s) not in ("COST_CAP", "LOWEST_COST_WITH_BID_CAP") or s.daily_budget is None:
        return None
    return max(1, s.daily_budget // 20)


def _promoted_object(s: AdSet, ctx: Context) -> dict[str, str] | None:
    if s.optimization_goal == "OFFSITE_CONVERSIONS":
        return {"pixel_id": ctx.assets.pixel_id, "custom_event_type": "PURCHASE"}
    if s.optimization_goal in ("POST_ENGAGEMENT", "LEAD_GENERATION"):
        return {"page_id": ctx.assets.page_id}
    return None


_ADSET: dict[str, Getter] = {
    "id": lambda s, ctx: s.id,
    "account_id": lambda s, ctx: s.account_id,
    "campaign_id": lambda s, ctx: s.campaign_id,
    "campaign": lambda s, ctx: {"id": s.campaign_id},
    "name": lambda s, ctx: s.name,
    "status": lambda s, ctx: s.status,
    "configured_status": lambda s, ctx: s.status,
    "effective_status": lambda s, ctx: s.effective_status,
    "optimization_goal": lambda s, ctx: s.optimization_goal,
    "billing_event": lambda s, ctx: "IMPRESSIONS",
    "bid_strategy": lambda s, ctx: _bid_strategy(s) if s.daily_budget is not None else None,
    "bid_amount": _adset_bid,
    "targeting": _targeting,
    "promoted_object": _promoted_object,
    "destination_type": lambda s, ctx: (
        "WEBSITE" if s.optimization_goal in ("LINK_CLICKS", "OFFSITE_CONVERSIONS") else "UNDEFINED"
    ),
    "attribution_spec": lambda s, ctx: [
        {"event_type": "CLICK_THROUGH", "window_days": 7},
        {"event_type": "VIEW_THROUGH", "window_days": 1},
    ],
    "pacing_type": lambda s, ctx: ["standard"],
    "is_dynamic_creative": lambda s, ctx: False,
    "lifetime_imps": lambda s, ctx: 0,
    "multi_optimization_goal_weight": lambda s, ctx: "UNDEFINED",
    "recurring_budget_semantics": lambda s, ctx: False,
    "use_new_app_click": lambda s, ctx: False,
    "source_adset_id": lambda s, ctx: "0",
    "start_time": lambda s, ctx: _time(s.start_time),
    "end_time": lambda s, ctx: _time(s.end_time),
    "created_time": lambda s, ctx: _time(s.created_time),
    "updated_time": lambda s, ctx: _time(updated_time(s, ctx.now)),
    "daily_budget": lambda s, ctx: _budget(s.daily_budget, s, ctx) or "0",
    "lifetime_budget": lambda s, ctx: "0",
    "budget_remaining": lambda s, ctx: _budget(s.daily_budget, s, ctx) or "0",
}


def creative_of(ad: Ad, ctx: Context) -> Creative:
    """The ad's creative (one per ad, in ad order)."""
    return ctx.assets.creative_by_ad[ad.id]


_AD: dict[str, Getter] = {
    "id": lambda a, ctx: a.id,
    "account_id": lambda a, ctx: a.account_id,
    "campaign_id": lambda a, ctx: a.campaign_id,
    "adset_id": lambda a, ctx: a.adset_id,
    "campaign": lambda a, ctx: {"id": a.campaign_id},
    "adset": lambda a, ctx: {"id": a.adset_id},
    "name": lambda a, ctx: a.name,
    "status": lambda a, ctx: a.status,
    "configured_status": lambda a, ctx: a.status,
    "effective_status": lambda a, ctx: a.effective_status,
    "created_time": lambda a, ctx: _time(a.created_time),
    "updated_time": lambda a, ctx: _time(updated_time(a, ctx.now)),
    "creative": lambda a, ctx: {"id": creative_of(a, ctx).id},
    "tracking_specs": lambda a, ctx: [
        {"action.type": ["offsite_conversion"], "fb_pixel": [ctx.assets.pixel_id]},
        {"action.type": ["link_click"], "post": [creative_of(a, ctx).post_id], "post.wall": [ctx.assets.page_id]},
    ],
    "conversion_specs": lambda a, ctx: [{"action.type": ["link_click"]}],
    "source_ad_id": lambda a, ctx: "0",
    "bid_type": lambda a, ctx: "ABSOLUTE_OCPM",
    "preview_shareable_link": lambda a, ctx: f"https://fb.me/{int(a.id) % 10**10:x}",
    "special_ad_categories": lambda a, ctx: [],
}


# --------------------------------------------------------------------------- creatives and media


def _story_spec(c: Creative, ctx: Context) -> dict[str, Any]:
    cta = {"type": c.call_to_action_type, "value": {"link": c.link_url}}
    if c.video_id is not None:
        return {
            "page_id": c.page_id,
            "video_data": {
                "video_id": c.video_id,
                "title": c.title,
                "message": c.body,
                "call_to_action": cta,
                "image_url": _thumbnail(c),
            },
        }
    return {
        "page_id": c.page_id,
        "link_data": {
            "link": c.link_url,
            "message": c.body,
            "name": c.title,
            "image_hash": c.image_hash,
            "call_to_action": cta,
        },
    }


def _thumbnail(c: Creative) -> str:
    return f"https://scontent.xx.fbcdn.net/v/t45.1600-4/{c.id}_n.jpg"


def _image_url(image_hash: str) -> str:
    return f"https://scontent.xx.fbcdn.net/v/t45.1600-4/{image_hash}_n.jpg"


_CREATIVE: dict[str, Getter] = {
    "id": lambda c, ctx: c.id,
    "account_id": lambda c, ctx: c.account_id,
    "name": lambda c, ctx: c.name,
    "title": lambda c, ctx: c.title,
    "body": lambda c, ctx: c.body,
    "status": lambda c, ctx: "ACTIVE",
    "call_to_action_type": lambda c, ctx: c.call_to_action_type,
    "call_to_action": lambda c, ctx: {"type": c.call_to_action_type, "value": {"link": c.link_url}},
    "link_url": lambda c, ctx: c.link_url,
    "object_url": lambda c, ctx: c.link_url,
    "image_hash": lambda c, ctx: c.image_hash,
    "image_url": lambda c, ctx: None if c.image_hash is None else _image_url(c.image_hash),
    "video_id": lambda c, ctx: c.video_id,
    "thumbnail_url": lambda c, ctx: _thumbnail(c),
    "thumbnail_id": lambda c, ctx: c.post_id,
    "actor_id": lambda c, ctx: c.page_id,
    "object_id": lambda c, ctx: c.page_id,
    "object_type": lambda c, ctx: "VIDEO" if c.video_id else "SHARE",
    "object_story_spec": _story_spec,
    "effective_object_story_id": lambda c, ctx: f"{c.page_id}_{c.post_id}",
    "url_tags": lambda c, ctx: "utm_source=facebook&utm_medium=paid_social&utm_campaign={{campaign.name}}",
}

_IMAGE: dict[str, Getter] = {
    "id": lambda i, ctx: f"{i.account_id}:{i.hash}",
    "account_id": lambda i, ctx: i.account_id,
    "hash": lambda i, ctx: i.hash,
    "name": lambda i, ctx: i.name,
    "filename": lambda i, ctx: i.name,
    "width": lambda i, ctx: i.width,
    "height": lambda i, ctx: i.height,
    "original_width": lambda i, ctx: i.width,
    "original_height": lambda i, ctx: i.height,
    "url": lambda i, ctx: _image_url(i.hash),
    "url_128": lambda i, ctx: _image_url(i.hash).replace("_n.jpg", "_s128.jpg"),
    "permalink_url": lambda i, ctx: f"https://www.facebook.com/ads/image/?d={i.hash}",
    "status": lambda i, ctx: "ACTIVE",
    "created_time": lambda i, ctx: _time(i.created_time),
    "updated_time": lambda i, ctx: _time(i.created_time),
}

_VIDEO: dict[str, Getter] = {
    "id": lambda v, ctx: v.id,
    "title": lambda v, ctx: v.title,
    "name": lambda v, ctx: v.title,
    "description": lambda v, ctx: v.title,
    "length": lambda v, ctx: v.length,
    "created_time": lambda v, ctx: _time(v.created_time),
    "updated_time": lambda v, ctx: _time(v.created_time),
    "picture": lambda v, ctx: f"https://scontent.xx.fbcdn.net/v/t15.5256-10/{v.id}_n.jpg",
    "source": lambda v, ctx: f"https://video.xx.fbcdn.net/v/t42.1790-2/{v.id}_n.mp4",
    "permalink_url": lambda v, ctx: f"/{ctx.assets.page_id}/videos/{v.id}/",
    "status": lambda v, ctx: {"video_status": "ready", "processing_progress": 100},
    "published": lambda v, ctx: False,
    "is_instagram_eligible": lambda v, ctx: True,
    "format": lambda v, ctx: [{"filter": "native", "height": 1080, "width": 1080}],
}

_CUSTOM_CONVERSION: dict[str, Getter] = {
    "id": lambda c, ctx: c.id,
    "account_id": lambda c, ctx: c.account_id,
    "name": lambda c, ctx: c.name,
    "custom_event_type": lambda c, ctx: c.custom_event_type,
    "rule": lambda c, ctx: c.rule,
    "pixel": lambda c, ctx: {"id": c.pixel_id},
    "event_source_type": lambda c, ctx: "pixel",
    "data_sources": lambda c, ctx: [{"id": c.pixel_id, "source_type": "PIXEL", "name": "Website pixel"}],
    "creation_time": lambda c, ctx: _time(c.created_time),
    "first_fired_time": lambda c, ctx: _time(c.created_time + timedelta(hours=3)),
    "last_fired_time": lambda c, ctx: _time(ctx.now - timedelta(hours=1)),
    "is_archived": lambda c, ctx: False,
    "is_unavailable": lambda c, ctx: False,
    "default_conversion_value": lambda c, ctx: 0,
    "retention_days": lambda c, ctx: 0,
    "description": lambda c, ctx: "",
}

_CUSTOM_AUDIENCE: dict[str, Getter] = {
    "id": lambda c, ctx: c.id,
    "account_id": lambda c, ctx: c.account_id,
    "name": lambda c, ctx: c.name,
    "subtype": lambda c, ctx: c.subtype,
    "description": lambda c, ctx: "",
    "approximate_count_lower_bound": lambda c, ctx: c.size,
    "approximate_count_upper_bound": lambda c, ctx: c.size * 6 // 5,
    "time_created": lambda c, ctx: int(c.created_time.timestamp()),
    "time_updated": lambda c, ctx: int(c.created_time.timestamp()),
    "retention_days": lambda c, ctx: 180 if c.subtype == "WEBSITE" else 0,
    "delivery_status": lambda c, ctx: {"code": 200, "description": "This audience is ready for use."},
    "operation_status": lambda c, ctx: {"code": 200, "description": "Normal"},
    "data_source": lambda c, ctx: {"type": "EVENT_BASED", "sub_type": c.subtype},
}


# --------------------------------------------------------------------------- businesses and their users


@dataclass(frozen=True)
class BusinessUser:
    id: str
    business: Business
    user_id: str


_BUSINESS: dict[str, Getter] = {
    "id": lambda b, ctx: b.id,
    "name": lambda b, ctx: b.name,
    "created_time": lambda b, ctx: "2019-03-04T10:11:12+0000",
    "updated_time": lambda b, ctx: "2024-06-01T08:00:00+0000",
    "verification_status": lambda b, ctx: "verified",
    "link": lambda b, ctx: f"https://business.facebook.com/business/{b.id}",
    "timezone_id": lambda b, ctx: 1,
    "two_factor_type": lambda b, ctx: "none",
    "is_hidden": lambda b, ctx: False,
    "vertical": lambda b, ctx: "ECOMMERCE",
    "primary_page": lambda b, ctx: {"id": str(10**14 + mix(int(b.id)) % 10**14), "name": b.name},
}

_BUSINESS_USER: dict[str, Getter] = {
    "id": lambda u, ctx: u.id,
    "name": lambda u, ctx: "Simulated System User",
    "first_name": lambda u, ctx: "Simulated",
    "last_name": lambda u, ctx: "System User",
    "email": lambda u, ctx: f"system-user-{u.user_id[-6:]}@example.com",
    "role": lambda u, ctx: "ADMIN",
    "title": lambda u, ctx: "Reporting",
    "business": lambda u, ctx: {"id": u.business.id, "name": u.business.name},
    "two_fac_status": lambda u, ctx: "not_required",
    "marked_for_removal": lambda u, ctx: False,
    "tasks": lambda u, ctx: ["MANAGE", "ADVERTISE", "ANALYZE", "DRAFT"],
}


#: Node type -> its getters (fields the simulator fills in).
GETTERS: dict[str, dict[str, Getter]] = {
    "AdAccount": _ACCOUNT,
    "Campaign": _CAMPAIGN,
    "AdSet": _ADSET,
    "Ad": _AD,
    "AdCreative": _CREATIVE,
    "AdImage": _IMAGE,
    "AdVideo": _VIDEO,
    "CustomConversion": _CUSTOM_CONVERSION,
    "CustomAudience": _CUSTOM_AUDIENCE,
    "Business": _BUSINESS,
    "BusinessUser": _BUSINESS_USER,
}

NODE_TYPE_OF: dict[type, str] = {
    Campaign: "Campaign",
    AdSet: "AdSet",
    Ad: "Ad",
    Creative: "AdCreative",
    Image: "AdImage",
    Video: "AdVideo",
    CustomConversion: "CustomConversion",
    CustomAudience: "CustomAudience",
    Business: "Business",
    BusinessUser: "BusinessUser",
}


def split_fields(text: str) -> list[str]:
    """``id,creative{id,name},name`` -> ``["id", "creative{id,name}", "name"]`` (commas inside braces kept)."""
    out: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "," and depth == 0:
            out.append("".join(current).strip())
            current = []
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        current.append(char)
    out.append("".join(current).strip())
    return [f for f in out if f]


def requested_fields(params: Mapping[str, str], default: Sequence[str]) -> list[str]:
    """The ``fields`` parameter: a comma list (nested ``field{sub,sub}`` allowed) or a JSON array."""
    raw = (params.get("fields") or "").strip()
    if not raw:
        return list(default)
    if raw.startswith("["):
        from metaads.simulator.insights import json_list

        return [str(f) for f in json_list(params, "fields")] or list(default)
    return split_fields(raw) or list(default)


def render(obj: Any, fields: Sequence[str], ctx: Context, node_type: str | None = None) -> dict[str, Any]:
    """The node with ``fields`` (absent values are left out, as the API does); unknown field -> 100."""
    node_type = node_type or NODE_TYPE_OF[type(obj)]
    getters = GETTERS[node_type]
    known = catalog.NODE_FIELDS[node_type]
    out: dict[str, Any] = {}
    for spec in fields:
        name, _, inner = spec.partition("{")
        name = name.strip()
        getter = getters.get(name)
        if getter is None:
            if name not in known:
                raise errors.unknown_path(node_type, name)
            continue  # a documented field the simulated objects have no value for
        value = getter(obj, ctx)
        if value is None:
            continue
        if inner and isinstance(value, dict):
            wanted = split_fields(inner.rstrip("}"))
            value = {k: v for k, v in value.items() if k in wanted or k == "id"}
        out[name] = value
    if "id" not in out and "id" in getters:
        out["id"] = getters["id"](obj, ctx)
    return out


def render_account(account: AdAccount, fields: Sequence[str], ctx: Context) -> dict[str, Any]:
    """The ad account node."""
    return render(account, fields, ctx, "AdAccount")
