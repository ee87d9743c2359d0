"""Extra insights reports (``INSIGHTS_REPORTS``): what each asks Meta for and the columns it stores.

A :class:`ReportSpec` is one configured report; :func:`check_report` validates it against the field
catalogue (:mod:`metaads.graph.fields`) and Meta's breakdown rules before any call, and
:func:`layout` derives its two tables' columns: the main table (one row per object, day and
breakdown combination; scalar fields typed from the catalogue) and the ``_lists`` child table (one
row per list-valued field item: field name, action type, action-breakdown values, value and one value
per attribution window).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from metaads.errors import ConfigError
from metaads.graph.breakdowns import breakdown_problem
from metaads.graph.fields import (
    ACTION_BREAKDOWNS,
    ACTION_REPORT_TIMES,
    ATTRIBUTION_WINDOWS,
    BREAKDOWNS,
    INSIGHTS_FIELDS,
)
from metaads.transform.entities import ENTITY_KINDS

REPORT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
REPORT_VARIABLE = "INSIGHTS_REPORTS"
REPORT_LEVELS = ("account", "campaign", "adset", "ad")
#: Levels from coarse to fine: a field needing level L is available at L and every finer level.
_DEPTH = {level: depth for depth, level in enumerate(REPORT_LEVELS)}
LEVEL_ID = {"account": "account_id", "campaign": "campaign_id", "adset": "adset_id", "ad": "ad_id"}
LEVEL_NOUN = {"account": "ad account", "campaign": "campaign", "adset": "ad set", "ad": "ad"}
#: Columns every report table has; a breakdown or field may not take these names.
RESERVED_COLUMNS = frozenset({"unique_id", "parent_id", "date", "loaded_at", "field", "action_type", "value"})
#: Table-name separator between the account's table and the report (``bm_01__age_gender``).
REPORT_SEPARATOR = "__"
LISTS_SUFFIX = "_lists"
MAX_TABLE_NAME = 63  # PostgreSQL's identifier limit (longer names are silently truncated)
MAX_TIME_INCREMENT = 90
#: Names whose views would be the default report's (``vw_graph_ads``, ``vw_graph_ads_actions``) or the
#: entity tables' (``vw_graph_campaigns``, ``vw_graph_adsets``, ``vw_graph_ad_details``, ``vw_graph_creatives``).
TAKEN_NAMES = frozenset({"ads", "ads_actions", *(kind.union_name for kind in ENTITY_KINDS)})


@dataclass(frozen=True)
class ReportSpec:
    """One extra insights report, validated (see :func:`check_report`)."""

    name: str
    level: str = "ad"
    fields: tuple[str, ...] = ("spend", "impressions", "clicks")
    breakdowns: tuple[str, ...] = ()
    action_breakdowns: tuple[str, ...] = ()
    action_attribution_windows: tuple[str, ...] = ()
    action_report_time: str | None = None
    time_increment: int = 1
    lookback_days: int | None = None

    def table(self, account_table: str) -> str:
        """The report's table of one account: ``<account table>__<report>``."""
        return f"{account_table}{REPORT_SEPARATOR}{self.name}"

    def lists_table(self, account_table: str) -> str:
        return f"{self.table(account_table)}{LISTS_SUFFIX}"

    @property
    def view(self) -> str:
        return f"vw_graph_{self.name}"

    @property
    def lists_view(self) -> str:
        return f"vw_graph_{self.name}{LISTS_SUFFIX}"

    @property
    def target(self) -> str:
        """The analytics table (``graph_<report>``)."""
        return f"graph_{self.name}"

    @property
    def lists_target(self) -> str:
        return f"graph_{self.name}{LISTS_SUFFIX}"

    @property
    def level_id(self) -> str:
        return LEVEL_ID[self.level]

    def request_fields(self) -> tuple[str, ...]:
        """The ``fields`` parameter: the configured fields plus the ids and dates the rows are keyed by."""
        needed = ("account_id", self.level_id, *self.fields, "date_start", "date_stop")
        return tuple(dict.fromkeys(needed))


@dataclass(frozen=True)
class Column:
    """One column of a report table: name, storage kind (``id``, ``text``, ``integer``, ...), description."""

    name: str
    kind: str
    nullable: bool = True
    description: str = ""  # the data dictionary's text (PostgreSQL COMMENT ON), see describe_columns


