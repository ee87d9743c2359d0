"""Build the shared resources from settings: database engines and the Graph API client."""

from __future__ import annotations

from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from metaads.clock import Clock
from metaads.config.settings import Settings
from metaads.errors import ConfigError
from metaads.graph import ClientPolicy, GraphClient, ThrottleStore, TokenPool


def describe_url(url: str) -> str:
    """A database URL fit for logs: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable URL>"


def create_engine_for(url: str, *, pool_size: int = 5) -> sa.Engine:
    """An engine for a warehouse/analytics URL; SQLite files get their folder and sane pragmas.

    The embedded pseudo-URL (``postgresql+embedded:///folder``) starts its server on demand first.
    """
    from metaads.embedded_postgres import resolve_url

    url = resolve_url(url)
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError("is not a SQLAlchemy database URL", variable="WAREHOUSE_URL") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
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


def build_client(settings: Settings, *, clock: Clock, transport: httpx.BaseTransport | None = None,
                 throttle_store: ThrottleStore | None = None) -> GraphClient:
    """The Graph API client configured from settings (rate-limit state in ``throttle_store``, else memory)."""
    policy = ClientPolicy.from_settings(settings)
    tokens = TokenPool(settings.tokens, app_secret=settings.app_secret)
    return GraphClient(base_url=settings.graph_api_base_url, version=settings.graph_api_version,
                       tokens=tokens, policy=policy, clock=clock, transport=transport,
                       throttle_store=throttle_store)
