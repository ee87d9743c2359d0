"""Real Apache Airflow for the DAG tests: a throwaway AIRFLOW_HOME with a SQLite metadata database.

Airflow reads its configuration when first imported, so the environment is set here, before any test
module of this folder imports it. The DAG folder is the repository's ``dags/``: ``dag.test()`` parses
the DAG from there, exactly as a deployment's DAG processor would.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
DAG_FILE = DAGS_FOLDER / "meta_graph_api_pipeline.py"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Starlette (under Airflow's in-process execution API) warns that it prefers httpx2; harmless here, but
# the suite turns warnings into errors, and every task would fail on it.
STARLETTE_HTTPX_WARNING = "ignore:Using `httpx` with `starlette.testclient` is deprecated:UserWarning"

_HOME = Path(tempfile.mkdtemp(prefix="metaads-airflow-"))
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
os.environ.update(
    {
        "AIRFLOW_HOME": str(_HOME),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
    }
)

# The metaads settings a DAG parse or task could pick up from the developer's shell or .env.
#: The entity views the extraction tasks refresh and the analytics tables the sync writes (ENTITY_TABLES on).
ENTITY_VIEWS = ["vw_graph_campaigns", "vw_graph_adsets", "vw_graph_ad_details", "vw_graph_creatives"]
ENTITY_TARGETS = ["graph_campaigns", "graph_adsets", "graph_ad_details", "graph_creatives"]

METAADS_VARIABLES = (
    "META_ACCOUNTS",
    "GRAPH_API_TOKENS",
    "GRAPH_API_APP_SECRET",
    "GRAPH_API_BASE_URL",
    "GRAPH_API_VERSION",
    "GRAPH_API_PAGE_SIZE",
    "LOOKBACK_DAYS",
    "DEEP_LOOKBACK_DAYS",
    "INITIAL_HISTORY_DAYS",
    "ACCOUNT_GROUP_SIZE",
    "WAREHOUSE_URL",
    "WAREHOUSE_SCHEMA",
    "ANALYTICS_URL",
    "ANALYTICS_SCHEMA",
    "PIPELINE_TIMEZONE",
    "BACKFILL_CHUNK_DAYS",
    "METAADS_RETRY_DELAY_S",
    "RECONCILE",
    "RECONCILE_TOLERANCE",
    "INSIGHTS_REPORTS",
    "ENTITY_TABLES",
    "AIRFLOW_CONN_METAADS_WAREHOUSE",
    "AIRFLOW_CONN_METAADS_ANALYTICS",
    "AIRFLOW_VAR_METAADS_GRAPH_API_TOKENS",
    "AIRFLOW_VAR_METAADS_GRAPH_API_APP_SECRET",
)


def _require_airflow() -> None:
    try:
        import airflow  # noqa: F401
    except ImportError:
        if IN_CI:
            raise
        pytest.skip("Apache Airflow is not installed: pip install -e '.[dev,airflow]'")


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Airflow's metadata database, created once per session."""
    _require_airflow()
    from airflow.utils import db

    db.initdb()
    return _HOME


@pytest.fixture
def metaads_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Set the DAG's environment for one test; nothing from the shell or a ``.env`` leaks in."""
    for name in METAADS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("METAADS_ENV_FILE", str(tmp_path / "absent.env"))

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return apply
