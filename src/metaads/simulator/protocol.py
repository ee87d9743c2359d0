"""HTTP-level pieces shared by the adapters: the response value, parameter parsing, JSON as Meta writes it."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import orjson

from metaads.simulator import errors

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
    # orjson writes the same compact JSON several times faster (pages of 1,000 rows are megabytes) but
    # as UTF-8: the non-ASCII characters (a few names per page) and DEL are escaped afterwards.
    try:
        raw = orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # an integer beyond 64 bits: the standard encoder takes any
        raw = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    else:
        if not raw.isascii():
            # The ASCII codec hands each run of other characters to the handler below, in C between runs.
            raw = raw.decode("utf-8").encode("ascii", errors=_JSON_ESCAPES)
        if b"\x7f" in raw:  # ASCII, but ``ensure_ascii`` escapes it; outside strings JSON has no DEL
            raw = raw.replace(b"\x7f", b"\\u007f")
    return raw.replace(b"/", b"\\/")


def _json_escapes(error: UnicodeError) -> tuple[str, int]:
    """The run of characters the ASCII codec could not encode, as ``json.dumps(ensure_ascii=True)`` writes it."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return _escaped(error.object[error.start : error.end]), error.end


@lru_cache(maxsize=4096)  # a page repeats the same few names on every row
def _escaped(text: str) -> str:
    """``\\uXXXX`` per character (UTF-16: a surrogate pair beyond U+FFFF)."""
    escaped: list[str] = []
    for char in text:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            escaped.append(f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}")
        else:
            escaped.append(f"\\u{code:04x}")
    return "".join(escaped)


_JSON_ESCAPES = "metaads-simulator-json-escapes"
codecs.register_error(_JSON_ESCAPES, _json_escapes)


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


def json_list(params: Mapping[str, str], name: str) -> list[Any]:
    """A list parameter: a JSON array (``["a","b"]``, ``[{...}]``) or a comma list (``a,b``); else code 100."""
    raw = params.get(name)
    if raw is None or raw == "":
        return []
    text = raw.strip()
    if text.startswith("["):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise errors.invalid_param(f"param {name} must be a JSON array") from None
        if not isinstance(value, list):
            raise errors.invalid_param(f"param {name} must be an array")
        return value
    return [part.strip() for part in text.split(",") if part.strip()]


def bearer_token(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization")
    if value and value.lower().startswith("bearer "):
        return value[7:].strip() or None
    if value and value.lower().startswith("oauth "):
        return value[6:].strip() or None
    return None