@dataclass(frozen=True)
class ReportLayout:
    """A report's two tables' columns, in row order, and what fills them."""

    spec: ReportSpec
    columns: tuple[Column, ...]
    list_columns: tuple[Column, ...]
    scalar_fields: tuple[str, ...] = field(default=())
    list_fields: tuple[str, ...] = field(default=())
    item_breakdowns: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def list_column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.list_columns)

    @property
    def table_comment(self) -> str:
        """The description of the report's table of one account."""
        spec = self.spec
        period = "day" if spec.time_increment == 1 else f"{spec.time_increment}-day period"
        by = f"{period} and breakdown values ({', '.join(spec.breakdowns)})" if spec.breakdowns else period
        return (
            f"Extra insights report {spec.name} (INSIGHTS_REPORTS) of one ad account: one row per "
            f"{LEVEL_NOUN[spec.level]}, {by} (metaads)"
        )

    @property
    def lists_comment(self) -> str:
        """The description of the report's ``_lists`` table of one account."""
        by = "action type"
        if self.item_breakdowns:
            by = f"action type and action-breakdown values ({', '.join(self.item_breakdowns)})"
        return (
            f"List-valued fields of extra insights report {self.spec.name} of one ad account: one row per "
            f"report row, field, {by} (metaads)"
        )

    @property
    def view_comment(self) -> str:
        return (
            f"Every ad account's rows of extra insights report {self.spec.name} (UNION ALL of the per-account tables)"
        )

    @property
    def lists_view_comment(self) -> str:
        return (
            f"Every ad account's list items of extra insights report {self.spec.name} "
            "(UNION ALL of the per-account _lists tables)"
        )


def window_column(window: str) -> str:
    """The lists column of one attribution window (``7d_click`` -> ``value_7d_click``)."""
    return f"value_{window}"


WINDOW_PREFIX = "value_"


def retained_column(name: str, *, lists: bool) -> Column | None:
    """The column a report table keeps for ``name`` once the report no longer asks for it, or None.

    A report whose ``fields`` (or attribution windows) shrink keeps the columns it filled before
    (nullable; new rows leave them NULL): a scalar insights field in the main table, a
    ``value_<window>`` in the lists table, typed from the catalogue as when they were configured.
    Anything else (a breakdown, a key, a column added by hand) is not a retained field column.
    """
    if lists:
        window = name.removeprefix(WINDOW_PREFIX)
        return Column(name, "decimal") if name.startswith(WINDOW_PREFIX) and window in ATTRIBUTION_WINDOWS else None
    known = INSIGHTS_FIELDS.get(name)
    if known is None or known.storage == "list" or name in ("account_id", "date_start", "date_stop"):
        return None
    return Column(name, known.storage)


def is_breakdown_column(name: str, *, lists: bool) -> bool:
    """Whether ``name`` is a breakdown's column (lists: an action breakdown's), part of the row key."""
    return name in ACTION_BREAKDOWNS if lists else name in BREAKDOWNS


def layout(spec: ReportSpec) -> ReportLayout:
    """The columns of ``spec``'s tables (the row contract of :mod:`metaads.transform.reports`)."""
    keys = ["account_id"] if spec.level == "account" else ["account_id", spec.level_id]
    fixed = {"account_id", spec.level_id, "date_start", "date_stop"}
    scalars = tuple(f for f in spec.fields if f not in fixed and INSIGHTS_FIELDS[f].storage != "list")
    lists = tuple(f for f in spec.fields if INSIGHTS_FIELDS[f].storage == "list")
    columns = [
        Column("unique_id", "key", False),
        *(Column(k, "id", False) for k in keys),
        Column("date", "date", False),
    ]
    if spec.time_increment != 1:
        columns.append(Column("date_stop", "date", False))
    columns += [Column(b, "breakdown") for b in spec.breakdowns]
    columns += [Column(f, INSIGHTS_FIELDS[f].storage) for f in scalars]
    columns.append(Column("loaded_at", "timestamp", False))
    item_breakdowns = tuple(b for b in spec.action_breakdowns if b != "action_type")
    list_columns = [
        Column("unique_id", "key", False),
        Column("parent_id", "key", False),
        *(Column(k, "id", False) for k in keys),
        Column("date", "date", False),
        Column("field", "name", False),
        Column("action_type", "action_type", False),
        *(Column(b, "breakdown") for b in item_breakdowns),
        Column("value", "decimal"),
        *(Column(window_column(w), "decimal") for w in spec.action_attribution_windows),
        Column("loaded_at", "timestamp", False),
    ]
    return ReportLayout(
        spec,
        describe_columns(columns, spec, lists=False, list_fields=lists),
        describe_columns(list_columns, spec, lists=True, list_fields=lists),
        scalars,
        lists,
        item_breakdowns,
    )


