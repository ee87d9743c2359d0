"""Campaign, ad set, ad and creative objects (the API's JSON) to entity-table rows: the entity row contract.

Each :class:`EntityKind` names its Graph edge, the fields asked for and the table columns, in row order
(:mod:`metaads.warehouse.entities` builds the tables from these and checks they agree). Values keep the
API's meaning: budgets and bid amounts are integers in the account currency's minor units (cents), as
Meta sends them; times are timezone-aware datetimes; nested objects (targeting, tracking specs, the
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


def _common_head() -> tuple[EntityColumn, ...]:
    return (EntityColumn("id", "id"), EntityColumn("account_id", "account_id"), EntityColumn("name", "name"))


_LOADED = EntityColumn("loaded_at", "", TIME)
_TIMES = (EntityColumn("created_time", "created_time", TIME), EntityColumn("updated_time", "updated_time", TIME))

CAMPAIGNS = EntityKind(
    "campaigns",
    "campaigns",
    "campaign",
    (
        *_common_head(),
        EntityColumn("objective", "objective"),
        EntityColumn("status", "status"),
        EntityColumn("effective_status", "effective_status"),
        EntityColumn("buying_type", "buying_type"),
        EntityColumn("bid_strategy", "bid_strategy"),
        EntityColumn("daily_budget", "daily_budget", INTEGER),
        EntityColumn("lifetime_budget", "lifetime_budget", INTEGER),
        EntityColumn("budget_remaining", "budget_remaining", INTEGER),
        EntityColumn("start_time", "start_time", TIME),
        EntityColumn("stop_time", "stop_time", TIME),
        *_TIMES,
        _LOADED,
    ),
)

ADSETS = EntityKind(
    "adsets",
    "adsets",
    "adset",
    (
        *_common_head(),
        EntityColumn("campaign_id", "campaign_id"),
        EntityColumn("status", "status"),
        EntityColumn("effective_status", "effective_status"),
        EntityColumn("optimization_goal", "optimization_goal"),
        EntityColumn("billing_event", "billing_event"),
        EntityColumn("bid_strategy", "bid_strategy"),
        EntityColumn("bid_amount", "bid_amount", INTEGER),
        EntityColumn("daily_budget", "daily_budget", INTEGER),
        EntityColumn("lifetime_budget", "lifetime_budget", INTEGER),
        EntityColumn("targeting", "targeting", JSON),
        EntityColumn("start_time", "start_time", TIME),
        EntityColumn("end_time", "end_time", TIME),
        *_TIMES,
        _LOADED,
    ),
)

ADS = EntityKind(
    "ads",
    "ads",
    "ad",
    union="ad_details",
    columns=(
        *_common_head(),
        EntityColumn("campaign_id", "campaign_id"),
        EntityColumn("adset_id", "adset_id"),
        EntityColumn("status", "status"),
        EntityColumn("effective_status", "effective_status"),
        EntityColumn("creative_id", "creative.id"),
        EntityColumn("tracking_specs", "tracking_specs", JSON),
        *_TIMES,
        _LOADED,
    ),
)

CREATIVES = EntityKind(
    "creatives",
    "adcreatives",
    "creative",
    (
        *_common_head(),
        EntityColumn("status", "status"),
        EntityColumn("title", "title"),
        EntityColumn("body", "body"),
        EntityColumn("call_to_action_type", "call_to_action_type"),
        EntityColumn("link_url", "link_url"),
        EntityColumn("image_hash", "image_hash"),
        EntityColumn("image_url", "image_url"),
        EntityColumn("video_id", "video_id"),
        EntityColumn("thumbnail_url", "thumbnail_url"),
        EntityColumn("object_story_spec", "object_story_spec", JSON),
        _LOADED,
    ),
    updated_filter=False,
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
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            parsed = dt.datetime.fromisoformat(value)
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
        return parse_graph_time(value)
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
