"""Which listings an incremental entity load makes: its own by ``updated_time``, and its children by parent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import pytest

from metaads.accounts import Account
from metaads.pipeline.entities import _listings
from metaads.transform.entities import ADS, ADSETS, CAMPAIGNS, CREATIVES, EntityKind
from metaads.warehouse.entities import FULL, INCREMENTAL

SINCE = datetime(2026, 11, 20, tzinfo=timezone.utc)
ACCOUNT = Account(id="111", table="bm_01", label="Shop", index=0)


class Tables:
    """The parents' tables as the store reads them: (id, campaign_id, updated) per ad set, campaigns updated."""

    def __init__(self, campaigns: Sequence[str], adsets: Sequence[tuple[str, str, bool]]) -> None:
        self.campaigns, self.adsets = list(campaigns), list(adsets)

    def updated_since(self, account: Account, kind: EntityKind, after: datetime) -> list[tuple[str, str | None]]:
        assert after == SINCE
        if kind is CAMPAIGNS:
            return [(c, None) for c in self.campaigns]
        return [(i, c) for i, c, updated in self.adsets if updated]

    def ids_with_campaign(self, account: Account, kind: EntityKind, campaigns: Sequence[str]) -> list[str]:
        return sorted(i for i, c, _ in self.adsets if c in campaigns)


def _plan(store: Any, kind: EntityKind, mode: str = INCREMENTAL) -> list[tuple[str | None, list[str] | None]]:
    return [(listing.ids_of, listing.ids) for listing in _listings(store, ACCOUNT, kind, mode, SINCE, None)]


def test_no_updated_parent_costs_no_extra_listing() -> None:
    store = Tables([], [("s1", "c1", False)])
    assert _plan(store, ADSETS) == [(None, None)]
    assert _plan(store, ADS) == [(None, None)]


def test_ad_sets_of_updated_campaigns_and_ads_by_ad_set_in_one_request() -> None:
    store = Tables(["c1"], [("s1", "c1", False), ("s2", "c1", False), ("s3", "c2", True), ("s4", "c3", False)])
    assert _plan(store, ADSETS) == [(None, None), ("campaign", ["c1"])]
    # the updated campaign's ad sets and the updated ad set elsewhere: one adset.id IN, not two listings
    assert _plan(store, ADS) == [(None, None), ("adset", ["s1", "s2", "s3"])]


def test_campaigns_with_many_ad_sets_re_list_their_ads_by_campaign() -> None:
    many = [(f"s{n:03d}", "c1", False) for n in range(120)]  # 3 requests by ad set, 1 by campaign
    store = Tables(["c1"], [*many, ("t1", "c2", True)])
    assert _plan(store, ADS) == [(None, None), ("campaign", ["c1"]), ("adset", ["t1"])]


@pytest.mark.parametrize("kind", [CAMPAIGNS, CREATIVES], ids=["campaigns", "creatives"])
def test_kinds_without_parents_and_full_loads_list_only_their_own(kind: EntityKind) -> None:
    store = Tables(["c1"], [("s1", "c1", True)])
    assert _plan(store, kind) == [(None, None)]
    assert _plan(store, ADS, FULL) == [(None, None)]
