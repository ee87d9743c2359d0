"""Object edges (``/act_{id}/campaigns``, ``/{campaign_id}/ads``, ``/act_{id}/adcreatives``, ...) and their
``filtering`` / ``effective_status`` parameters.

``filtering`` takes ``[{"field", "operator", "value"}]`` on the node's own fields or its parents'
(``ad.updated_time``, ``adset.effective_status``, ``campaign.id``), parsed and compared by
:mod:`metaads.simulator.filtering` (the same code as insights). ARCHIVED and DELETED objects (as of the
clock) are only listed when the request filters on their own status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from metaads.simulator import catalog, errors, lifecycle
from metaads.simulator.filtering import (
    NUMBER_OPERATORS,
    SET_OPERATORS,
    TEXT_OPERATORS,
    TIME_FIELDS,
    Filter,
    parse_filtering,
    value_of,
)
from metaads.simulator.objects import Context, creative_of
from metaads.simulator.protocol import json_list
from metaads.simulator.world import Ad, AdSet, Campaign

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
_NODE_TYPES = {"campaign": "Campaign", "adset": "AdSet", "ad": "Ad"}
_FIELDS = {
    "id": SET_OPERATORS,
    "effective_status": SET_OPERATORS,
    "objective": SET_OPERATORS,
    "name": TEXT_OPERATORS,
    **{name: NUMBER_OPERATORS for name in TIME_FIELDS},
}


def parse_object_filters(params: Mapping[str, str], node_type: str, prefixes: Sequence[str]) -> list[Filter]:
    """``filtering`` and ``effective_status`` of an object edge, validated as Meta does (code 100)."""

    def statuses(owner: str) -> tuple[str, ...] | None:
        return STATUSES.get(node_type if owner == prefixes[0] else _NODE_TYPES.get(owner, ""))

    filters = parse_filtering(params, prefixes=prefixes, fields=_FIELDS, statuses=statuses, bare=True)
    wanted = [str(v) for v in json_list(params, "effective_status")]
    if wanted:
        allowed = STATUSES.get(node_type, ())
        for position, value in enumerate(wanted):
            if value not in allowed:
                raise errors.invalid_param(
                    f"param effective_status[{position}] must be one of {{{', '.join(allowed)}}}"
                )
        filters.append(Filter(prefixes[0], "effective_status", "IN", tuple(wanted)))
    return filters


def _owner(obj: Any, owner: str, own: str, ctx: Context) -> Any:
    if owner == own:
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
    own = prefixes[0]
    by_status = any(f.attr == "effective_status" and f.owner == own for f in filters)
    hashes = {str(h) for h in json_list(params, "hashes")} if edge == "adimages" else set()
    selected = []
    for obj in edge_items(edge, ctx, parent):
        status = value_of(obj, "effective_status", ctx.now)
        if not by_status and status in lifecycle.ARCHIVED_STATES:
            continue
        if hashes and obj.hash not in hashes:
            continue
        if all(f.accepts(value_of(_owner(obj, f.owner, own, ctx), f.attr, ctx.now)) for f in filters):
            selected.append(obj)
    if edge != "adimages":
        selected.sort(key=lambda o: int(o.id))
    return selected
