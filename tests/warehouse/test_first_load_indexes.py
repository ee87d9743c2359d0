"""A load into an empty table builds its indexes after the rows; every other load keeps them.

PostgreSQL only: the indexes are observed through the catalog. An index's ``oid`` changes when it is
built again, so comparing oids tells a rebuilt index from one the load updated row by row.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.errors import LoadError
from metaads.warehouse import Warehouse
from tests.warehouse.insights import DAY, days, grid, load, read

pytestmark = pytest.mark.postgres

WEEK = days(DAY, 7)
LAST = WEEK[-1]
# An index a user added, with a comment that needs quoting: it must come back exactly as it was.
USER_INDEX = "ix_bm_01_spend_by_day"
USER_COMMENT = "100% of O'Brien's dashboard"


@pytest.fixture
def wh(pg_engine: sa.Engine, pg_schema: str, accounts: list[Account]) -> Warehouse:
    warehouse = Warehouse(pg_engine, pg_schema)
    warehouse.init(accounts)
    with pg_engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE INDEX {USER_INDEX} ON "{pg_schema}".bm_01 (date, spend)')
        conn.exec_driver_sql(
            # '%%': exec_driver_sql passes parameters, so psycopg reads '%' as a placeholder.
            f"COMMENT ON INDEX \"{pg_schema}\".{USER_INDEX} IS '100%% of O''Brien''s dashboard'"
        )
    return warehouse


def indexes(wh: Warehouse, table: str) -> dict[str, tuple[Any, ...]]:
    """Index name -> (oid, definition, comment, backs a constraint)."""
    with wh.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                """
                SELECT ic.relname, ic.oid, pg_get_indexdef(ic.oid), obj_description(ic.oid, 'pg_class'),
                       EXISTS (SELECT FROM pg_constraint con WHERE con.conindid = ic.oid)
                FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
                WHERE x.indrelid = CAST(:table AS regclass)
                """
            ),
            {"table": f'"{wh.schema}"."{table}"'},
        )
        return {row[0]: tuple(row[1:]) for row in rows}


def definitions(found: dict[str, tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    return {name: rest for name, (_oid, *rest) in found.items()}


def oids(found: dict[str, tuple[Any, ...]]) -> set[int]:
    return {oid for oid, *_ in found.values()}


def test_first_load_rebuilds_every_index_exactly_as_it_was(wh: Warehouse, accounts: list[Account]) -> None:
    before = {table: indexes(wh, table) for table in ("bm_01", "bm_01_actions")}
    assert len(before["bm_01"]) == 5
    assert len(before["bm_01_actions"]) == 3

    load(wh, accounts[0], DAY, LAST, grid(accounts[0], 4, WEEK))

    for table, found in before.items():
        after = indexes(wh, table)
        assert definitions(after) == definitions(found)
        assert not oids(after) & oids(found), f"{table}: an index was updated row by row, not rebuilt"
    assert before["bm_01"][USER_INDEX][2] == USER_COMMENT
    assert len(read(wh, "bm_01")) == 28
    assert len(read(wh, "bm_01_actions")) == 56


def test_rebuilt_primary_key_still_refuses_duplicates(wh: Warehouse, accounts: list[Account]) -> None:
    load(wh, accounts[0], DAY, LAST, grid(accounts[0], 4, WEEK))
    with pytest.raises(sa.exc.IntegrityError), wh.engine.begin() as conn:
        conn.exec_driver_sql(f'INSERT INTO "{wh.schema}".bm_01 SELECT * FROM "{wh.schema}".bm_01 LIMIT 1')


def test_loads_into_a_table_with_rows_keep_its_indexes(wh: Warehouse, accounts: list[Account]) -> None:
    load(wh, accounts[0], DAY, LAST, grid(accounts[0], 4, WEEK))
    first = {table: indexes(wh, table) for table in ("bm_01", "bm_01_actions")}

    load(wh, accounts[0], WEEK[3], LAST, grid(accounts[0], 5, WEEK[3:]))

    assert {table: indexes(wh, table) for table in first} == first
    assert len(read(wh, "bm_01")) == 3 * 4 + 4 * 5


def test_duplicate_key_in_a_first_load_rolls_back_rows_and_indexes(wh: Warehouse, accounts: list[Account]) -> None:
    before = {table: indexes(wh, table) for table in ("bm_01", "bm_01_actions")}
    rows = grid(accounts[0], 4, WEEK)

    with pytest.raises(LoadError):
        load(wh, accounts[0], DAY, LAST, rows + rows[:1])

    assert {table: indexes(wh, table) for table in before} == before
    assert read(wh, "bm_01") == []
    assert read(wh, "bm_01_actions") == []


def test_a_reader_of_the_empty_table_neither_waits_nor_is_waited_for(wh: Warehouse, accounts: list[Account]) -> None:
    before = {table: indexes(wh, table) for table in ("bm_01", "bm_01_actions")}
    loaded = threading.Event()
    with wh.engine.connect() as reader:
        reader.exec_driver_sql(f'SELECT count(*) FROM "{wh.schema}".vw_graph_ads').scalar()  # holds ACCESS SHARE
        worker = threading.Thread(
            target=lambda: (load(wh, accounts[0], DAY, LAST, grid(accounts[0], 4, WEEK)), loaded.set()), daemon=True
        )
        worker.start()
        finished = loaded.wait(timeout=60)
        reader.rollback()
    worker.join(timeout=60)

    assert finished, "the load waited for the reader's lock"
    assert indexes(wh, "bm_01") == before["bm_01"]  # read through the ads view: kept, updated row by row
    actions = indexes(wh, "bm_01_actions")  # nobody held it: rebuilt
    assert definitions(actions) == definitions(before["bm_01_actions"])
    assert oids(actions).isdisjoint(oids(before["bm_01_actions"]))
    assert len(read(wh, "bm_01")) == 28
