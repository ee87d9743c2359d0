"""Airflow Connections become SQLAlchemy URLs; parse-time settings need no secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from metaads import ConfigError
from metaads.orchestration import connection_url, dag_settings
from metaads.redact import redact_text
from tests.airflow.conftest import STARLETTE_HTTPX_WARNING

pytestmark = [pytest.mark.airflow, pytest.mark.filterwarnings(STARLETTE_HTTPX_WARNING)]


def connection(**fields: Any) -> Any:
    """A real Airflow connection object, as ``Connection.get`` returns it."""
    from airflow.sdk import Connection

    if "extra" in fields and not isinstance(fields["extra"], str):
        fields["extra"] = json.dumps(fields["extra"])
    return Connection(conn_id="metaads_warehouse", **fields)


@pytest.mark.parametrize(
    ("fields", "url"),
    [
        (
            {"uri": "postgres://etl:s3cret@db.internal:5433/warehouse"},
            "postgresql+psycopg://etl:s3cret@db.internal:5433/warehouse",
        ),
        (
            {
                "conn_type": "postgres",
                "host": "db",
                "login": "etl",
                "password": "pw1234",
                "schema": "dw",
                "extra": {"sslmode": "require", "cursor": "dictcursor"},
            },
            "postgresql+psycopg://etl:pw1234@db/dw?sslmode=require",
        ),
        (
            {
                "conn_type": "mssql",
                "host": "sql.internal",
                "port": 1433,
                "login": "sa",
                "password": "Pa55word",
                "schema": "analytics",
                "extra": {"query": {"driver": "ODBC Driver 18 for SQL Server", "TrustServerCertificate": "yes"}},
            },
            "mssql+pyodbc://sa:Pa55word@sql.internal:1433/analytics"
            "?TrustServerCertificate=yes&driver=ODBC+Driver+18+for+SQL+Server",
        ),
        ({"conn_type": "sqlite", "host": "/data/analytics.db"}, "sqlite:////data/analytics.db"),
        ({"conn_type": "generic", "extra": {"sqlalchemy_url": "mssql+pymssql://u:p@h/db"}}, "mssql+pymssql://u:p@h/db"),
    ],
    ids=[
        "postgres-uri",
        "postgres-fields-known-extras-only",
        "mssql-query-extras",
        "sqlite-path",
        "explicit-sqlalchemy-url",
    ],
)
def test_connection_becomes_a_sqlalchemy_url(fields: dict[str, Any], url: str) -> None:
    assert connection_url(connection(**fields)) == url


def test_password_with_special_characters_round_trips_and_is_redacted() -> None:
    password = "p@ss:w/rd?#x"
    url = connection_url(connection(conn_type="postgres", host="db", login="etl", password=password, schema="dw"))
    assert sa.make_url(url).password == password
    assert password not in redact_text(f"could not connect with {password}")


def test_connection_of_a_non_database_type_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="metaads_warehouse") as caught:
        connection_url(connection(conn_type="http", host="example.invalid"))
    assert "sqlalchemy_url" in str(caught.value)


def test_dag_settings_read_the_env_file_named_by_metaads_env_file(metaads_env: Any, tmp_path: Path) -> None:
    env_file = tmp_path / "metaads.env"
    env_file.write_text("META_ACCOUNTS=act_7:bm_07:From File\nACCOUNT_GROUP_SIZE=3\n")
    metaads_env(METAADS_ENV_FILE=str(env_file))
    settings = dag_settings()
    assert [(a.id, a.label) for a in settings.accounts] == [("7", "From File")]
    assert settings.account_group_size == 3
