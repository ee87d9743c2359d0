"""Shared fixtures: real databases (a fresh schema per test) and the simulator's fake clock."""

from __future__ import annotations

import signal
import uuid
import warnings
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from metaads.clock import FakeClock
from tests.databases import mysql_url, postgres_url


class StateLeakWarning(UserWarning):
    """A test left process-wide state changed (shown in the warnings summary, not an error)."""


@pytest.fixture(autouse=True)
def _sigint_as_found(request: pytest.FixtureRequest) -> Iterator[None]:
    """Give SIGINT back its handler when a test's code changed it, and say which test did.

    Something a test runs (in a library, not in metaads) leaves SIGINT ignored; an ignored SIGINT is
    inherited by every process started later, which then cannot be stopped with Ctrl-C.
    """
    before = signal.getsignal(signal.SIGINT)
    yield
    if signal.getsignal(signal.SIGINT) is not before:
        warnings.warn(f"{request.node.nodeid} left SIGINT changed; restored", StateLeakWarning, stacklevel=1)
        signal.signal(signal.SIGINT, before)


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
