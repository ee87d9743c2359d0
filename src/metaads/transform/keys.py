"""Natural keys of insights rows and the stable ``unique_id`` hashed from them.

The original design hashed the whole row, so a restated figure produced a new id and the old row
lingered; hashing only the natural key (account, ad, day, breakdown values, action type) keeps the id
stable across Meta's restatements.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from metaads.errors import InsightRowError


def key_id(*parts: str) -> str:
    """MD5 hex of ``parts`` joined with ``|`` (32 characters, the tables' primary key)."""
    return hashlib.md5("|".join(parts).encode(), usedforsecurity=False).hexdigest()


def breakdown_suffix(row: Mapping[str, Any], breakdowns: Sequence[str]) -> tuple[str, ...]:
    """The row's breakdown values in ``breakdowns`` order ("" when the API left one out)."""
    return tuple("" if row.get(name) is None else str(row[name]) for name in breakdowns)


@lru_cache(maxsize=8192)
def _day(start: object, stop: object) -> tuple[date, str]:
    if not isinstance(start, str):
        raise InsightRowError("missing date_start")
    if stop != start and stop is not None:
        raise InsightRowError(f"row spans {start}..{stop}; insights must be requested daily (time_increment=1)")
    try:
        day = date.fromisoformat(start)
    except ValueError:
        raise InsightRowError(f"date_start {start!r} is not YYYY-MM-DD") from None
    return day, day.isoformat()


def row_day(row: Mapping[str, Any]) -> tuple[date, str]:
    """The day an insights row covers, and its ISO text (``time_increment=1``: date_start == date_stop)."""
    start = row.get("date_start")
    try:
        return _day(start, row.get("date_stop", start))
    except InsightRowError as exc:
        raise InsightRowError(f"ad {row.get('ad_id')!r}: {exc}") from None
    except TypeError:  # unhashable junk in a date field
        raise InsightRowError(f"ad {row.get('ad_id')!r}: date_start {start!r} is not YYYY-MM-DD") from None


def required_id(row: Mapping[str, Any], field: str) -> str:
    """An id the natural key needs; its absence is a data error naming the field."""
    value = row.get(field)
    if type(value) is str and value:
        return value
    if value is None or value == "":
        raise InsightRowError(f"insights row without {field} (ad {row.get('ad_id')!r})")
    return str(value)
