"""Finding real databases for tests.

PostgreSQL: ``METAADS_TEST_PG_URL``, else 127.0.0.1:5432 (user postgres, database test). When that is
not reachable: under ``CI=true`` tests fail (CI promises a server); on a developer machine a throwaway
cluster is started with the local ``initdb``/``pg_ctl`` binaries if they exist, else the tests are
skipped with a loud reason.

MariaDB/MySQL: ``METAADS_TEST_MYSQL_URL``, else 127.0.0.1:3306 root with an empty password; the same
CI rule applies (CI runs MariaDB too).
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

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
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = shutil.which("initdb") or (bins[-1] if bins else None)
    if initdb is None:
        return None
    bindir = Path(initdb).parent
    datadir = Path(tempfile.mkdtemp(prefix="metaads-pg-"))
    port = _free_port()
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(datadir, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust"],
                   check=True, capture_output=True)
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(datadir), "-w", "-o",
                    f"-p {port} -k {datadir} -c listen_addresses=127.0.0.1", "-l", str(datadir / "log"),
                    "start"], check=True, capture_output=True)

    def stop() -> None:
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
                       capture_output=True, check=False)
        shutil.rmtree(datadir, ignore_errors=True)

    atexit.register(stop)
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
            except (OSError, subprocess.CalledProcessError) as exc:
                error = f"{error}; throwaway cluster failed: {exc}"
            if _pg_url is None:
                _pg_error = f"PostgreSQL unreachable at {url} ({error}) and no usable initdb found"
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
