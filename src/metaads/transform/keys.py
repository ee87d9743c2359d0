"""Natural keys of insights rows and the stable ``unique_id`` hashed from them.

The original design hashed the whole row, so a restated figure produced a new id and the old row
lingered; hashing only the natural key (account, ad, day, breakdown values, action type) keeps the id
stable across Meta's restatements.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import lru_cache, partial
from typing import Any

from metaads.errors import InsightRowError


def _md5_constructor() -> Callable[[bytes], Any]:
    # CPython's own MD5 skips OpenSSL's per-call context set-up: 0.39 against 0.82 µs for a key, and a
    # standard run hashes over a million keys. It is not public API, so builds without it use hashlib's
    # (same digests).
    try:
        return importlib.import_module("_md5").md5  # type: ignore[no-any-return]
    except (ImportError, AttributeError):
        return partial(hashlib.md5, usedforsecurity=False)


_md5 = _md5_constructor()


def key_id(*parts: str) -> str:
    """MD5 hex of ``parts`` joined with ``|`` (32 characters, the tables' primary key)."""
    return text_id("|".join(parts))


def text_id(key: str) -> str:
    """MD5 hex of a key already joined (:func:`key_id` of its parts): for loops that build keys by prefix."""
    return _md5(key.encode()).hexdigest()  # type: ignore[no-any-return]


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
