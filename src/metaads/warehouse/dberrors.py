"""Driver errors translated at the warehouse boundary into :class:`~metaads.errors.WarehouseError`.

Messages name the operation and the database (URL without password), keep only the driver's first
line (no SQL parameters dump) and go through :func:`~metaads.redact.redact_text`.
"""

from __future__ import annotations

import sqlalchemy as sa

from metaads.errors import WarehouseError
from metaads.redact import redact_text


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


def describe_engine(engine: sa.Engine) -> str:
    """The engine's URL, password hidden."""
    return engine.url.render_as_string(hide_password=True)


def driver_message(exc: BaseException) -> str:
    """The driver's own message, first line only (SQLAlchemy appends the statement and parameters)."""
    orig = getattr(exc, "orig", None)
    source = orig if isinstance(orig, BaseException) else exc
    text = str(source).strip() or type(source).__name__
    return f"{type(source).__name__}: {text.splitlines()[0]}"


def translate(exc: BaseException, action: str, engine: sa.Engine,
              kind: type[WarehouseError] = WarehouseError) -> WarehouseError:
    """A safe-to-log ``kind`` error for ``exc`` raised while doing ``action``."""
    return kind(redact_text(f"{action} failed on {describe_engine(engine)}: {driver_message(exc)}"))
