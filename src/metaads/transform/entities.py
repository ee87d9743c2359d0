"""Campaign, ad set, ad and creative objects (the API's JSON) to entity-table rows: the entity row contract.

Each :class:`EntityKind` names its Graph edge, the fields asked for and the table columns, in row order
(:mod:`metaads.warehouse.entities` builds the tables from these and checks they agree). Values keep the
API's meaning: budgets and bid amounts are integers in the account currency's minor units (cents), as
Meta sends them; times are timezone-aware datetimes in UTC; nested objects (targeting, tracking specs, the
creative's object story spec) are JSON text with sorted keys, so an unchanged object gives the same text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from metaads.errors import InsightRowError

#: Column value kinds: how an API value becomes a column value.
TEXT, INTEGER, TIME, JSON = "text", "integer", "time", "json"


@dataclass(frozen=True)
class EntityColumn:
    """One entity-table column: its name, the API field it comes from (``a.b`` for a nested one), its kind."""

    name: str
    field: str
    kind: str = TEXT
    description: str = ""  # the data dictionary's text (PostgreSQL COMMENT ON, docs/data-dictionary.md)


@dataclass(frozen=True)
class EntityKind:
    """One entity table: ``<table>_<name>`` per account, ``vw_graph_<union>`` and ``graph_<union>``."""

    name: str  # campaigns | adsets | ads | creatives
    edge: str  # the account's Graph edge
    node: str  # the filtering prefix (``campaign.updated_time``) and the SDK's node name
    columns: tuple[EntityColumn, ...]
    updated_filter: bool = True  # the edge filters on ``<node>.updated_time``
    # The union view / analytics table name part: ``vw_graph_ads`` and ``graph_ads`` are the insights'.
    union: str = ""
    title: str = ""  # the objects in words ("ad sets"), for the data dictionary
    description: str = ""  # the table's description (PostgreSQL COMMENT ON, docs/data-dictionary.md)

    @property
    def union_name(self) -> str:
        return self.union or self.name

    @property
    def api_fields(self) -> tuple[str, ...]:
        """The ``fields`` parameter: every column's top-level API field, once."""
        seen: dict[str, None] = {}
        for column in self.columns:
            if column.field:
                seen.setdefault(column.field.split(".", 1)[0], None)
        return tuple(seen)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _common_head(noun: str) -> tuple[EntityColumn, ...]:
    return (
        EntityColumn("id", "id", description=f"the {noun}'s id at Meta (the table's key)"),
        EntityColumn("account_id", "account_id", description="ad account id, digits only (no act_ prefix)"),
        EntityColumn("name", "name", description=f"{noun} name as Meta had it at the last load"),
    )


def _statuses(noun: str) -> tuple[EntityColumn, ...]:
    return (
        EntityColumn(
            "status",
            "status",
            description=f"status the advertiser set on the {noun}: ACTIVE, PAUSED, DELETED or ARCHIVED",
        ),
        EntityColumn(
            "effective_status",
            "effective_status",
            description="status Meta delivers by, counting parents and review: e.g. ACTIVE, PAUSED, "
            "CAMPAIGN_PAUSED, ADSET_PAUSED, IN_PROCESS, WITH_ISSUES, DISAPPROVED, DELETED, ARCHIVED",
        ),
    )


def _budget(name: str, what: str, null: str = "none set") -> EntityColumn:
    # Meta sends budgets as integer strings in the currency's minor units; they are kept as sent.
    return EntityColumn(
        name, name, INTEGER, f"{what}, in minor units of the account currency (cents) as Meta sends it; NULL: {null}"
    )


