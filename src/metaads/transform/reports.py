"""Insights rows of an extra report (the API's JSON shape) to its table rows: pure, typed from the catalogue.

Main rows follow :attr:`ReportLayout.columns`; list rows (one per item of a list-valued field such as
``actions`` or ``cost_per_action_type``) follow :attr:`ReportLayout.list_columns`. Numeric strings
become exact Decimals, counts ints, ids and enums text, other lists and objects JSON text. A metric
Meta left out stays NULL (an extra report never guesses 0). ``unique_id`` hashes the natural key:
account, the level's object id, day and the breakdown values; a list row's hashes its parent's
unique_id, the field, the action type and the action-breakdown values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import orjson

from metaads.errors import InsightRowError
from metaads.transform.keys import breakdown_suffix, key_id, required_id
from metaads.transform.numbers import parse_decimal, parse_optional_count
from metaads.transform.report_spec import ReportLayout

Row = tuple[object, ...]


def _day(row: Mapping[str, Any], name: str) -> dt.date:
    value = row.get(name)
    if not isinstance(value, str):
        raise InsightRowError(f"insights row without {name}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InsightRowError(f"{name} {value!r} is not YYYY-MM-DD") from None


def _optional_decimal(value: object, field: str) -> Decimal | None:
    return None if value is None or value == "" else parse_decimal(value, field)


def _text(value: object) -> str | None:
    if value is None or type(value) is str:
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode() if isinstance(value, (dict, list)) else str(value)


def _json(value: object) -> str | None:
    return None if value is None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _scalar(kind: str, value: object, field: str) -> object:
    if kind == "decimal":
        return _optional_decimal(value, field)
    if kind == "integer":
        return parse_optional_count(value, field)
    if kind == "json":
        return _json(value)
    return _text(value)


class _Keyed:
    """The key parts of one insights row (shared by its main row and its list rows)."""

    __slots__ = ("account_id", "day", "ids", "unique_id")

    def __init__(self, row: Mapping[str, Any], layout: ReportLayout) -> None:
        spec = layout.spec
        self.account_id = required_id(row, "account_id")
        own = self.account_id if spec.level == "account" else required_id(row, spec.level_id)
        self.ids: tuple[str, ...] = (self.account_id,) if spec.level == "account" else (self.account_id, own)
        self.day = _day(row, "date_start")
        self.unique_id = key_id(self.account_id, own, self.day.isoformat(), *breakdown_suffix(row, spec.breakdowns))


def to_report_rows(
    insight_rows: Iterable[Mapping[str, Any]], layout: ReportLayout, *, loaded_at: dt.datetime
) -> Iterator[Row]:
    """One main-table row per insights row, in :attr:`ReportLayout.columns` order.

    Raises:
        InsightRowError: a row lacks its ids or date, or a numeric field is not a number.
    """
    if loaded_at.tzinfo is None:
        raise ValueError("loaded_at must be timezone-aware")
    spec = layout.spec
    kind_of = {column.name: column.kind for column in layout.columns}
    kinds = [(name, kind_of[name]) for name in layout.scalar_fields]
    for row in insight_rows:
        keyed = _Keyed(row, layout)
        values: list[object] = [keyed.unique_id, *keyed.ids, keyed.day]
        if spec.time_increment != 1:
            values.append(_day(row, "date_stop"))
        values.extend(_text(row.get(name)) for name in spec.breakdowns)
        values.extend(_scalar(kind, row.get(name), name) for name, kind in kinds)
        values.append(loaded_at)
        yield tuple(values)


def to_report_list_rows(
    insight_rows: Iterable[Mapping[str, Any]], layout: ReportLayout, *, loaded_at: dt.datetime
) -> Iterator[Row]:
    """One lists-table row per item of each list-valued field, in :attr:`ReportLayout.list_columns` order.

    Items repeating a (field, action type, action-breakdown values) key are summed, so the key stays
    unique whatever Meta sends.

    Raises:
        InsightRowError: a list field is not a list of {action_type, value} objects, or a value is not a number.
    """
    if loaded_at.tzinfo is None:
        raise ValueError("loaded_at must be timezone-aware")
    windows = layout.spec.action_attribution_windows
    extras = layout.item_breakdowns
    for row in insight_rows:
        if not any(row.get(f) for f in layout.list_fields):
            continue
        keyed = _Keyed(row, layout)
        for field in layout.list_fields:
            items = row.get(field)
            if not items:
                continue
            if not isinstance(items, list):
                raise InsightRowError(f"{field}: expected a list of {{action_type, value}}, got {type(items).__name__}")
            merged: dict[tuple[str | None, ...], list[Decimal | None]] = {}
            for item in items:
                action_type = item.get("action_type") if isinstance(item, Mapping) else None
                if not action_type or type(action_type) is not str:
                    raise InsightRowError(f"{field}: item without action_type: {item!r}")
                key = (action_type, *(_text(item.get(b)) for b in extras))
                figures = [_optional_decimal(item.get(name), f"{field}[{action_type}]") for name in ("value", *windows)]
                previous = merged.get(key)
                merged[key] = (
                    figures
                    if previous is None
                    else [b if a is None else a if b is None else a + b for a, b in zip(previous, figures, strict=True)]
                )
            for key, figures in merged.items():
                # An absent action-breakdown value is NULL in its column and "" in the key.
                yield (
                    key_id(keyed.unique_id, field, *(part or "" for part in key)),
                    keyed.unique_id,
                    *keyed.ids,
                    keyed.day,
                    field,
                    *key,
                    *figures,
                    loaded_at,
                )
