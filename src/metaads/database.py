"""Database plumbing shared by the warehouse, the sync and orchestration.

One copy each of: engine creation from a URL (:func:`create_engine_for`), URL checks that name the
setting and the extra to install (:func:`check_url`), password-hidden URL rendering
(:func:`describe_url`, :class:`DatabaseURL`), identifier validation (:func:`check_identifier`),
advisory-lock keys (:func:`lock_key`) and driver-error translation (:func:`translate`).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from metaads.embedded_postgres import is_embedded_url, parse_embedded_url, resolve_url
from metaads.errors import ConfigError, WarehouseError
from metaads.redact import redact_text

# PostgreSQL's limit is 63 bytes; lower-case so nothing ever needs quoting.
IDENTIFIER_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"
_IDENTIFIER_RE = re.compile(IDENTIFIER_PATTERN)

# Which ``pip install 'metaads[...]'`` extra brings a dialect's driver.
_EXTRAS = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql", "mssql": "mssql"}


def dbapi_connection(conn: sa.Connection) -> Any:
    """The driver's own connection under ``conn`` (for COPY and statements sent without parameters)."""
    raw = conn.connection.driver_connection
    if raw is None:  # pragma: no cover - only for a detached/invalidated connection
        raise sa.exc.InvalidRequestError("connection has no DBAPI connection")
    return raw


def is_identifier(name: str) -> bool:
    """Whether ``name`` is a safe, unquoted SQL identifier (schema or table name)."""
    return _IDENTIFIER_RE.fullmatch(name) is not None


def check_identifier(name: str, what: str) -> str:
    """``name`` unchanged, or ValueError naming ``what`` and the rule."""
    if not is_identifier(name):
        raise ValueError(f"{what} {name!r} must match {IDENTIFIER_PATTERN} (lower-case letters, digits, underscores)")
    return name


class DatabaseURL(str):
    """A database URL whose ``repr`` hides the password (settings hold these; reprs end up in logs)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(describe_url(self))


def describe_url(url: str | URL | sa.Engine) -> str:
    """A database URL (or an engine's) fit for logs and the ledger: the password hidden."""
    if isinstance(url, sa.Engine):
        url = url.url
    try:
        parsed = url if isinstance(url, URL) else make_url(str(url))
    except sa.exc.ArgumentError:
        return "<unparseable URL>"
    return parsed.render_as_string(hide_password=True)


def check_url(url: str, *, variable: str) -> URL:
    """Parse ``url`` and make sure its dialect and driver are installed.

    Raises:
        ConfigError: naming ``variable`` and, for a missing driver, the extra to install.
    """
    try:
        parsed = make_url(str(url))
    except sa.exc.ArgumentError:
        raise ConfigError(
            "is not a SQLAlchemy database URL (e.g. postgresql+psycopg://user@host/db)", variable=variable
        ) from None
    if is_embedded_url(str(url)):  # no dialect of its own: a folder for metaads.embedded_postgres
        parse_embedded_url(str(url))
        return parsed
    try:
        dialect = parsed.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise ConfigError(
            f"unknown database dialect {parsed.drivername!r} in {describe_url(parsed)}", variable=variable
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        extra = _EXTRAS.get(parsed.get_backend_name())
        hint = f"install it with: pip install 'metaads[{extra}]'" if extra else "install its Python package"
        raise ConfigError(
            f"the driver for {parsed.drivername!r} is not installed ({exc.name or exc}); {hint}", variable=variable
        ) from None
    return parsed


def create_engine_for(url: str, *, pool_size: int = 5, variable: str = "WAREHOUSE_URL") -> sa.Engine:
    """An engine for a warehouse/analytics URL; SQLite files get their folder and sane pragmas.

    The embedded pseudo-URL (``postgresql+embedded:///folder``) starts its server on demand first.

    Raises:
        ConfigError: naming ``variable``: the URL does not parse, its dialect or driver is missing,
            or the SQLite folder cannot be created.
    """
    url = resolve_url(str(url))
    parsed = check_url(url, variable=variable)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(
                    f"cannot create the SQLite folder {str(folder)!r}: {exc.strerror or exc}", variable=variable
                ) from None
        engine = sa.create_engine(parsed, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: object, _record: object) -> None:
            cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
            # WAL lets readers see the last committed data while a load writes.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return sa.create_engine(parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def lock_key(*parts: str) -> int:
    """A signed 64-bit advisory-lock key from ``parts`` (stable across processes and releases)."""
    digest = hashlib.md5("|".join(("metaads", *parts)).encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _driver_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sa.exc.SQLAlchemyError]
    try:  # psycopg is optional (the ``postgres`` extra); COPY errors come straight from it
        import psycopg
    except ImportError:  # pragma: no cover - only without the postgres extra
        pass
    else:
        errors.append(psycopg.Error)
    return tuple(errors)


DRIVER_ERRORS: tuple[type[BaseException], ...] = _driver_errors()


def driver_message(exc: BaseException) -> str:
    """The driver's own message, first line only (SQLAlchemy appends the statement and parameters)."""
    orig = getattr(exc, "orig", None)
    source = orig if isinstance(orig, BaseException) else exc
    text = str(source).strip() or type(source).__name__
    return f"{type(source).__name__}: {text.splitlines()[0]}"


def failure_message(exc: BaseException, action: str, engine: sa.Engine) -> str:
    """``<action> failed on <url without password>: <driver's first line>``, secrets redacted."""
    return redact_text(f"{action} failed on {describe_url(engine)}: {driver_message(exc)}")


def translate(
    exc: BaseException, action: str, engine: sa.Engine, kind: type[WarehouseError] = WarehouseError
) -> WarehouseError:
    """A safe-to-log ``kind`` error for ``exc`` raised while doing ``action``."""
    return kind(failure_message(exc, action, engine))


@overload
def stored_utc(moment: datetime) -> datetime: ...
@overload
def stored_utc(moment: None) -> None: ...
@overload
def stored_utc(moment: datetime | None) -> datetime | None: ...
def stored_utc(moment: datetime | None) -> datetime | None:
    """A timestamp read back from the database, timezone-aware.

    metaads writes every timestamp in UTC; SQLite hands them back naive, so naive means UTC.
    """
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)
