"""A PostgreSQL warehouse with a run ledger, and an analytics target on each real backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from metaads.warehouse import Warehouse
from tests.databases import mysql_url
from tests.sync.data import Loader, accounts


@dataclass(frozen=True)
class Target:
    """An analytics database for one test: engine, schema (absent until the sync creates it)."""

    kind: str
    engine: sa.Engine
    schema: str | None


@pytest.fixture
def warehouse(pg_engine: sa.Engine, pg_schema: str) -> Warehouse:
    wh = Warehouse(pg_engine, pg_schema)
    wh.init(accounts())
    return wh


@pytest.fixture
def loader(warehouse: Warehouse) -> Loader:
    return Loader(warehouse)


def _pg_target(pg_engine: sa.Engine) -> Iterator[Target]:
    schema = f"a_{uuid.uuid4().hex[:12]}"
    yield Target("postgresql", pg_engine, schema)
    with pg_engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _mariadb_target() -> Iterator[Target]:
    # local_infile=1: the documented opt-in for the LOAD DATA fast path.
    engine = sa.create_engine(make_url(mysql_url()).update_query_dict({"local_infile": "1"}), pool_size=8)
    schema = f"a_{uuid.uuid4().hex[:12]}"
    yield Target("mariadb", engine, schema)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{schema}`")
    engine.dispose()


def _sqlite_target(tmp_path: Path) -> Iterator[Target]:
    engine = sa.create_engine(f"sqlite:///{tmp_path}/analytics.db")
    yield Target("sqlite", engine, "graph")
    engine.dispose()


@pytest.fixture(
    params=[
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mysql),
        "sqlite",
    ]
)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "postgresql":
        yield from _pg_target(request.getfixturevalue("pg_engine"))
    elif request.param == "mariadb":
        yield from _mariadb_target()
    else:
        yield from _sqlite_target(tmp_path)


@pytest.fixture
def pg_target(pg_engine: sa.Engine) -> Iterator[Target]:
    yield from _pg_target(pg_engine)


@pytest.fixture
def mariadb_target() -> Iterator[Target]:
    yield from _mariadb_target()
