"""The whole sync against a real SQL Server, when ``METAADS_TEST_MSSQL_URL`` points at one.

Without it the test reports itself skipped (never passed). docs/sync.md shows how to run it against
the official container, e.g. with ``METAADS_TEST_MSSQL_URL`` set to
``mssql+pyodbc://sa:PASSWORD@127.0.0.1:1433/master?driver=ODBC+Driver+18+for+SQL+Server&TrustServerCertificate=yes``
run ``.venv/bin/python -m pytest -m mssql tests/sync``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import date

import pytest
import sqlalchemy as sa

from metaads.sync import FULL, INCREMENTAL, Slice, SyncOptions, SyncResult, sync_analytics
from metaads.sync.plan import window_start
from metaads.warehouse import Warehouse
from tests.sync.conftest import Target
from tests.sync.data import TODAY, TRICKY_NAMES, Loader, accounts, target_rows, view_rows

pytestmark = [pytest.mark.mssql, pytest.mark.postgres]
A, B, C = accounts()


@pytest.fixture
def mssql_target() -> Iterator[Target]:
    url = os.environ.get("METAADS_TEST_MSSQL_URL")
    if not url:
        pytest.skip(
            "METAADS_TEST_MSSQL_URL is not set: no SQL Server to sync into "
            "(docs/sync.md shows how to start the official container and run this test)"
        )
    try:
        engine = sa.create_engine(url, pool_size=5)
    except ImportError as exc:  # the URL's driver is not installed: a setup error, not a skip
        pytest.fail(f"METAADS_TEST_MSSQL_URL needs its driver: pip install '.[mssql]' ({exc})", pytrace=False)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield Target("mssql", engine, schema)
    with engine.begin() as conn:
        for table in ("graph_ads_actions", "graph_ads"):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS [{schema}].[{table}]")
        conn.exec_driver_sql(f"IF SCHEMA_ID('{schema}') IS NOT NULL EXEC('DROP SCHEMA [{schema}]')")
    engine.dispose()


def test_sync_into_sql_server_copies_replaces_and_rolls_back(
    mssql_target: Target, warehouse: Warehouse, loader: Loader
) -> None:
    loader.load(A, date(2026, 10, 1), date(2026, 11, 19), ads=6)
    loader.load(B, date(2026, 11, 1), date(2026, 11, 10), ads=6)
    start = window_start(TODAY, 30)

    def sync(threads: int = 4, before_commit: Callable[[Slice], None] | None = None) -> SyncResult:
        return sync_analytics(
            warehouse.engine,
            warehouse.schema,
            mssql_target.engine,
            mssql_target.schema,
            SyncOptions(today=TODAY, retention_days=30, threads=threads, batch_rows=50, before_commit=before_commit),
        )

    first = sync()
    assert first.mode == FULL
    assert first.method == ("executemany" if mssql_target.engine.dialect.driver == "pyodbc" else "multivalues")
    assert target_rows(mssql_target.engine, mssql_target.schema) == view_rows(
        warehouse.engine, warehouse.schema, since=start
    )
    names = {row[9] for row in target_rows(mssql_target.engine, mssql_target.schema)["graph_ads"]}
    assert any(TRICKY_NAMES[0] in name for name in names)  # NVARCHAR kept the emoji and the kanji

    loader.load(B, date(2026, 11, 5), date(2026, 11, 8), ads=4, version=1)
    second = sync()
    assert (second.mode, second.slices) == (INCREMENTAL, (Slice(B.id, date(2026, 11, 5), date(2026, 11, 8)),))
    assert target_rows(mssql_target.engine, mssql_target.schema) == view_rows(
        warehouse.engine, warehouse.schema, since=start
    )

    before = target_rows(mssql_target.engine, mssql_target.schema)
    loader.load(A, date(2026, 11, 1), date(2026, 11, 19), version=2)

    def fail(item: Slice) -> None:
        raise RuntimeError("injected")

    with pytest.raises(RuntimeError, match="injected"):
        sync(threads=1, before_commit=fail)
    assert target_rows(mssql_target.engine, mssql_target.schema) == before