_LOADED = EntityColumn("loaded_at", "", TIME, "when metaads last loaded (inserted or updated) this row (UTC)")
_TIMES = (
    EntityColumn("created_time", "created_time", TIME, "when the object was created at Meta"),
    EntityColumn(
        "updated_time",
        "updated_time",
        TIME,
        "when the object last changed at Meta (the incremental loads ask for objects updated since their last load)",
    ),
)
_BID_STRATEGY = "bid strategy: LOWEST_COST_WITHOUT_CAP, LOWEST_COST_WITH_BID_CAP, COST_CAP or LOWEST_COST_WITH_MIN_ROAS"

CAMPAIGNS = EntityKind(
    "campaigns",
    "campaigns",
    "campaign",
    (
        *_common_head("campaign"),
        EntityColumn("objective", "objective", description="campaign objective, e.g. OUTCOME_TRAFFIC, OUTCOME_SALES"),
        *_statuses("campaign"),
        EntityColumn("buying_type", "buying_type", description="AUCTION or RESERVED"),
        EntityColumn("bid_strategy", "bid_strategy", description=f"{_BID_STRATEGY}; NULL when the ad sets carry it"),
        _budget("daily_budget", "daily budget (campaign budget)"),
        _budget("lifetime_budget", "lifetime budget (campaign budget)"),
        _budget("budget_remaining", "budget left to spend", "no campaign budget"),
        EntityColumn("start_time", "start_time", TIME, "when the campaign starts delivering"),
        EntityColumn("stop_time", "stop_time", TIME, "when the campaign stops; NULL: runs until stopped"),
        *_TIMES,
        _LOADED,
    ),
    title="campaigns",
    description="Campaigns of one ad account, every status: one row per campaign, updated in place by id (metaads)",
)

ADSETS = EntityKind(
    "adsets",
    "adsets",
    "adset",
    (
        *_common_head("ad set"),
        EntityColumn("campaign_id", "campaign_id", description="campaign of the ad set"),
        *_statuses("ad set"),
        EntityColumn(
            "optimization_goal",
            "optimization_goal",
            description="what delivery optimises for, e.g. LINK_CLICKS, OFFSITE_CONVERSIONS, REACH",
        ),
        EntityColumn("billing_event", "billing_event", description="what the advertiser pays for, e.g. IMPRESSIONS"),
        EntityColumn("bid_strategy", "bid_strategy", description=_BID_STRATEGY),
        _budget("bid_amount", "bid cap or cost target"),
        _budget("daily_budget", "daily budget (ad set budget)"),
        _budget("lifetime_budget", "lifetime budget (ad set budget)"),
        EntityColumn(
            "targeting", "targeting", JSON, "targeting spec (audience, locations, placements), JSON text, sorted keys"
        ),
        EntityColumn("start_time", "start_time", TIME, "when the ad set starts delivering"),
        EntityColumn("end_time", "end_time", TIME, "when the ad set ends; NULL: runs until stopped"),
        *_TIMES,
        _LOADED,
    ),
    title="ad sets",
    description="Ad sets of one ad account, every status: one row per ad set, updated in place by id (metaads)",
)

ADS = EntityKind(
    "ads",
    "ads",
    "ad",
    union="ad_details",
    columns=(
        *_common_head("ad"),
        EntityColumn("campaign_id", "campaign_id", description="campaign of the ad"),
        EntityColumn("adset_id", "adset_id", description="ad set of the ad"),
        *_statuses("ad"),
        EntityColumn("creative_id", "creative.id", description="the ad's creative (joins the creatives on id)"),
        EntityColumn(
            "tracking_specs", "tracking_specs", JSON, "what the ad tracks (pixels, apps), JSON text, sorted keys"
        ),
        *_TIMES,
        _LOADED,
    ),
    title="ads",
    description="Ads of one ad account, every status: one row per ad, updated in place by id (metaads)",
)