# Longest list of fields a description names (MySQL, an analytics target, takes 1024-character comments).
MAX_LISTED = 600
#: How each storage kind of the field catalogue keeps a field's value, in words (the descriptions' part).
STORAGE_DESCRIPTIONS = {
    "id": "text (an id)",
    "text": "text as Meta sends it",
    "integer": "an integer count",
    "decimal": "an exact decimal (Meta sends a numeric string; never float)",
    "json": "JSON text with sorted keys",
    "list": "one _lists row per item",
}


def field_description(name: str) -> str:
    """A report field column's description, from the catalogue: the field, Meta's type and the storage.

    The SDK the catalogue is generated from carries no description text, so this names what it knows.
    """
    known = INSIGHTS_FIELDS[name]
    return (
        f"{name}: AdsInsights field (Meta type {known.meta_type}), stored as {STORAGE_DESCRIPTIONS[known.storage]}; "
        "NULL when Meta left it out"
    )


def _description(column: Column, spec: ReportSpec, *, lists: bool, list_fields: tuple[str, ...]) -> str:
    name = column.name
    if name == "unique_id":
        if lists:
            return "MD5 of parent_id, field, action type and action-breakdown values: the item's stable key"
        ids = "account_id" if spec.level == "account" else f"account_id, {spec.level_id}"
        return f"MD5 of {ids}, date and breakdown values: the row's key, stable across Meta's restatements"
    if name == "parent_id":
        return "unique_id of the report row this list item belongs to"
    if name == "account_id":
        return "ad account id, digits only (no act_ prefix)"
    if name == spec.level_id and column.kind == "id":
        return f"the {LEVEL_NOUN[spec.level]} (the report's level: {spec.level})"
    if name == "date":
        if spec.time_increment == 1:
            return "the day, in the ad account's time zone (Meta's date_start)"
        return f"first day of the row's {spec.time_increment}-day period, account time zone (Meta's date_start)"
    if name == "date_stop":
        return f"last day of the row's {spec.time_increment}-day period, account time zone (Meta's date_stop)"
    if name == "loaded_at":
        return "when metaads loaded this row (UTC)"
    if lists:
        if name == "field":
            kinds = ", ".join(f"{f} ({INSIGHTS_FIELDS[f].meta_type})" for f in list_fields) or "none configured"
            if len(kinds) > MAX_LISTED:  # analytics targets carry the comment too: MySQL allows 1024 characters
                kinds = f"one of the {len(list_fields)} list-valued fields of the report's fields"
            return f"the list-valued AdsInsights field the item comes from: {kinds}"
        if name == "action_type":
            return "Meta's action type of the item, e.g. link_click, purchase, offsite_conversion.fb_pixel_lead"
        if name == "value":
            return "the item's value with the default attribution (exact decimal); NULL when Meta sent none"
        if column.kind == "breakdown":
            return f"action breakdown {name}: the item's {name} value (part of its key); NULL when Meta sent none"
        window = name.removeprefix("value_")
        return f"the item's value in the {window} attribution window (exact decimal); NULL when Meta sent none"
    if column.kind == "breakdown":
        return f"breakdown {name}: the row's {name} value (part of its key); NULL when Meta sent none"
    return field_description(name)


def describe_columns(
    columns: list[Column], spec: ReportSpec, *, lists: bool, list_fields: tuple[str, ...]
) -> tuple[Column, ...]:
    """``columns`` with their descriptions: the fixed columns' text, the fields' from the catalogue."""
    return tuple(replace(c, description=_description(c, spec, lists=lists, list_fields=list_fields)) for c in columns)


def _fail(spec_name: str, item: str, message: str) -> ConfigError:
    return ConfigError(f"report {spec_name!r}, {item}: {message}", variable=REPORT_VARIABLE)


