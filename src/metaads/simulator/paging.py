"""Cursor paging as the Graph API does it: opaque cursors, ``paging.next`` carrying the token."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from metaads.simulator import errors

# Paging state never goes into these parameters of the next URL: it gets its own ``after``.
_CURSOR_PARAMS = ("after", "before")


def encode_cursor(*parts: int) -> str:
    """An opaque cursor for a position (base64, like Meta's ``MjQZD``-style strings)."""
    raw = ("c:" + ":".join(str(p) for p in parts)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> tuple[int, ...]:
    """The position in a cursor; a trailing nonce (empty-page faults) is dropped."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, *parts = text.split(":")
        numbers = tuple(int(p) for p in parts)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.invalid_param("Invalid cursor: after") from None
    if kind != "c" or len(numbers) < size or any(n < 0 for n in numbers):
        raise errors.invalid_param("Invalid cursor: after")
    return numbers[:size]


def next_url(base_url: str, path: str, params: Mapping[str, str], after: str) -> str:
    """The absolute ``next`` URL: the request again, token included, with ``after`` set."""
    query = {k: v for k, v in params.items() if k not in _CURSOR_PARAMS}
    query["after"] = after
    return f"{base_url}{path}?{urlencode(query)}"


def page(data: Sequence[Any], *, before: str | None, after: str | None, next_link: str | None) -> dict[str, Any]:
    """The ``{"data": [...], "paging": {...}}`` envelope; no ``next`` on the last page."""
    body: dict[str, Any] = {"data": list(data)}
    if before is None and after is None:
        return body
    paging: dict[str, Any] = {"cursors": {"before": before or after, "after": after or before}}
    if next_link:
        paging["next"] = next_link
    body["paging"] = paging
    return body
