"""EntityStore reads for incremental entity loads: the updated parents, and where a child kind may list from."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from metaads.accounts import Account
from metaads.transform.entities import ADS, ADSETS, CAMPAIGNS, EntityKind, to_entity_rows
from metaads.warehouse.entities import FAILED, FULL, INCREMENTAL, LOADED, EntityLoad, EntityStore

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def _store(backend: tuple[sa.Engine, str | None], accounts: list[Account]) -> EntityStore:
    engine, schema = backend
    store = EntityStore(engine, schema)
    store.init(accounts)
    return store


def test_updated_parents_compare_their_instant_whatever_the_offset_meta_sent(
    backend: tuple[sa.Engine, str | None], accounts: list[Account]
) -> None:
    store = _store(backend, accounts)
    account = accounts[0]
    campaigns = [  # Meta sends times in the account's offset; 10:00-0800 is 18:00 UTC, 13:00+0900 is 04:00 UTC
        {"id": "1", "updated_time": "2026-11-20T10:00:00-0800"},
        {"id": "2", "updated_time": "2026-11-20T13:00:00+0900"},
        {"id": "3", "updated_time": "2026-11-20T12:30:00+0000"},
    ]
    store.upsert(account, CAMPAIGNS, to_entity_rows(CAMPAIGNS, campaigns, account_id=account.id, loaded_at=T0))
    adsets = [
        {"id": "11", "campaign_id": "1", "updated_time": "2026-11-19T00:00:00+0000"},
        {"id": "12", "campaign_id": "2", "updated_time": "2026-11-21T00:00:00+0000"},
        {"id": "13", "campaign_id": "1", "updated_time": "2026-11-19T00:00:00+0000"},
    ]
    store.upsert(account, ADSETS, to_entity_rows(ADSETS, adsets, account_id=account.id, loaded_at=T0))
    assert store.updated_since(account, CAMPAIGNS, T0) == [("1", None), ("3", None)]
    assert store.updated_since(account, ADSETS, T0) == [("12", "2")]
    assert store.ids_with_campaign(account, ADSETS, ["1", "9"]) == ["11", "13"]
    assert store.ids_with_campaign(account, ADSETS, []) == []


def _load(store: EntityStore, account: Account, run: str, kind: EntityKind, status: str, at: datetime) -> None:
    store.record(EntityLoad(run, account, kind, INCREMENTAL if run != "r1" else FULL, status, at))


def test_a_child_kind_lists_from_the_last_run_whose_parents_all_loaded_before_it(
    backend: tuple[sa.Engine, str | None], accounts: list[Account]
) -> None:
    store = _store(backend, accounts)
    account, other = accounts[0], accounts[1]
    hour = timedelta(hours=1)
    assert store.last_loaded_with_parents(account, ADS, (CAMPAIGNS, ADSETS)) is None
    # r1: every kind loaded, a minute apart, campaigns first; r2: campaigns failed; r3: ads failed
    for run, start, failed in (("r1", T0, None), ("r2", T0 + hour, CAMPAIGNS), ("r3", T0 + 2 * hour, ADS)):
        for offset, kind in enumerate((CAMPAIGNS, ADSETS, ADS)):
            _load(
                store, account, run, kind, FAILED if kind is failed else LOADED, start + offset * timedelta(minutes=1)
            )
    _load(store, other, "r4", CAMPAIGNS, LOADED, T0 + 3 * hour)  # another account's run counts for nothing here
    _load(store, other, "r4", ADSETS, LOADED, T0 + 3 * hour)
    _load(store, account, "r4", ADSETS, LOADED, T0 + 3 * hour)  # without its campaigns: does not count
    assert store.last_loaded(account, ADSETS) == T0 + 3 * hour
    # ad sets: r3, from its campaigns' start (not its own); ads: r1 (r2 lost its campaigns, r3 its own load)
    assert store.last_loaded_with_parents(account, ADSETS, (CAMPAIGNS,)) == T0 + 2 * hour
    assert store.last_loaded_with_parents(account, ADS, (CAMPAIGNS, ADSETS)) == T0
    assert store.last_loaded_with_parents(account, CAMPAIGNS, ()) == T0 + 2 * hour