CREATIVES = EntityKind(
    "creatives",
    "adcreatives",
    "creative",
    (
        *_common_head("creative"),
        EntityColumn("status", "status", description="ACTIVE, IN_PROCESS, WITH_ISSUES or DELETED"),
        EntityColumn("title", "title", description="headline"),
        EntityColumn("body", "body", description="primary text"),
        EntityColumn("call_to_action_type", "call_to_action_type", description="button, e.g. SHOP_NOW, LEARN_MORE"),
        EntityColumn("link_url", "link_url", description="destination URL"),
        EntityColumn("image_hash", "image_hash", description="hash of the image in the account's image library"),
        EntityColumn("image_url", "image_url", description="URL of the image"),
        EntityColumn("video_id", "video_id", description="the video, for video creatives"),
        EntityColumn("thumbnail_url", "thumbnail_url", description="URL of a thumbnail (Meta's CDN links expire)"),
        EntityColumn(
            "object_story_spec",
            "object_story_spec",
            JSON,
            "the post the creative makes (page, link or video data), JSON text, sorted keys",
        ),
        _LOADED,
    ),
    updated_filter=False,
    title="creatives",
    description="Ad creatives of one ad account: one row per creative, updated in place by id (metaads)",
)

#: Every entity kind, parents first (the order they are loaded in).
ENTITY_KINDS: tuple[EntityKind, ...] = (CAMPAIGNS, ADSETS, ADS, CREATIVES)
KINDS_BY_NAME: dict[str, EntityKind] = {kind.name: kind for kind in ENTITY_KINDS}


def parse_graph_time(value: object) -> dt.datetime | None:
    """``2026-01-31T10:00:00+0000`` (the Graph API's format; ISO with a colon accepted) -> aware datetime."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InsightRowError(f"time {value!r} is not text")
    # fromisoformat reads Meta's "+0000" from Python 3.11 on, some 40 times faster than strptime (an
    # account's thousands of objects carry three times each); strptime is the format's own reader.
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        try:
            return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            raise InsightRowError(f"time {value!r} is not like 2026-01-31T10:00:00+0000") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _integer(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InsightRowError(f"{value!r} is not an integer amount")
    try:
        return int(str(value))
    except ValueError:
        raise InsightRowError(f"{value!r} is not an integer amount (minor currency units)") from None


def _json(value: object) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _lookup(obj: Mapping[str, Any], path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _convert(column: EntityColumn, value: Any) -> Any:
    if column.kind == INTEGER:
        return _integer(value)
    if column.kind == TIME:
        moment = parse_graph_time(value)
        # In UTC, as every metaads timestamp: SQLite keeps a datetime's wall time and drops its offset, and
        # the incremental loads compare these times with their watermark in SQL.
        return None if moment is None else moment.astimezone(dt.timezone.utc)
    if column.kind == JSON:
        return _json(value)
    return value if value is None or isinstance(value, str) else str(value)


def to_entity_rows(
    kind: EntityKind, objects: Iterable[Mapping[str, Any]], *, account_id: str, loaded_at: dt.datetime
) -> Iterator[tuple[Any, ...]]:
    """One row per object in ``kind.columns`` order; ``account_id`` fills in when the API left it out.

    Raises:
        InsightRowError: an object without an id, or with a malformed time or amount.
    """
    for obj in objects:
        if not obj.get("id"):
            raise InsightRowError(f"{kind.name} object without an id: {sorted(obj)}")
        row: list[Any] = []
        for column in kind.columns:
            if column.name == "loaded_at":
                row.append(loaded_at)
            elif column.name == "account_id":
                row.append(str(obj.get("account_id") or account_id))
            else:
                try:
                    row.append(_convert(column, _lookup(obj, column.field)))
                except InsightRowError as exc:
                    raise InsightRowError(f"{kind.name} {obj.get('id')}: {column.name}: {exc}") from None
        yield tuple(row)


def creative_ids(ads: Iterable[Mapping[str, Any]]) -> set[str]:
    """The creative ids the ads reference (``creative.id``)."""
    found: set[str] = set()
    for ad in ads:
        creative = ad.get("creative")
        if isinstance(creative, Mapping) and creative.get("id"):
            found.add(str(creative["id"]))
    return found
