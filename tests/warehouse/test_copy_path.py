"""PostgreSQL's COPY fast path and the portable INSERT path load identical tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.warehouse import Warehouse
from tests.warehouse.insights import DAY, days, grid, insight, load

pytestmark = pytest.mark.postgres

AWKWARD_NAMES = [
    "Café Zürich 広告 🚀",
    "tab\there",
    "new\nline",
    "back\\slash",
    "quote \" and '",
    "\\N",
    "",
    "comma, semi; pipe|",
]


@pytest.fixture
def second_schema(pg_engine: sa.Engine) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with pg_engine.begin() as conn:
        conn.execute(sa.schema.CreateSchema(name))
    yield name
    with pg_engine.begin() as conn:
        conn.execute(sa.schema.DropSchema(name, cascade=True))


def _rows(account: Account) -> list[dict[str, Any]]:
    week = days(DAY, 7)
    rows = grid(account, 20, week, spend="123.456789123")  # more decimals than the column keeps
    rows += [
        insight(
            account,
            100 + i,
            DAY,
            name=name,
            spend="0.005",
            actions=[("omni_purchase", "0.3333333")],
            values=[("omni_purchase", "19.999999999")],
        )
        for i, name in enumerate(AWKWARD_NAMES)
    ]
    rows += [insight(account, 200, DAY, actions=(), values=())]
    rows[0]["reach"] = "77"
    return rows


def _dump(engine: sa.Engine, schema: str, table: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        result = conn.exec_driver_sql(f'SELECT * FROM "{schema}"."{table}" ORDER BY unique_id')
        return [tuple(row) for row in result]


def test_copy_and_portable_paths_give_identical_tables(
    pg_engine: sa.Engine,
    pg_schema: str,
    second_schema: str,
    accounts: list[Account],
) -> None:
    account = accounts[0]
    copy_wh = Warehouse(pg_engine, pg_schema, use_copy=True)
    portable_wh = Warehouse(pg_engine, second_schema, use_copy=False, batch_rows=7)
    for wh in (copy_wh, portable_wh):
        wh.init(accounts)
        load(wh, account, DAY, days(DAY, 7)[-1], _rows(account))

    for table in (account.table, account.actions_table):
        copied, inserted = _dump(pg_engine, pg_schema, table), _dump(pg_engine, second_schema, table)
        assert copied == inserted
        assert len(copied) > 100
    names = {row[9] for row in _dump(pg_engine, pg_schema, account.table)}
    assert set(AWKWARD_NAMES) <= names


def test_copy_path_is_the_default_on_psycopg(pg_engine: sa.Engine, pg_schema: str, accounts: list[Account]) -> None:
    wh = Warehouse(pg_engine, pg_schema)
    wh.init(accounts)
    statements: list[str] = []

    def remember(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(pg_engine, "before_cursor_execute", remember)
    try:
        load(wh, accounts[0], DAY, DAY, grid(accounts[0], 3, [DAY]))
    finally:
        sa.event.remove(pg_engine, "before_cursor_execute", remember)
    assert not [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    with pg_engine.connect() as conn:
        assert conn.exec_driver_sql(f'SELECT count(*) FROM "{pg_schema}".bm_01').scalar() == 3
