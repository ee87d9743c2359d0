"""The simulator's catalog of fields and enums is Meta's: the installed facebook-business SDK's lists."""

from __future__ import annotations

import pytest

from metaads.simulator import catalog
from tests.simulator.sdk_catalog import build


@pytest.mark.parametrize("name", list(build()), ids=list(build()))
def test_catalog_holds_everything_the_installed_sdk_lists(name: str) -> None:
    sdk = build()[name]
    ours = getattr(catalog, name)
    if isinstance(sdk, dict) and name == "NODE_FIELDS":
        for node, fields in sdk.items():
            missing = set(fields) - set(ours.get(node, ()))
            assert not missing, f"{node}: regenerate with `python -m tests.simulator.sdk_catalog`: {sorted(missing)}"
    else:
        missing = set(sdk) - set(ours)
        assert not missing, f"regenerate with `python -m tests.simulator.sdk_catalog`: {sorted(missing)}"
