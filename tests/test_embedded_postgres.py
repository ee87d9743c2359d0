"""The embedded PostgreSQL (WAREHOUSE_URL unset): started on demand, reused, stale state detected, stopped."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from metaads.config.settings import DEFAULT_WAREHOUSE_URL, settings_from_mapping
from metaads.embedded_postgres import (
    DEFAULT_DATABASE,
    embedded_url,
    ensure_running,
    is_embedded_url,
    parse_embedded_url,
    resolve_url,
    status,
    stop,
)
from metaads.errors import ConfigError


@pytest.fixture(scope="module")
def pgdata() -> Iterator[Path]:
    # As root the server runs as another user, who must be able to enter the folder (pytest's is 0700).
    folder = Path(tempfile.mkdtemp(prefix="metaads-embedded-"))
    folder.chmod(0o755)
    yield folder / "postgres"
    stop(folder / "postgres")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize(
    ("url", "folder", "database"),
    [
        ("postgresql+embedded:///metaads-data/postgres", Path.cwd() / "metaads-data/postgres", "metaads"),
        ("postgresql+embedded:////var/lib/metaads/pg", Path("/var/lib/metaads/pg"), "metaads"),
        ("postgresql+embedded:///data/pg?database=metaads_demo", Path.cwd() / "data/pg", "metaads_demo"),
    ],
    ids=["relative-default", "absolute", "database-parameter"],
)
def test_embedded_url_names_a_folder_and_a_database(url: str, folder: Path, database: str) -> None:
    assert is_embedded_url(url)
    assert parse_embedded_url(url) == (folder, database)


@pytest.mark.parametrize(
    "url", ["postgresql+embedded://", "postgresql+embedded:///pg?database=Bad-Name"], ids=["no-folder", "bad-database"]
)
def test_malformed_embedded_url_is_a_warehouse_url_error(url: str) -> None:
    with pytest.raises(ConfigError, match="WAREHOUSE_URL"):
        parse_embedded_url(url)


@pytest.mark.parametrize("value", [None, "", "  "], ids=["unset", "empty", "blank"])
def test_unset_warehouse_url_means_the_embedded_postgres(value: str | None) -> None:
    env = {"META_ACCOUNTS": "123", "GRAPH_API_TOKENS": "t"}
    if value is not None:
        env["WAREHOUSE_URL"] = value
    settings = settings_from_mapping(env)
    assert settings.warehouse_url == DEFAULT_WAREHOUSE_URL == "postgresql+embedded:///metaads-data/postgres"


def test_other_urls_pass_through_untouched() -> None:
    assert resolve_url("sqlite:///x.db") == "sqlite:///x.db"


def test_concurrent_commands_start_one_server_and_reuse_it(pgdata: Path) -> None:
    with ThreadPoolExecutor(3) as pool:
        servers = list(pool.map(lambda _: ensure_running(pgdata), range(3)))
    assert len({s.pid for s in servers}) == 1
    assert ensure_running(pgdata).pid == servers[0].pid
    assert status(pgdata) == servers[0]


def test_resolved_url_reaches_real_postgresql_with_its_database(pgdata: Path) -> None:
    url = resolve_url(embedded_url(pgdata, "metaads_test_db"))
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT current_database()")).scalar_one() == "metaads_test_db"
            assert conn.execute(sa.text("SHOW server_version")).scalar_one().startswith("18.")
            # a Unix socket only: no TCP listener that trust authentication would open to everyone
            assert conn.execute(sa.text("SHOW listen_addresses")).scalar_one() == ""
    finally:
        engine.dispose()
    assert parse_embedded_url(embedded_url(pgdata))[1] == DEFAULT_DATABASE


def test_stale_pid_file_of_a_recycled_pid_is_removed_and_the_server_starts(pgdata: Path) -> None:
    before = ensure_running(pgdata)
    assert stop(pgdata)
    assert status(pgdata) is None
    # A crash leaves postmaster.pid behind; after a restart its pid may belong to another program
    # (here: this Python process), which PostgreSQL itself would take for a running server.
    pid_file = pgdata / "postmaster.pid"
    pid_file.write_text(f"{os.getpid()}\n{pgdata}\n1700000000\n5432\n{pgdata}\n\n  0 0\nready   \n")
    if os.geteuid() == 0:
        shutil.chown(pid_file, (pgdata.stat().st_uid))
    assert status(pgdata) is None
    after = ensure_running(pgdata)
    assert after.pid not in (before.pid, os.getpid())
    assert status(pgdata) == after


def test_stop_then_stop_again_reports_not_running(pgdata: Path) -> None:
    ensure_running(pgdata)
    assert stop(pgdata) is True
    assert stop(pgdata) is False
