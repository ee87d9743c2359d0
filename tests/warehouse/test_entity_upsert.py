"""Entity upserts: PostgreSQL's COPY-then-INSERT path and the batched path store the same rows by id."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.transform.entities import ADS, CAMPAIGNS, to_entity_rows
from metaads.warehouse.entities import BATCH_ROWS, EntityStore

ACCOUNT = Account(id="1111111111", table="bm_01", label=None, index=0)
LOADED = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def _campaign(cid: str, name: str, status: str = "ACTIVE", budget: str | None = "5000") -> dict[str, Any]:
    return {
        "id": cid,
        "account_id": ACCOUNT.id,
        "name": name,
        "objective": "OUTCOME_SALES",
        "status": status,
        "effective_status": status,
        "daily_budget": budget,
        "created_time": "2026-01-31T10:00:00+0000",
        "updated_time": "2026-11-19T08:30:00+0000",
    }


def _stored(store: EntityStore, kind: Any) -> dict[str, tuple[Any, ...]]:
    table = store.table(ACCOUNT, kind)
    with store.engine.connect() as conn:
        return {row.id: tuple(row) for row in conn.execute(sa.select(table))}


def _upsert(store: EntityStore, objects: list[dict[str, Any]]) -> int:
    return store.upsert(ACCOUNT, CAMPAIGNS, to_entity_rows(CAMPAIGNS, objects, account_id=ACCOUNT.id, loaded_at=LOADED))


def _check(store: EntityStore) -> None:
    store.init([ACCOUNT])
    assert _upsert(store, [_campaign("1", "first"), _campaign("2", "second")]) == 2
    # Listed twice in one load (pages shift while the account changes): the last listing wins.
    count = _upsert(store, [_campaign("2", "old name"), _campaign("3", "third"), _campaign("2", "new name", "PAUSED")])
    assert count == 2
    rows = _stored(store, CAMPAIGNS)
    assert sorted(rows) == ["1", "2", "3"]
    names = [c.name for c in store.table(ACCOUNT, CAMPAIGNS).columns]
    second = dict(zip(names, rows["2"], strict=True))
    assert second["name"] == "new name"
    assert second["effective_status"] == "PAUSED"
    assert second["daily_budget"] == 5000
    assert second["created_time"].replace(tzinfo=timezone.utc) == datetime(2026, 1, 31, 10, tzinfo=timezone.utc)
    assert dict(zip(names, rows["1"], strict=True))["name"] == "first"  # untouched by the second load
    assert _stored(store, ADS) == {}


@pytest.mark.postgres
def test_postgresql_copy_upsert_keeps_the_last_listing_of_each_id(pg_engine: sa.Engine, pg_schema: str) -> None:
    _check(EntityStore(pg_engine, pg_schema))


def test_batched_upsert_on_sqlite_stores_the_same(tmp_path: Any) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path}/w.db")
    try:
        _check(EntityStore(engine, None))
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def test_an_object_listed_again_in_a_later_batch_keeps_its_later_row_and_counts_once(
    backend: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    """A load that re-lists children by parent may list an object twice, past a batch of the batched path."""
    if backend == "postgresql":
        store = EntityStore(request.getfixturevalue("pg_engine"), request.getfixturevalue("pg_schema"))
    else:
        store = EntityStore(sa.create_engine(f"sqlite:///{tmp_path}/w.db"), None)
    try:
        store.init([ACCOUNT])
        objects = [_campaign(str(n), f"c{n}") for n in range(1, BATCH_ROWS + 2)]
        assert _upsert(store, [*objects, _campaign("1", "re-listed", "PAUSED")]) == BATCH_ROWS + 1
        names = [c.name for c in store.table(ACCOUNT, CAMPAIGNS).columns]
        first = dict(zip(names, _stored(store, CAMPAIGNS)["1"], strict=True))
        assert (first["name"], first["effective_status"]) == ("re-listed", "PAUSED")
    finally:
        if backend == "sqlite":
            store.engine.dispose()


@pytest.mark.postgres
def test_repeated_copy_upserts_reuse_their_compiled_statements(pg_engine: sa.Engine, pg_schema: str) -> None:
    """SQLAlchemy caches a statement by its tables' identity: a new Core table for the temporary table of each
    load made each load's statements new cache entries, and the process's memory grew with every load."""
    store = EntityStore(pg_engine, pg_schema)
    store.init([ACCOUNT])
    cache = pg_engine._compiled_cache
    assert cache is not None
    _upsert(store, [_campaign("1", "first")])
    after_one = len(cache)
    for n in range(2, 8):
        _upsert(store, [_campaign(str(n), f"c{n}")])
    assert len(cache) == after_one
    assert sorted(_stored(store, CAMPAIGNS)) == [str(n) for n in range(1, 8)]
