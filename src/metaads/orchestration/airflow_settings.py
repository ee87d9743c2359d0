"""Settings under Airflow: the same environment / ``.env`` as the CLI, plus Airflow Connections and Variables.

Airflow users keep secrets in Connections and Variables (or a secrets backend behind them), so at task
run time these override the environment when they exist:

========================================  =====================================
Airflow object                            setting it provides
========================================  =====================================
Connection ``metaads_warehouse``          ``WAREHOUSE_URL``
Connection ``metaads_analytics``          ``ANALYTICS_URL``
Variable ``metaads_graph_api_tokens``     ``GRAPH_API_TOKENS`` (comma-separated)
Variable ``metaads_graph_api_app_secret`` ``GRAPH_API_APP_SECRET``
========================================  =====================================

Laying out the DAG (parse time) needs only ``META_ACCOUNTS``, ``ACCOUNT_GROUP_SIZE`` and
``PIPELINE_TIMEZONE``; it reads no Connection or Variable, so parsing stays fast and never needs secrets.
``METAADS_ENV_FILE`` names the ``.env`` file (default ``.env`` in the working directory);
``METAADS_RETRY_DELAY_S`` changes the wait between a task's tries (default 5 minutes).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from metaads.config.settings import Settings, load_settings
from metaads.errors import ConfigError
from metaads.orchestration.plan import RETRY_DELAY_MINUTES
from metaads.redact import register_secret

ENV_FILE_VARIABLE = "METAADS_ENV_FILE"
RETRY_DELAY_VARIABLE = "METAADS_RETRY_DELAY_S"
WAREHOUSE_CONNECTION = "metaads_warehouse"
ANALYTICS_CONNECTION = "metaads_analytics"
TOKENS_VARIABLE = "metaads_graph_api_tokens"
APP_SECRET_VARIABLE = "metaads_graph_api_app_secret"  # noqa: S105 - a Variable name, not a secret

# Airflow connection types -> SQLAlchemy drivers metaads installs (``metaads[postgres|mssql|mysql]``).
_DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mssql": "mssql+pyodbc",
    "mysql": "mysql+pymysql",
    "sqlite": "sqlite",
}
# Connection extras commonly set on Airflow's postgres connections that libpq understands as-is.
_POSTGRES_EXTRAS = frozenset(
    {
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "application_name",
        "connect_timeout",
        "options",
        "target_session_attrs",
    }
)


def env_file() -> str:
    """The ``.env`` file shared with the CLI: ``METAADS_ENV_FILE``, else ``.env``."""
    return os.environ.get(ENV_FILE_VARIABLE) or ".env"


def retry_delay() -> timedelta:
    """Wait between an extraction task's tries: ``METAADS_RETRY_DELAY_S`` seconds, default 5 minutes."""
    raw = os.environ.get(RETRY_DELAY_VARIABLE, "").strip()
    if not raw:
        return timedelta(minutes=RETRY_DELAY_MINUTES)
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 86_400:
        raise ConfigError(f"{raw!r} is not a number of seconds between 0 and 86400", variable=RETRY_DELAY_VARIABLE)
    return timedelta(seconds=seconds)


def dag_settings(env_path: str | Path | None = None) -> Settings:
    """Settings for laying out the DAG: environment and ``.env`` only, no secrets required.

    Raises:
        ConfigError: naming the variable at fault (shown by Airflow as the DAG's import error).
    """
    try:
        settings = Settings(_env_file=env_path or env_file())  # type: ignore[call-arg]
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = str((first.get("loc") or ("?",))[0]).upper()
        raise ConfigError(str(first.get("msg", "invalid value")), variable=variable) from None
    _ = settings.accounts  # parse now: a bad META_ACCOUNTS must fail the import, naming the entry
    return settings


def task_settings(env_path: str | Path | None = None) -> Settings:
    """Settings for a running task: environment and ``.env``, overridden by Connections and Variables."""
    overrides = airflow_overrides()
    settings = load_settings(env_path or env_file(), **overrides)
    _mask_in_airflow_logs(settings)
    return settings


def airflow_overrides() -> dict[str, Any]:
    """Settings found in Airflow Connections and Variables (absent objects are simply not used)."""
    from airflow.sdk import Variable

    overrides: dict[str, Any] = {}
    for conn_id, field in ((WAREHOUSE_CONNECTION, "warehouse_url"), (ANALYTICS_CONNECTION, "analytics_url")):
        conn = _connection(conn_id)
        if conn is not None:
            overrides[field] = connection_url(conn)
    for key, field in ((TOKENS_VARIABLE, "graph_api_tokens"), (APP_SECRET_VARIABLE, "graph_api_app_secret")):
        value = Variable.get(key, default=None)
        if value is not None and str(value).strip():
            overrides[field] = str(value).strip()
    return overrides


def _connection(conn_id: str) -> Any:
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def connection_url(conn: Any) -> str:
    """A SQLAlchemy URL from an Airflow connection.

    Extra ``sqlalchemy_url`` is used as it is. Otherwise the URL is built from host, login, password, port
    and schema (the database name) with the driver for the connection type (``postgres``, ``mssql``,
    ``mysql``, ``sqlite``, or a SQLAlchemy ``dialect+driver`` as type); extra ``query`` (an object)
    becomes URL query parameters, e.g. ``{"query": {"driver": "ODBC Driver 18 for SQL Server"}}``.

    Raises:
        ConfigError: the connection type is not a database metaads can use.
    """
    conn_id = str(getattr(conn, "conn_id", "?"))
    extra: dict[str, Any] = dict(conn.extra_dejson or {})
    explicit = extra.get("sqlalchemy_url")
    if explicit:
        return str(explicit)
    conn_type = str(conn.conn_type or "").lower()
    driver = _DRIVERS.get(conn_type) or (conn_type if "+" in conn_type else None)
    if driver is None:
        raise ConfigError(
            f"connection type {conn_type or '(none)'!r} is not a database metaads supports "
            f"({', '.join(sorted(_DRIVERS))}, or a SQLAlchemy 'dialect+driver'); "
            "or set extra 'sqlalchemy_url'",
            variable=f"Airflow connection {conn_id}",
        )
    if driver == "sqlite":
        return sa.engine.URL.create("sqlite", database=conn.host or conn.schema).render_as_string(hide_password=False)
    query: dict[str, str] = {}
    if driver.startswith("postgresql"):
        query.update({k: str(v) for k, v in extra.items() if k in _POSTGRES_EXTRAS})
    raw_query = extra.get("query")
    if isinstance(raw_query, dict):
        query.update({str(k): str(v) for k, v in raw_query.items()})
    url = sa.engine.URL.create(
        driver,
        username=conn.login or None,
        password=conn.password or None,
        host=conn.host or None,
        port=int(conn.port) if conn.port else None,
        database=conn.schema or None,
        query=query,
    )
    if conn.password:
        register_secret(str(conn.password))
    return url.render_as_string(hide_password=False)


def _mask_in_airflow_logs(settings: Settings) -> None:
    # metaads redacts its own output; this also hides the secrets from everything else Airflow logs.
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # Airflow 3.1 and 3.2 kept it here
        from airflow.sdk.execution_time.secrets_masker import mask_secret  # type: ignore[no-redef]

    for token in settings.tokens:
        mask_secret(token)
    if settings.app_secret:
        mask_secret(settings.app_secret)
