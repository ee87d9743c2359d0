"""Shared fixtures: real databases (a fresh schema per test) and the simulator's fake clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from metaads.clock import FakeClock
from tests.databases import mysql_url, postgres_url


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pg_url() -> str:
    return postgres_url()


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(pg_url, pool_size=10, max_overflow=10)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_schema(pg_engine: sa.Engine) -> Iterator[str]:
    """A fresh, empty PostgreSQL schema, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with pg_engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    yield name
    with pg_engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


@pytest.fixture
def mysql_engine() -> Iterator[sa.Engine]:
    engine = sa.create_engine(mysql_url())
    yield engine
    engine.dispose()


@pytest.fixture
def mysql_schema(mysql_engine: sa.Engine) -> Iterator[str]:
    """A fresh MariaDB database (MySQL calls schemas databases), dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with mysql_engine.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    yield name
    with mysql_engine.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/warehouse.db"