def _check_list(name: str, item: str, values: tuple[str, ...], allowed: tuple[str, ...], what: str) -> None:
    for value in values:
        if value not in allowed:
            raise _fail(name, item, f"unknown {what} {value!r} (not in the Marketing API's list)")
    if len(set(values)) != len(values):
        raise _fail(name, item, f"a {what} is listed twice")


def check_report(spec: ReportSpec) -> None:
    """Validate ``spec`` the way Meta would, before any call.

    Raises:
        ConfigError: naming ``INSIGHTS_REPORTS``, the report and the field at fault.
    """
    name = spec.name
    if not REPORT_NAME.match(name):
        raise _fail(name, "name", f"must match {REPORT_NAME.pattern} (lower case, at most 31 characters)")
    if name in TAKEN_NAMES:
        raise _fail(
            name, "name", f"{name!r} is taken: vw_graph_{name} is the default report's or an entity table's view"
        )
    if spec.level not in REPORT_LEVELS:
        raise _fail(name, "level", f"{spec.level!r} is not one of {', '.join(REPORT_LEVELS)}")
    if not spec.fields:
        raise _fail(name, "fields", "list at least one insights field")
    for item in spec.fields:
        known = INSIGHTS_FIELDS.get(item)
        if known is None:
            raise _fail(name, "fields", f"unknown field {item!r} (not an AdsInsights field)")
        if _DEPTH[known.level] > _DEPTH[spec.level]:
            raise _fail(
                name,
                "fields",
                f"{item!r} is not available at level {spec.level!r} (it needs level {known.level} or finer)",
            )
    if len(set(spec.fields)) != len(spec.fields):
        raise _fail(name, "fields", "a field is listed twice")
    problem = breakdown_problem(spec.breakdowns)
    if problem is not None:
        raise _fail(name, "breakdowns", problem)
    for breakdown in spec.breakdowns:
        if breakdown in RESERVED_COLUMNS or breakdown in spec.fields or breakdown in LEVEL_ID.values():
            raise _fail(name, "breakdowns", f"{breakdown!r} would clash with a column of the same name")
    _check_list(name, "action_breakdowns", spec.action_breakdowns, ACTION_BREAKDOWNS, "action breakdown")
    _check_list(
        name, "action_attribution_windows", spec.action_attribution_windows, ATTRIBUTION_WINDOWS, "attribution window"
    )
    if spec.action_report_time is not None and spec.action_report_time not in ACTION_REPORT_TIMES:
        raise _fail(
            name, "action_report_time", f"{spec.action_report_time!r} is not one of {', '.join(ACTION_REPORT_TIMES)}"
        )
    if (spec.action_breakdowns or spec.action_attribution_windows) and not any(
        INSIGHTS_FIELDS[f].storage == "list" for f in spec.fields
    ):
        raise _fail(
            name,
            "action_breakdowns",
            "action breakdowns and attribution windows shape list fields (actions, action_values, "
            "...): add one to fields",
        )
    if not 1 <= spec.time_increment <= MAX_TIME_INCREMENT:
        raise _fail(name, "time_increment", f"must be a number of days from 1 to {MAX_TIME_INCREMENT}")
    if spec.lookback_days is not None and spec.lookback_days < 1:
        raise _fail(name, "lookback_days", "must be at least 1")


def check_table_names(specs: tuple[ReportSpec, ...], account_tables: list[str]) -> None:
    """Every report table name fits PostgreSQL's 63 characters and none repeats a report name.

    Raises:
        ConfigError: naming the report (and the account table) whose table name is too long.
    """
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise _fail(spec.name, "name", "two reports have this name")
        seen.add(spec.name)
        if spec.name.endswith(LISTS_SUFFIX) and spec.name.removesuffix(LISTS_SUFFIX) in {s.name for s in specs}:
            raise _fail(
                spec.name,
                "name",
                f"its tables would be those of report {spec.name.removesuffix(LISTS_SUFFIX)!r}'s {LISTS_SUFFIX}",
            )
        for table in account_tables:
            longest = spec.lists_table(table)
            if len(longest) > MAX_TABLE_NAME:
                raise _fail(
                    spec.name,
                    "name",
                    f"table {longest!r} would be {len(longest)} characters, over PostgreSQL's "
                    f"{MAX_TABLE_NAME}: shorten the report name or the account's table name",
                )
