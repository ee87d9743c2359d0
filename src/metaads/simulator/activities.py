"""``/act_{id}/activities``: the account's change log, one entry per scheduled edit of a running object and
per status change that wrote an object (:mod:`metaads.simulator.lifecycle`).

The entries are the same writes that move ``updated_time`` (:func:`metaads.simulator.objects.update_count`,
``StatusChange.written``), so a connector reading activities since its last run finds exactly the objects
to re-fetch.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from metaads.simulator import errors
from metaads.simulator.lifecycle import StatusChange
from metaads.simulator.objects import Context, schedule, update_count
from metaads.simulator.world import Ad, AdSet, Campaign, graph_time

_EVENTS = {
    Campaign: ("update_campaign_budget", "CAMPAIGN"),
    AdSet: ("update_ad_set_budget", "AD_SET"),
    Ad: ("update_ad_creative", "AD"),
}
_STATUS_EVENTS = {
    Campaign: "update_campaign_run_status",
    AdSet: "update_ad_set_run_status",
    Ad: "update_ad_run_status",
}
_TRANSLATED = {
    "update_campaign_budget": "Campaign budget updated",
    "update_ad_set_budget": "Ad set budget updated",
    "update_ad_creative": "Ad creative updated",
    "update_campaign_run_status": "Campaign status updated",
    "update_ad_set_run_status": "Ad set status updated",
    "update_ad_run_status": "Ad status updated",
}


def _bound(params: Mapping[str, str], name: str, default: datetime) -> datetime:
    raw = params.get(name)
    if not raw:
        return default
    try:
        if raw.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(raw), tz=timezone.utc)
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise errors.invalid_param(f"param {name} must be a unix time or a date") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def activities(params: Mapping[str, str], ctx: Context) -> list[dict[str, Any]]:
    """Edits between ``since`` and ``until`` (unix seconds or ISO dates; default: the last 7 days), newest first."""
    until = min(_bound(params, "until", ctx.now), ctx.now)
    since = _bound(params, "since", until - timedelta(days=7))
    found: list[tuple[datetime, Campaign | AdSet | Ad, StatusChange | None]] = []
    every: list[Campaign | AdSet | Ad] = [*ctx.account.campaigns, *ctx.account.adsets, *ctx.account.ads]
    for obj in every:
        count = update_count(obj, until)
        period, phase = schedule(obj)
        for k in range(count, 0, -1):
            moment = obj.updated_time + timedelta(seconds=phase + (k - 1) * period)
            if moment < since:
                break
            found.append((moment, obj, None))
        found.extend((c.at, obj, c) for c in obj.changes if c.written and since <= c.at <= until)
    found.sort(key=lambda item: (-item[0].timestamp(), item[1].id))
    out = []
    for moment, obj, change in found:
        event, object_type = _EVENTS[type(obj)]
        extra = "{}"
        if change is not None:
            event = _STATUS_EVENTS[type(obj)]
            extra = orjson.dumps({"new_value": change.status, "type": "run_status"}).decode()
        local = moment.astimezone(ctx.account.zone)
        out.append(
            {
                "actor_id": "100000000000001",
                "actor_name": "Simulated Editor",
                "application_id": "0",
                "application_name": "Ads Manager",
                "date_time_in_timezone": f"{local:%m/%d/%Y} at {int(local.strftime('%I'))}:{local:%M %p}",
                "event_time": graph_time(local),
                "event_type": event,
                "extra_data": extra,
                "object_id": obj.id,
                "object_name": obj.name,
                "object_type": object_type,
                "translated_event_type": _TRANSLATED[event],
            }
        )
    return out
