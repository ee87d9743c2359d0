"""HTTP-level pieces shared by the adapters: the response value, parameter parsing, JSON as Meta writes it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

_VERSION_RE = re.compile(r"^/?(v\d+\.\d+)(?:/|$)")


@dataclass
class Response:
    """What the simulator answers; ``delay_s`` is latency the HTTP server adapter adds for real."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    delay_s: float = 0.0
    error_code: int | None = field(default=None, repr=False)

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


def dumps(payload: Any) -> bytes:
    """JSON the way graph.facebook.com writes it: ASCII only (``\\u00e9``) and escaped slashes."""
    # orjson writes the same compact JSON several times faster (pages of 1,000 rows are megabytes),
    # but UTF-8 rather than ``\\u`` escapes: text with non-ASCII characters takes the standard encoder.
    raw: bytes | None
    try:
        raw = orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # an integer beyond 64 bits: the standard encoder takes any
        raw = None
    if raw is None or not raw.isascii():
        raw = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return raw.replace(b"/", b"\\/")


def split_version(path: str) -> tuple[str | None, list[str]]:
    """``/v25.0/act_1/insights/`` -> ``("v25.0", ["act_1", "insights"])``."""
    match = _VERSION_RE.match(path)
    version = match.group(1) if match else None
    rest = path[match.end() :] if match else path
    return version, [segment for segment in rest.split("/") if segment]


def merge_params(query: Mapping[str, str], body: bytes, content_type: str | None) -> dict[str, str]:
    """Query string plus form body (POST parameters may come in either)."""
    params = dict(query)
    if body and (content_type is None or "x-www-form-urlencoded" in content_type):
        params.update(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return params


def bearer_token(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization")
    if value and value.lower().startswith("bearer "):
        return value[7:].strip() or None
    if value and value.lower().startswith("oauth "):
        return value[6:].strip() or None
    return None
