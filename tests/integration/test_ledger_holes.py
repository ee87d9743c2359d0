"""Issue 10's ledger holes, reproduced end to end: a ledger write failing after a load, a killed run."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from metaads.pipeline import Pipeline
from metaads.warehouse import Warehouse
from tests.integration.conftest import World

_FAIL_LEDGER = {
    "postgresql": [
        "CREATE FUNCTION {schema}.refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'ledger unavailable'; END; "
        "$$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse BEFORE INSERT ON {schema}.metaads_account_runs FOR EACH ROW "
        "EXECUTE FUNCTION {schema}.refuse()",
    ],
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON metaads_account_runs "
        "BEGIN SELECT RAISE(ABORT, 'ledger unavailable'); END"
    ],
}
_HEAL_LEDGER = {
    "postgresql": ["DROP TRIGGER refuse ON {schema}.metaads_account_runs"],
    "sqlite": ["DROP TRIGGER refuse"],
}


def _execute(pipeline: Pipeline, statements: dict[str, list[str]]) -> None:
    engine = pipeline.warehouse_engine
    with engine.begin() as conn:
        for statement in statements[engine.dialect.name]:
            conn.exec_driver_sql(statement.format(schema=f'"{pipeline.warehouse.schema}"'))


def _spend(engine: sa.Engine, table: str, schema: str | None, account_id: str) -> Decimal:
    t = sa.Table(table, sa.MetaData(), schema=schema, autoload_with=engine)
    with engine.connect() as conn:
        value = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(t.c.spend), 0)).where(t.c.account_id == account_id)
        ).scalar_one()
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_failed_ledger_write_leaves_warehouse_and_analytics_equal(
    world: World, make_pipeline: Callable[..., Pipeline], tmp_path: Path
) -> None:
    pipeline = make_pipeline(ANALYTICS_URL=f"sqlite:///{tmp_path / 'analytics.db'}")
    account = pipeline.settings.accounts[0]
    pipeline.init_warehouse()
    schema = pipeline.warehouse.schema
    _execute(pipeline, _FAIL_LEDGER)

    result = pipeline.extract_and_load(account)
    pipeline.sync()
    analytics = sa.create_engine(f"sqlite:///{tmp_path / 'analytics.db'}")
    # Before the fix the load committed, the ledger write failed, the account said "loaded", and the
    # incremental sync never saw the range: warehouse spend > 0, analytics 0.00 until `sync --full`.
    assert result.status == "failed"
    assert (
        _spend(pipeline.warehouse_engine, account.table, schema, account.id)
        == _spend(analytics, "graph_ads", None, account.id)
        == 0
    )

    _execute(pipeline, _HEAL_LEDGER)
    assert pipeline.extract_and_load(account).ok
    pipeline.sync()
    warehouse_spend = _spend(pipeline.warehouse_engine, account.table, schema, account.id)
    assert warehouse_spend > 0
    assert _spend(analytics, "graph_ads", None, account.id) == warehouse_spend
    analytics.dispose()


_KILLED_RUN = """
import os, signal, sys
import sqlalchemy as sa
from metaads.config.accounts import parse_accounts
from metaads.warehouse import Warehouse
schema = sys.argv[2] or None
wh = Warehouse(sa.create_engine(sys.argv[1]), schema or "meta_ads")
wh.init(parse_accounts("act_1111111111:bm_01"))
print(wh.start_run(trigger="cli", accounts=1), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_killed_run_is_recorded_abandoned_by_the_next_run(warehouse_env: dict[str, str]) -> None:
    url, schema = warehouse_env["WAREHOUSE_URL"], warehouse_env.get("WAREHOUSE_SCHEMA", "")
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_RUN, url, schema], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    killed = done.stdout.strip()
    engine = sa.create_engine(url)
    wh = Warehouse(engine, schema or "meta_ads")
    status = sa.select(wh.runs.c.status).where(wh.runs.c.run_id == killed)
    with engine.connect() as conn:
        assert conn.execute(status).scalar_one() == "running"
    mine = wh.start_run(trigger="cli", accounts=1)
    with engine.connect() as conn:
        assert conn.execute(status).scalar_one() == "abandoned"
        assert conn.execute(sa.select(wh.runs.c.status).where(wh.runs.c.run_id == mine)).scalar_one() == "running"
    # A live owner is never abandoned: this process's run stays running through another check.
    assert wh.mark_abandoned() == {"runs": [], "syncs": []}
    engine.dispose()


def test_a_run_of_a_live_process_elsewhere_is_abandoned_only_when_its_heartbeat_is_stale(
    warehouse_env: dict[str, str],
) -> None:
    from datetime import timedelta

    from metaads.clock import FakeClock

    engine = sa.create_engine(warehouse_env["WAREHOUSE_URL"])
    clock = FakeClock()
    wh = Warehouse(engine, warehouse_env.get("WAREHOUSE_SCHEMA", "meta_ads"), clock=clock)
    from metaads.config.accounts import parse_accounts

    wh.init(parse_accounts("act_1111111111:bm_01"))
    run = wh.start_run(trigger="airflow", accounts=1, owned=False)  # spans workers: no owner process
    clock.advance(3600)
    assert wh.mark_abandoned()["runs"] == []
    clock.advance(7 * 3600)
    assert wh.mark_abandoned(stale_after=timedelta(hours=6))["runs"] == [run]
    engine.dispose()
