"""Every writer (fast paths and the portable one) produces the same analytics tables."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from metaads.errors import SyncError
from metaads.sync import SyncOptions, analytics_tables, sync_analytics
from metaads.sync.plan import window_start
from metaads.sync.targets import ensure_targets
from metaads.warehouse import Warehouse
from tests.sync.conftest import Target
from tests.sync.data import TODAY, Loader, accounts, target_rows, view_rows

A, B, _ = accounts()


def load(loader: Loader) -> None:
    loader.load(A, date(2026, 11, 1), date(2026, 11, 12), ads=4)
    loader.load(B, date(2026, 11, 10), date(2026, 11, 19), ads=4)


def copies(warehouse: Warehouse, target: Target, methods: list[str]) -> dict[str, object]:
    """Target contents after a full sync with each method, each into its own fresh schema."""
    out: dict[str, object] = {}
    for method in methods:
        schema = f"{target.schema}_{method}"
        try:
            result = sync_analytics(
                warehouse.engine,
                warehouse.schema,
                target.engine,
                schema,
                SyncOptions(full=True, today=TODAY, threads=2, batch_rows=5, write_method=method),
            )
            assert result.method == method
            out[method] = target_rows(target.engine, schema)
        finally:
            drop = (
                f"DROP DATABASE IF EXISTS `{schema}`"
                if target.kind == "mariadb"
                else f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'
            )
            with target.engine.begin() as conn:
                conn.exec_driver_sql(drop)
    return out


@pytest.mark.postgres
def test_postgresql_writers_produce_identical_tables(warehouse: Warehouse, loader: Loader, pg_target: Target) -> None:
    load(loader)
    expected = view_rows(warehouse.engine, warehouse.schema, since=window_start(TODAY, 90))

    results = copies(warehouse, pg_target, ["pg_pipe", "pg_copy", "executemany", "multivalues", "sqlalchemy"])

    assert len(expected["graph_ads"]) == 12 * 4 + 10 * 4
    assert all(rows == expected for rows in results.values()), [m for m, r in results.items() if r != expected]


@pytest.mark.mysql
def test_mariadb_writers_produce_identical_tables(warehouse: Warehouse, loader: Loader, mariadb_target: Target) -> None:
    load(loader)
    expected = view_rows(warehouse.engine, warehouse.schema, since=window_start(TODAY, 90))

    results = copies(warehouse, mariadb_target, ["mysql_load", "executemany", "multivalues", "sqlalchemy"])

    assert all(rows == expected for rows in results.values()), [m for m, r in results.items() if r != expected]


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("bcp", "unknown write method 'bcp'"),
        ("pg_pipe", "needs a PostgreSQL (psycopg 3) warehouse"),
        ("mysql_load", "needs a PostgreSQL (psycopg 3) warehouse"),
        ("pg_copy", "needs a PostgreSQL (psycopg 3) analytics database"),
    ],
    ids=["unknown", "pipe-from-sqlite", "load-from-sqlite", "copy-into-sqlite"],
)
def test_a_write_method_the_databases_cannot_use_is_refused(tmp_path: object, method: str, message: str) -> None:
    warehouse = Warehouse(sa.create_engine(f"sqlite:///{tmp_path}/wh.db"), None)
    warehouse.init(accounts())
    analytics = sa.create_engine(f"sqlite:///{tmp_path}/an-{uuid.uuid4().hex}.db")

    with pytest.raises(SyncError, match=message.replace("(", r"\(").replace(")", r"\)")):
        sync_analytics(warehouse.engine, None, analytics, None, SyncOptions(today=TODAY, write_method=method))


@pytest.mark.postgres
def test_rows_stream_from_a_server_side_cursor_in_batches(
    warehouse: Warehouse, loader: Loader, pg_target: Target
) -> None:
    load(loader)
    cursors: list[str] = []
    batches: list[int] = []

    def watch(
        conn: object, cursor: object, statement: str, parameters: object, context: object, executemany: bool
    ) -> None:
        if "vw_graph_ads" in statement and "DISTINCT" not in statement:  # not the full plan's account list
            cursors.append(type(cursor).__name__)
        if statement.startswith(f"INSERT INTO {pg_target.schema}."):  # a one-row batch is a plain execute
            batches.append(len(parameters) if executemany else 1)  # type: ignore[arg-type]

    engine = warehouse.engine  # the target schema lives on the same server (and engine)
    sa.event.listen(engine, "before_cursor_execute", watch)
    try:
        result = sync_analytics(
            engine,
            warehouse.schema,
            pg_target.engine,
            pg_target.schema,
            SyncOptions(today=TODAY, threads=2, batch_rows=5, write_method="executemany"),
        )
    finally:
        sa.event.remove(engine, "before_cursor_execute", watch)

    assert set(cursors) == {"ServerCursor"}  # psycopg's named (server-side) cursor
    assert len(cursors) == 2 * len(result.slices)
    assert max(batches) == 5
    assert sum(batches) == result.rows == 88 + 176


@pytest.mark.mysql
def test_load_data_warnings_fail_the_slice_instead_of_keeping_altered_rows(
    warehouse: Warehouse, loader: Loader, mariadb_target: Target
) -> None:
    load(loader)
    with mariadb_target.engine.begin() as conn:
        ensure_targets(conn, analytics_tables(sa.MetaData(), schema=mariadb_target.schema), evolve=False)
        # A narrower column than the names: LOAD DATA LOCAL would truncate them with mere warnings.
        conn.exec_driver_sql(f"ALTER TABLE `{mariadb_target.schema}`.graph_ads MODIFY ad_name VARCHAR(5)")

    with pytest.raises(SyncError, match=r"replacing slice .*LOAD DATA into .*graph_ads reported warnings"):
        sync_analytics(
            warehouse.engine,
            warehouse.schema,
            mariadb_target.engine,
            mariadb_target.schema,
            SyncOptions(today=TODAY, threads=1, write_method="mysql_load"),
        )

    assert target_rows(mariadb_target.engine, mariadb_target.schema) == {"graph_ads": [], "graph_ads_actions": []}
