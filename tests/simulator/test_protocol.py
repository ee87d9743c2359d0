"""The simulator writes JSON as graph.facebook.com does: ASCII only, ``\\uXXXX`` escapes, escaped slashes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from metaads.simulator.protocol import dumps


def _meta_style(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode("ascii")


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "Café été",  # two-byte UTF-8
        "Sale – 東京",  # three-byte UTF-8 next to ASCII
        "🎉 launch 🚀",  # beyond U+FFFF: a surrogate pair each
        "é🎉東",  # runs of mixed widths with no ASCII between them
        "tab\there, del\x7f, nul\x00",  # control characters and DEL are escaped too
        "https://example.com/landing?x=1",
    ],
)
def test_text_is_written_as_the_standard_encoders_ascii_escapes_with_escaped_slashes(text: str) -> None:
    payload = {"data": [{"name": text, "id": "1", "spend": "12.34"}], "paging": {"next": "https://g/v24.0/x"}}
    written = dumps(payload)
    assert written == _meta_style(payload)
    assert written.isascii()
    assert b"\x7f" not in written
    assert json.loads(written) == payload


def test_an_integer_beyond_64_bits_is_written_whole() -> None:
    payload = {"id": 2**70, "name": "é/"}
    assert dumps(payload) == _meta_style(payload)
