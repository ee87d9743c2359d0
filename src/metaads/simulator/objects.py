"""Ad objects as Graph API nodes: accounts, campaigns, ad sets and ads with their ``fields``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from metaads.simulator import errors
from metaads.simulator.insights import Filter, json_list, parse_filters
from metaads.simulator.world import ARCHIVED_STATES, Ad, AdAccount, AdSet, Campaign, graph_time

Getter = Callable[[Any], Any]


def _offset_hours(account: AdAccount, now: datetime) -> float | int:
    offset = now.astimezone(account.zone).utcoffset()
    hours = offset.total_seconds() / 3600 if offset is not None else 0.0
    return int(hours) if hours == int(hours) else hours


_ACCOUNT_STATIC: dict[str, Getter] = {
    "id": lambda a: f"act_{a.id}",
    "account_id": lambda a: a.id,
    "name": lambda a: a.name,
    "currency": lambda a: a.currency,
    "timezone_name": lambda a: a.timezone_name,
    "account_status": lambda a: a.account_status,
    "disable_reason": lambda a: 0 if a.account_status == 1 else 1,
    "business": lambda a: {"id": a.business.id, "name": a.business.name},
    "created_time": lambda a: graph_time(a.created_time),
    "spend_cap": lambda a: "0",
}

_CAMPAIGN: dict[str, Getter] = {
    "id": lambda c: c.id,
    "account_id": lambda c: c.account_id,
    "name": lambda c: c.name,
    "status": lambda c: c.status,
    "configured_status": lambda c: c.status,
    "effective_status": lambda c: c.effective_status,
    "objective": lambda c: c.objective,
    "buying_type": lambda c: "AUCTION",
    "special_ad_categories": lambda c: [],
    "start_time": lambda c: graph_time(c.start_time),
    "stop_time": lambda c: None if c.stop_time is None else graph_time(c.stop_time),
    "created_time": lambda c: graph_time(c.created_time),
    "updated_time": lambda c: graph_time(c.updated_time),
    "daily_budget": lambda c: None if c.daily_budget is None else str(c.daily_budget),
    "lifetime_budget": lambda c: None if c.lifetime_budget is None else str(c.lifetime_budget),
}

_ADSET: dict[str, Getter] = {
    "id": lambda s: s.id,
    "account_id": lambda s: s.account_id,
    "campaign_id": lambda s: s.campaign_id,
    "name": lambda s: s.name,
    "status": lambda s: s.status,
    "configured_status": lambda s: s.status,
    "effective_status": lambda s: s.effective_status,
    "optimization_goal": lambda s: s.optimization_goal,
    "billing_event": lambda s: "IMPRESSIONS",
    "start_time": lambda s: graph_time(s.start_time),
    "end_time": lambda s: None if s.end_time is None else graph_time(s.end_time),
    "created_time": lambda s: graph_time(s.created_time),
    "updated_time": lambda s: graph_time(s.updated_time),
    "daily_budget": lambda s: None if s.daily_budget is None else str(s.daily_budget),
}

_AD: dict[str, Getter] = {
    "id": lambda a: a.id,
    "account_id": lambda a: a.account_id,
    "campaign_id": lambda a: a.campaign_id,
    "adset_id": lambda a: a.adset_id,
    "name": lambda a: a.name,
    "status": lambda a: a.status,
    "configured_status": lambda a: a.status,
    "effective_status": lambda a: a.effective_status,
    "created_time": lambda a: graph_time(a.created_time),
    "updated_time": lambda a: graph_time(a.updated_time),
}

NODE_TYPES = {"campaigns": ("Campaign", _CAMPAIGN), "adsets": ("AdSet", _ADSET), "ads": ("Ad", _AD)}


def requested_fields(params: Mapping[str, str], default: Sequence[str]) -> list[str]:
    # A comma list, or a JSON array (what the SDK sends in POST bodies). Nested field syntax
    # (``insights{spend}``) is not simulated: ask for the edge instead.
    return [str(f) for f in json_list(params, "fields")] or list(default)


def render(obj: Any, fields: Sequence[str], getters: Mapping[str, Getter], node_type: str) -> dict[str, Any]:
    """The node with ``fields`` (absent values are left out, as the API does); unknown field -> 100."""
    out: dict[str, Any] = {}
    for name in fields:
        getter = getters.get(name)
        if getter is None:
            raise errors.unknown_path(node_type, name)
        value = getter(obj)
        if value is not None:
            out[name] = value
    if "id" not in out and "id" in getters:
        out["id"] = getters["id"](obj)
    return out


def render_account(
    account: AdAccount, fields: Sequence[str], now: datetime, *, created_time: datetime | None = None
) -> dict[str, Any]:
    """The ad account node; ``created_time`` overrides the world's (``Faults.account_created_days_ago``)."""
    out: dict[str, Any] = {}
    for name in fields:
        if name == "timezone_offset_hours_utc":
            out[name] = _offset_hours(account, now)
            continue
        if name == "created_time" and created_time is not None:
            out[name] = graph_time(created_time)
            continue
        getter = _ACCOUNT_STATIC.get(name)
        if getter is None:
            raise errors.unknown_path("AdAccount", name)
        out[name] = getter(account)
    out.setdefault("id", f"act_{account.id}")
    return out


def list_objects(account: AdAccount, edge: str, params: Mapping[str, str]) -> list[Campaign | AdSet | Ad]:
    """The edge's objects in id order; ARCHIVED/DELETED only when asked for by status."""
    items: Sequence[Campaign | AdSet | Ad] = (
        account.campaigns if edge == "campaigns" else account.adsets if edge == "adsets" else account.ads
    )
    kind = {"campaigns": "campaign", "adsets": "adset", "ads": "ad"}[edge]
    allowed = (f"{kind}.effective_status", f"{kind}.id", "effective_status", "id")
    filters = [Filter(f.field.split(".")[-1], f.operator, f.values) for f in parse_filters(params, allowed)]
    statuses = _status_param(params)
    if statuses is not None:
        filters.append(Filter("effective_status", "IN", frozenset(statuses)))
    by_status = any(f.field == "effective_status" for f in filters)
    selected = []
    for obj in sorted(items, key=lambda o: int(o.id)):
        if not by_status and obj.effective_status in ARCHIVED_STATES:
            continue
        if all(f.accepts(getattr(obj, f.field)) for f in filters):
            selected.append(obj)
    return selected


def _status_param(params: Mapping[str, str]) -> list[str] | None:
    if not params.get("effective_status"):
        return None
    return [str(v) for v in json_list(params, "effective_status")] or None
