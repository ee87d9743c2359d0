"""``unique_id`` keys: MD5 hex of the natural key, the same digests whichever MD5 implementation is used."""

from __future__ import annotations

import hashlib
import importlib

import pytest

from metaads.transform import keys

KEYS = ["1234567890|23850000000001001|2026-10-01", "1|2|2026-10-01|purchase|FR", "ä|😀|", ""]


@pytest.mark.parametrize("key", KEYS)
def test_text_id_and_key_id_are_the_md5_hex_of_the_joined_key(key: str) -> None:
    expected = hashlib.md5(key.encode()).hexdigest()
    assert keys.text_id(key) == expected
    assert keys.key_id(*key.split("|")) == expected


def test_without_cpythons_own_md5_the_digests_come_from_hashlib_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_md5(name: str) -> object:
        raise ImportError(name)

    monkeypatch.setattr(importlib, "import_module", no_md5)
    fallback = keys._md5_constructor()
    for key in KEYS:
        assert fallback(key.encode()).hexdigest() == hashlib.md5(key.encode()).hexdigest()
