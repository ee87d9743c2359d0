"""``filtering``, Meta's ``[{"field", "operator", "value"}]``: one implementation for object edges and insights.

A field is ``<node>.<attr>`` (``ad.updated_time``, ``campaign.effective_status``, ``adset.id``); object edges
also take their own fields bare (``updated_time``). Times (``updated_time``, ``created_time``,
``start_time``) take unix seconds and compare with GREATER_THAN, GREATER_THAN_OR_EQUAL, LESS_THAN,
LESS_THAN_OR_EQUAL, IN_RANGE / NOT_IN_RANGE (``[from, to]``, both ends included), EQUAL and NOT_EQUAL (whole
seconds), as incremental connectors send them; ids and statuses take IN, NOT_IN, EQUAL, NOT_EQUAL; names
take CONTAIN, NOT_CONTAIN and STARTS_WITH as well. A campaign's, ad set's or ad's time and status are those
as of the moment the answer describes (:mod:`metaads.simulator.lifecycle`, scheduled edits). Anything
else is code 100, with Meta's wording.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from metaads.simulator import errors, lifecycle
from metaads.simulator.objects import updated_time
from metaads.simulator.protocol import json_list
from metaads.simulator.world import Ad, AdSet, Campaign

TIME_FIELDS = frozenset({"updated_time", "created_time", "start_time"})
SET_OPERATORS = ("IN", "NOT_IN", "EQUAL", "NOT_EQUAL")
NUMBER_OPERATORS = (
    "GREATER_THAN",
    "GREATER_THAN_OR_EQUAL",
    "LESS_THAN",
    "LESS_THAN_OR_EQUAL",
    "IN_RANGE",
    "NOT_IN_RANGE",
    "EQUAL",
    "NOT_EQUAL",
)
TEXT_OPERATORS = ("CONTAIN", "NOT_CONTAIN", "EQUAL", "NOT_EQUAL", "IN", "NOT_IN", "STARTS_WITH")


@dataclass(frozen=True)
class Filter:
    """One validated ``filtering`` item: ``owner`` is the node whose ``attr`` is compared."""

    owner: str  # "campaign", "adset", "ad", "creative", ... (a bare field: the edge's own node)
    attr: str
    operator: str
    values: tuple[str, ...]

    @property
    def field(self) -> str:
        return f"{self.owner}.{self.attr}"

    def accepts(self, value: Any) -> bool:
        """Whether an object whose ``attr`` is ``value`` (a datetime for times) passes."""
        op = self.operator
        if self.attr in TIME_FIELDS:
            if value is None:
                return op in ("NOT_EQUAL", "NOT_IN_RANGE")
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


def parse_filtering(
    params: Mapping[str, str],
    *,
    prefixes: Sequence[str],
    fields: Mapping[str, Sequence[str]],
    statuses: Callable[[str], Collection[str] | None],
    bare: bool,
) -> list[Filter]:
    """The ``filtering`` parameter, validated as Meta does (code 100).

    Args:
        prefixes: the nodes a field may name (``ad``, ``adset``, ``campaign``); the first is the edge's own.
        fields: attribute -> the operators it takes.
        statuses: a node's valid ``effective_status`` values (None: not checked).
        bare: whether a field may come without a prefix (object edges; insights need one).
    """
    filters = []
    for position, item in enumerate(json_list(params, "filtering")):
        if not isinstance(item, dict) or not {"field", "operator", "value"} <= set(item):
            raise errors.invalid_param(f"filtering[{position}] must be an object with field, operator, value")
        field, operator = str(item["field"]), str(item["operator"]).upper()
        prefix, _, attr = field.rpartition(".")
        if (prefix and prefix not in prefixes) or (not prefix and not bare) or attr not in fields:
            raise errors.invalid_param(f"Filtering field '{field}' is invalid")
        if operator not in fields[attr]:
            raise errors.invalid_param(
                f"Filtering field '{field}' with operation '{operator.lower()}' is not supported"
            )
        raw = item["value"]
        values = tuple(str(v) for v in (raw if isinstance(raw, list) else [raw]))
        owner = prefix or prefixes[0]
        if attr in TIME_FIELDS:
            needed = 2 if operator.endswith("IN_RANGE") else 1
            if len(values) < needed or not all(_is_number(v) for v in values[:needed]):
                raise errors.invalid_param(
                    f"Filtering field '{field}' with operation '{operator.lower()}' needs "
                    f"{'a [from, to] range' if needed == 2 else 'a number'} of unix seconds"
                )
        if attr == "effective_status":
            allowed = statuses(owner)
            unknown = [v for v in values if allowed is not None and v not in allowed]
            if unknown:
                raise errors.invalid_param(
                    f"Filtering field '{field}' with operation '{operator.lower()}' has invalid value '{unknown[0]}'"
                )
        filters.append(Filter(owner, attr, operator, values))
    return filters


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def value_of(obj: Any, attr: str, now: datetime) -> Any:
    """``obj``'s ``attr`` as of ``now``: campaigns', ad sets' and ads' times and statuses move with the clock."""
    if isinstance(obj, Campaign | AdSet | Ad):
        if attr == "updated_time":
            return updated_time(obj, now)
        if attr == "effective_status":
            return lifecycle.effective_status_at(obj, now)
        if attr == "status":
            return lifecycle.status_at(obj, now)
    return getattr(obj, attr, None)
