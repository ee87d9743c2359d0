"""Insights rows to actions rows: one per action type per ad-day, with the matching action value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from metaads.errors import InsightRowError
from metaads.transform.keys import breakdown_suffix, required_id, row_day, text_id
from metaads.transform.numbers import parse_amount


class ActionsRow(NamedTuple):
    """One action type of one ad-day, fields in :data:`ACTIONS_COLUMNS` order."""

    unique_id: str
    account_id: str
    ad_id: str
    date: dt.date
    action_type: str
    value: int | Decimal
    action_value: int | Decimal | None
    loaded_at: dt.datetime


#: The actions tables' columns, in row order (:mod:`metaads.warehouse.schema` checks its tables against it).
ACTIONS_COLUMNS: tuple[str, ...] = ActionsRow._fields


def _sum_by_type(items: Any, field: str) -> dict[str, int | Decimal]:
    # Without action_breakdowns beyond action_type each type appears once; with extra action
    # breakdowns (e.g. action_device) a type repeats per breakdown value, and its total is the sum.
    totals: dict[str, int | Decimal] = {}
    if not items:
        return totals
    if not isinstance(items, list):
        raise InsightRowError(f"{field}: expected a list of {{action_type, value}}, got {type(items).__name__}")
    for item in items:
        # type() first: an ABC's isinstance costs five times as much, and every item is a dict
        action_type = item.get("action_type") if type(item) is dict or isinstance(item, Mapping) else None
        if not action_type or type(action_type) is not str:
            raise InsightRowError(f"{field}: item without action_type: {item!r}")
        try:
            value = parse_amount(item.get("value"), field)
        except InsightRowError as exc:
            raise InsightRowError(f"{field}[{action_type}]: {exc}") from None
        previous = totals.get(action_type)
        totals[action_type] = value if previous is None else previous + value
    return totals


def to_actions_rows(
    insight_rows: Iterable[Mapping[str, Any]],
    *,
    loaded_at: dt.datetime,
    breakdowns: Sequence[str] = (),
) -> Iterator[ActionsRow]:
    """Yield the actions rows of every insights row (none for a row without ``actions``).

    ``value`` is the action count (an int, or a Decimal when fractional: Meta returns fractional values
    for modelled conversions; see :func:`~metaads.transform.numbers.parse_amount`);
    ``action_value`` is the ``action_values`` entry of the same type (e.g. purchase value), None when
    absent. A type present only in ``action_values`` still gets a row (value 0) so no revenue is lost.
    Attribution-window keys (``"7d_click"``...) are ignored: ``value`` is the default attribution.
    ``unique_id`` is the MD5 of ``account_id|ad_id|date|action_type`` (then breakdown values).
    """
    if loaded_at.tzinfo is None:
        raise ValueError("loaded_at must be timezone-aware")
    # Hot loop (several rows per ad-day): tuple.__new__ is ActionsRow._make without its Python frame.
    new = tuple.__new__
    for row in insight_rows:
        counts = _sum_by_type(row.get("actions"), "actions")
        amounts = _sum_by_type(row.get("action_values"), "action_values")
        if not counts and not amounts:
            continue
        account_id = required_id(row, "account_id")
        ad_id = required_id(row, "ad_id")
        day, iso_day = row_day(row)
        prefix = f"{account_id}|{ad_id}|{iso_day}|"
        suffix = "".join("|" + part for part in breakdown_suffix(row, breakdowns)) if breakdowns else ""
        for action_type, value in counts.items():
            yield new(
                ActionsRow,
                (
                    text_id(prefix + action_type + suffix),
                    account_id,
                    ad_id,
                    day,
                    action_type,
                    value,
                    amounts.get(action_type),
                    loaded_at,
                ),
            )
        for action_type, amount in amounts.items():
            if action_type not in counts:
                yield new(
                    ActionsRow,
                    (
                        text_id(prefix + action_type + suffix),
                        account_id,
                        ad_id,
                        day,
                        action_type,
                        0,
                        amount,
                        loaded_at,
                    ),
                )
