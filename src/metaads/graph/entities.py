"""Listing an account's campaigns, ad sets, ads and creatives, every effective status, optionally only those
updated since a moment.

Meta lists ARCHIVED and DELETED objects only when the request filters on their effective status, so every
listing names all of them. ``updated_time`` filters take unix seconds (``<node>.updated_time`` with
``GREATER_THAN``), the way incremental connectors read these edges; creatives have no such filter and are
listed whole or by id (``creative.id`` ``IN``, in batches). Ad sets and ads can also be listed by parent
(``campaign.id`` / ``adset.id`` ``IN`` on the ``adsets`` and ``ads`` edges, in batches): a parent's pause,
archive or delete moves its children's ``effective_status`` but not always their ``updated_time``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import orjson

from metaads.accounts import Account
from metaads.graph.client import GraphClient
from metaads.graph.paging import iter_pages

# Meta's effective_status enums (facebook_business/adobjects campaign.py, adset.py, ad.py).
CAMPAIGN_STATUSES = ("ACTIVE", "ARCHIVED", "DELETED", "IN_PROCESS", "PAUSED", "WITH_ISSUES")
ADSET_STATUSES = ("ACTIVE", "ARCHIVED", "CAMPAIGN_PAUSED", "DELETED", "IN_PROCESS", "PAUSED", "WITH_ISSUES")
AD_STATUSES = (
    "ACTIVE",
    "ADSET_PAUSED",
    "ARCHIVED",
    "CAMPAIGN_PAUSED",
    "DELETED",
    "DISAPPROVED",
    "IN_PROCESS",
    "PAUSED",
    "PENDING_BILLING_INFO",
    "PENDING_REVIEW",
    "PREAPPROVED",
    "WITH_ISSUES",
)
STATUSES_BY_EDGE: dict[str, tuple[str, ...]] = {
    "campaigns": CAMPAIGN_STATUSES,
    "adsets": ADSET_STATUSES,
    "ads": AD_STATUSES,
}
#: Ids asked for per request, own or parents' (a long ``IN`` list makes a long URL).
IDS_PER_REQUEST = 50


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def list_objects(
    client: GraphClient,
    account: Account,
    edge: str,
    node: str,
    fields: Sequence[str],
    *,
    updated_after: datetime | None = None,
    ids: Sequence[str] | None = None,
    ids_of: str | None = None,
    page_size: int | None = None,
) -> Iterator[list[dict[str, object]]]:
    """Pages of the account's objects on ``edge`` (``campaigns``, ``adsets``, ``ads``, ``adcreatives``).

    Args:
        node: the filtering prefix of the edge (``campaign``, ``adset``, ``ad``, ``creative``).
        updated_after: only objects whose ``updated_time`` is later (whole seconds, rounded down).
        ids: only these objects (``<node>.id IN``); an empty list asks for nothing.
        ids_of: the node ``ids`` name when not the edge's own: ``campaign`` or ``adset``, the objects whose
            parent is one of ``ids`` (``campaign.id IN`` on ``adsets`` and ``ads``, ``adset.id IN`` on ``ads``).

    Raises:
        GraphAPIError: a subclass from :mod:`metaads.errors`, as for insights.
    """
    if ids is not None:
        unique = sorted(set(ids))
        for start in range(0, len(unique), IDS_PER_REQUEST):
            batch = unique[start : start + IDS_PER_REQUEST]
            yield from _pages(client, account, edge, node, fields, updated_after, page_size, batch, ids_of or node)
        return
    yield from _pages(client, account, edge, node, fields, updated_after, page_size, None, node)


def _pages(
    client: GraphClient,
    account: Account,
    edge: str,
    node: str,
    fields: Sequence[str],
    updated_after: datetime | None,
    page_size: int | None,
    ids: Sequence[str] | None,
    ids_of: str,
) -> Iterator[list[dict[str, object]]]:
    params: dict[str, str] = {"fields": ",".join(fields)}
    filtering: list[dict[str, object]] = []
    statuses = STATUSES_BY_EDGE.get(edge)
    if statuses:
        params["effective_status"] = _dumps(list(statuses))
    if updated_after is not None:
        filtering.append(
            {"field": f"{node}.updated_time", "operator": "GREATER_THAN", "value": int(updated_after.timestamp())}
        )
    if ids is not None:
        filtering.append({"field": f"{ids_of}.id", "operator": "IN", "value": list(ids)})
    if filtering:
        params["filtering"] = _dumps(filtering)
    yield from iter_pages(
        client.session,
        f"{account.act_id}/{edge}",
        params,
        account=account,
        page_size=page_size or client.policy.page_size,
    )
