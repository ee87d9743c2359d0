"""A warehouse on each real backend: PostgreSQL (fresh schema per test) and a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.config.accounts import parse_accounts
from metaads.warehouse import Warehouse


@pytest.fixture
def accounts() -> list[Account]:
    return parse_accounts("act_1111111111:bm_01:Acme EU,act_2222222222:bm_02:Acme US,act_3333333333:bm_03")


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[sa.Engine, str | None]]:
    if request.param == "postgresql":
        yield request.getfixturevalue("pg_engine"), request.getfixturevalue("pg_schema")
        return
    engine = sa.create_engine(f"sqlite:///{tmp_path}/warehouse.db")
    yield engine, None
    engine.dispose()


@pytest.fixture
def warehouse(backend: tuple[sa.Engine, str | None]) -> Warehouse:
    engine, schema = backend
    return Warehouse(engine, schema)
