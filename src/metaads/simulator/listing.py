"""Object edges (``/act_{id}/campaigns``, ``/{campaign_id}/ads``, ``/act_{id}/adcreatives``, ...) and their
``filtering`` / ``effective_status`` parameters.

``filtering`` takes ``[{"field", "operator", "value"}]`` on the node's own fields or its parents'
(``ad.updated_time``, ``adset.effective_status``, ``campaign.id``); times compare as unix seconds with
``GREATER_THAN``, ``LESS_THAN``, ``IN_RANGE`` and friends, as incremental connectors use them. ARCHIVED and
DELETED objects are only listed when the request filters on their status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from metaads.simulator import catalog, errors
from metaads.simulator.insights import json_list
from metaads.simulator.objects import Context, creative_of, updated_time
from metaads.simulator.world import ARCHIVED_STATES, Ad, AdSet, Campaign

#: Edge -> (node type, the ``filtering`` prefixes it accepts: its own first).
EDGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "campaigns": ("Campaign", ("campaign",)),
    "adsets": ("AdSet", ("adset", "campaign")),
    "ads": ("Ad", ("ad", "adset", "campaign")),
    "adcreatives": ("AdCreative", ("creative",)),
    "adimages": ("AdImage", ("image",)),
    "advideos": ("AdVideo", ("video",)),
    "customconversions": ("CustomConversion", ("customconversion",)),
    "customaudiences": ("CustomAudience", ("customaudience",)),
}
STATUSES = {
    "Campaign": catalog.CAMPAIGN_EFFECTIVE_STATUSES,
    "AdSet": catalog.ADSET_EFFECTIVE_STATUSES,
    "Ad": catalog.AD_EFFECTIVE_STATUSES,
}
_TIME_FIELDS = frozenset({"updated_time", "created_time", "start_time"})
_SET_OPERATORS = ("IN", "NOT_IN", "EQUAL", "NOT_EQUAL")
_NUMBER_OPERATORS = (
    "GREATER_THAN",
    "GREATER_THAN_OR_EQUAL",
    "LESS_THAN",
    "LESS_THAN_OR_EQUAL",
    "IN_RANGE",
    "NOT_IN_RANGE",
    "EQUAL",
    "NOT_EQUAL",
)
_TEXT_OPERATORS = ("CONTAIN", "NOT_CONTAIN", "EQUAL", "NOT_EQUAL", "IN", "NOT_IN", "STARTS_WITH")
_FIELDS = {
    "id": _SET_OPERATORS,
    "effective_status": _SET_OPERATORS,
    "objective": _SET_OPERATORS,
    "name": _TEXT_OPERATORS,
    **{name: _NUMBER_OPERATORS for name in _TIME_FIELDS},
}


@dataclass(frozen=True)
class ObjectFilter:
    owner: str  # "self", "adset" or "campaign": whose field is compared
    attr: str
    operator: str
    values: tuple[str, ...]

    def accepts(self, value: Any) -> bool:
        op = self.operator
        if self.attr in _TIME_FIELDS:
            seconds = value.timestamp()
            bounds = [float(v) for v in self.values]
            if op in ("IN_RANGE", "NOT_IN_RANGE"):
                inside = bounds[0] <= seconds <= bounds[1]
                return inside if op == "IN_RANGE" else not inside
            results: dict[str, bool] = {
                "GREATER_THAN": seconds > bounds[0],
                "GREATER_THAN_OR_EQUAL": seconds >= bounds[0],
                "LESS_THAN": seconds < bounds[0],
                "LESS_THAN_OR_EQUAL": seconds <= bounds[0],
                "EQUAL": int(seconds) == int(bounds[0]),
                "NOT_EQUAL": int(seconds) != int(bounds[0]),
            }
            return results[op]
        text = str(value)
        if op in ("CONTAIN", "NOT_CONTAIN"):
            found = any(v.lower() in text.lower() for v in self.values)
            return found if op == "CONTAIN" else not found
        if op == "STARTS_WITH":
            return any(text.startswith(v) for v in self.values)
        inside = text in self.values
        return inside if op in ("IN", "EQUAL") else not inside


def parse_object_filters(params: Mapping[str, str], node_type: str, prefixes: Sequence[str]) -> list[ObjectFilter]:
    """``filtering`` and ``effective_status`` of an object edge, validated as Meta does (code 100)."""
    filters = []
    for position, item in enumerate(json_list(params, "filtering")):
        if not isinstance(item, dict) or not {"field", "operator", "value"} <= set(item):
            raise errors.invalid_param(f"filtering[{position}] must be an object with field, operator, value")
        field, operator = str(item["field"]), str(item["operator"]).upper()
        prefix, _, attr = field.rpartition(".")
        if (prefix and prefix not in prefixes) or attr not in _FIELDS:
            raise errors.invalid_param(f"Filtering field '{field}' is invalid")
        if operator not in _FIELDS[attr]:
            raise errors.invalid_param(
                f"Filtering field '{field}' with operation '{operator.lower()}' is not supported"
            )
        raw = item["value"]
        values = tuple(str(v) for v in (raw if isinstance(raw, list) else [raw]))
        if attr in _TIME_FIELDS:
            needed = 2 if operator.endswith("IN_RANGE") else 1
            if len(values) < needed or not all(_is_number(v) for v in values[:needed]):
                raise errors.invalid_param(
                    f"Filtering field '{field}' with operation '{operator.lower()}' needs "
                    f"{'a [from, to] range' if needed == 2 else 'a number'} of unix seconds"
                )
        owner = "self" if not prefix or prefix == prefixes[0] else prefix
        if attr == "effective_status":
            allowed = STATUSES.get(node_type if owner == "self" else {"adset": "AdSet", "campaign": "Campaign"}[owner])
            unknown = [v for v in values if allowed is not None and v not in allowed]
            if unknown:
                raise errors.invalid_param(
                    f"Filtering field '{field}' with operation '{operator.lower()}' has invalid value '{unknown[0]}'"
                )
        filters.append(ObjectFilter(owner, attr, operator, values))
    statuses = [str(v) for v in json_list(params, "effective_status")]
    if statuses:
        allowed = STATUSES.get(node_type, ())
        for position, value in enumerate(statuses):
            if value not in allowed:
                raise errors.invalid_param(
                    f"param effective_status[{position}] must be one of {{{', '.join(allowed)}}}"
                )
        filters.append(ObjectFilter("self", "effective_status", "IN", tuple(statuses)))
    return filters


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _attr(obj: Any, attr: str, ctx: Context) -> Any:
    if attr == "updated_time" and isinstance(obj, Campaign | AdSet | Ad):
        return updated_time(obj, ctx.now)
    return getattr(obj, attr, None)


def _owner(obj: Any, owner: str, ctx: Context) -> Any:
    if owner == "self":
        return obj
    if owner == "campaign":
        return ctx.campaigns[obj.campaign_id]
    return ctx.adsets[obj.adset_id]


def edge_items(edge: str, ctx: Context, parent: Campaign | AdSet | Ad | None = None) -> list[Any]:
    """All objects of an edge of the account (or of ``parent``: a campaign's ads, an ad's creatives)."""
    account, assets = ctx.account, ctx.assets
    if edge == "campaigns":
        return list(account.campaigns)
    if edge in ("adsets", "ads"):
        items: list[Any] = list(account.adsets if edge == "adsets" else account.ads)
        if isinstance(parent, Campaign):
            items = [o for o in items if o.campaign_id == parent.id]
        elif isinstance(parent, AdSet):
            items = [o for o in items if o.adset_id == parent.id]
        return items
    if edge == "adcreatives":
        if isinstance(parent, Ad):
            return [creative_of(parent, ctx)]
        if isinstance(parent, AdSet):
            return [creative_of(ad, ctx) for ad in account.ads if ad.adset_id == parent.id]
        return list(assets.creatives)
    if edge == "adimages":
        return list(assets.images)
    if edge == "advideos":
        return list(assets.videos)
    if edge == "customconversions":
        return list(assets.custom_conversions)
    return list(assets.custom_audiences)


def list_objects(
    edge: str, params: Mapping[str, str], ctx: Context, parent: Campaign | AdSet | Ad | None = None
) -> list[Any]:
    """The edge's objects in id order after ``filtering``; ARCHIVED/DELETED only when asked for by status."""
    node_type, prefixes = EDGES[edge]
    filters = parse_object_filters(params, node_type, prefixes)
    by_status = any(f.attr == "effective_status" and f.owner == "self" for f in filters)
    hashes = {str(h) for h in json_list(params, "hashes")} if edge == "adimages" else set()
    selected = []
    for obj in edge_items(edge, ctx, parent):
        status = getattr(obj, "effective_status", None)
        if not by_status and status in ARCHIVED_STATES:
            continue
        if hashes and obj.hash not in hashes:
            continue
        if all(f.accepts(_attr(_owner(obj, f.owner, ctx), f.attr, ctx)) for f in filters):
            selected.append(obj)
    if edge != "adimages":
        selected.sort(key=lambda o: int(o.id))
    return selected
