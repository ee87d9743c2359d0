"""Whole DAG runs in-process (``dag.test()``, real Airflow 3) against the simulator over HTTP, a PostgreSQL
warehouse and a SQLite analytics database.

Settings reach the tasks the way a deployment provides them: the warehouse through the Airflow connection
``metaads_warehouse``, the tokens through the variable ``metaads_graph_api_tokens``, everything else
through the environment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from metaads import Simulator, SimulatorConfig
from metaads.orchestration import DAG_ID
from metaads.sync import ADS_TARGET
from tests.airflow.conftest import DAGS_FOLDER, STARLETTE_HTTPX_WARNING
from tests.integration.conftest import truth_actions, truth_ads, warehouse_actions, warehouse_ads

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.filterwarnings(STARLETTE_HTTPX_WARNING),
]

LOOKBACK_DAYS = 5


@dataclass
class Deployment:
    """A simulator, a warehouse and an analytics database, and the DAG's environment pointing at them."""

    sim: Simulator
    warehouse: sa.Engine
    schema: str
    analytics: sa.Engine
    env: dict[str, str] = field(repr=False)  # holds tokens

    def run(self, metaads_env: Any, **overrides: str) -> Any:
        """Parse the DAG under this environment and run it once with ``dag.test()``."""
        from airflow.dag_processing.dagbag import DagBag

        metaads_env(**{**self.env, **overrides})
        bag = DagBag(dag_folder=str(DAGS_FOLDER))
        assert bag.import_errors == {}
        return bag.dags[DAG_ID].test()

    def ledger(self, table: str) -> list[dict[str, Any]]:
        t = sa.Table(table, sa.MetaData(), schema=self.schema, autoload_with=self.warehouse)
        with self.warehouse.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(t))]

    def analytics_keys(self) -> set[tuple[str, str, str]]:
        t = sa.Table(ADS_TARGET, sa.MetaData(), autoload_with=self.analytics)
        with self.analytics.connect() as conn:
            rows = conn.execute(sa.select(t.c.account_id, t.c.ad_id, t.c.date)).all()
        assert len(rows) == len(set(rows)), "duplicate rows in the analytics table"
        return {(r.account_id, r.ad_id, r.date.isoformat()) for r in rows}


@pytest.fixture
def deployment(
    airflow_db: Path, pg_engine: sa.Engine, pg_url: str, pg_schema: str, tmp_path: Path
) -> Iterator[Deployment]:
    sim = Simulator(SimulatorConfig(seed=5, n_accounts=3, ads_per_account=12))
    pg = sa.make_url(pg_url)
    warehouse_conn = json.dumps(
        {
            "conn_type": "postgres",
            "host": pg.host,
            "port": pg.port,
            "login": pg.username,
            "password": pg.password,
            "schema": pg.database,
        }
    )
    analytics = sa.create_engine(f"sqlite:///{tmp_path / 'analytics.db'}")
    with sim.serve(port=0) as server:
        yield Deployment(
            sim=sim,
            warehouse=pg_engine,
            schema=pg_schema,
            analytics=analytics,
            env={
                "META_ACCOUNTS": sim.meta_accounts_env(),
                "ACCOUNT_GROUP_SIZE": "2",
                "GRAPH_API_BASE_URL": server.base_url,
                "GRAPH_API_PAGE_SIZE": "100",
                "LOOKBACK_DAYS": str(LOOKBACK_DAYS),
                # A new account's first (deep) run would load more: keep every run to the look-back here.
                "DEEP_LOOKBACK_DAYS": str(LOOKBACK_DAYS),
                "INITIAL_HISTORY_DAYS": str(LOOKBACK_DAYS),
                # dag.test() waits out retry delays in real time: keep a transient hiccup from costing minutes.
                "METAADS_RETRY_DELAY_S": "2",
                "WAREHOUSE_SCHEMA": pg_schema,
                "ANALYTICS_URL": f"sqlite:///{tmp_path / 'analytics.db'}",
                "AIRFLOW_CONN_METAADS_WAREHOUSE": warehouse_conn,
                "AIRFLOW_VAR_METAADS_GRAPH_API_TOKENS": ",".join(sim.tokens),
            },
        )
    analytics.dispose()


def states(dag_run: Any) -> dict[str, tuple[str, int]]:
    return {ti.task_id: (str(ti.state), ti.try_number) for ti in dag_run.get_task_instances()}


def loaded_ranges(deployment: Deployment) -> dict[str, tuple[Any, Any]]:
    """Account id -> the (since, until) its last load covered, from the warehouse's run ledger."""
    rows = sorted(
        (r for r in deployment.ledger("metaads_account_runs") if r["status"] == "loaded"), key=lambda r: r["id"]
    )
    return {r["account_id"]: (r["since"], r["until"]) for r in rows}


def assert_warehouse_holds_the_truth(
    deployment: Deployment, account_id: str, table: str, since: Any, until: Any
) -> set[tuple[str, str]]:
    truth = truth_ads(deployment.sim, account_id, since, until)
    assert truth, f"the simulator has no rows for {account_id}: the test would prove nothing"
    loaded = warehouse_ads(deployment.warehouse, deployment.schema, table)
    assert set(loaded) == set(truth)
    for key, api_row in truth.items():
        assert Decimal(str(loaded[key]["spend"])) == Decimal(api_row["spend"]), key
        assert loaded[key]["impressions"] == int(api_row.get("impressions", 0)), key
    assert warehouse_actions(deployment.warehouse, deployment.schema, f"{table}_actions") == truth_actions(truth)
    return set(truth)


def test_scheduled_run_loads_the_api_ground_truth_and_syncs_it(deployment: Deployment, metaads_env: Any) -> None:
    dag_run = deployment.run(metaads_env)

    assert str(dag_run.state) == "success", states(dag_run)
    ids = deployment.sim.account_ids
    assert all(state == "success" for state, _ in states(dag_run).values()), states(dag_run)
    ranges = loaded_ranges(deployment)
    assert set(ranges) == set(ids)
    expected_keys: set[tuple[str, str, str]] = set()
    for position, account_id in enumerate(ids):
        since, until = ranges[account_id]
        assert (until - since).days + 1 == LOOKBACK_DAYS
        assert until == deployment.sim.account_today(account_id)
        keys = assert_warehouse_holds_the_truth(deployment, account_id, f"bm_{position + 1:02d}", since, until)
        expected_keys |= {(account_id, ad_id, day) for ad_id, day in keys}
    assert deployment.analytics_keys() == expected_keys
    (run,) = deployment.ledger("metaads_runs")
    assert (run["trigger"], run["status"], run["accounts"], run["accounts_failed"]) == ("airflow", "success", 3, 0)
    # The tasks paced their calls through the throttle state shared in the warehouse (no tokens in it).
    shared = deployment.ledger("metaads_throttle")
    assert {r["key"].split(":")[0] for r in shared} >= {"account"}
    assert {r["key"].rsplit(":", 1)[-1] for r in shared if r["key"].startswith("account:")} == set(ids)
    assert not any(token in r["key"] for r in shared for token in deployment.sim.tokens)


def test_unreadable_account_fails_alone_sync_runs_and_the_dag_run_fails_naming_it(
    deployment: Deployment, metaads_env: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    ids = deployment.sim.account_ids
    # The configured token may read every account but the second one (Graph API error 200).
    token = deployment.sim.add_token(accounts=[ids[0], ids[2]])
    second_name = deployment.sim.account(ids[1]).name

    dag_run = deployment.run(metaads_env, AIRFLOW_VAR_METAADS_GRAPH_API_TOKENS=token)

    assert str(dag_run.state) == "failed"
    by_task = states(dag_run)
    extract = {tid: s for tid, s in by_task.items() if ".extract_" in tid}
    failed = [tid for tid, (state, _) in extract.items() if state == "failed"]
    assert len(failed) == 1, by_task
    assert failed[0].startswith("accounts_group_1.")
    assert extract[failed[0]][1] == 1, "a permission error is not retried"
    assert sum(1 for state, _ in extract.values() if state == "success") == 2
    assert by_task["sync_analytics"][0] == "success"
    assert by_task["finish_run"][0] == "failed"

    ranges = loaded_ranges(deployment)
    assert set(ranges) == {ids[0], ids[2]}
    assert deployment.analytics_keys(), "what loaded was synced"
    assert {account for account, _, _ in deployment.analytics_keys()} == {ids[0], ids[2]}
    (run,) = deployment.ledger("metaads_runs")
    assert (run["status"], run["accounts_failed"]) == ("partial", 1)

    output = capfd.readouterr()
    log = output.out + output.err
    judged = [line for line in log.splitlines() if "account(s) did not load" in line]
    assert judged, "finish_run's failure is in the task log"
    assert any(second_name in line and f"act_{ids[1]}" in line for line in judged), judged
    assert token not in log


def test_account_the_api_says_does_not_exist_100_33_is_not_retried(deployment: Deployment, metaads_env: Any) -> None:
    # An account id no token can see: Graph API 100/33 "does not exist, cannot be loaded due to missing
    # permissions". Asking again gives the same answer, so Airflow must not spend its retries on it.
    accounts = deployment.env["META_ACCOUNTS"] + ",act_999000111:bm_04:Gone"

    dag_run = deployment.run(metaads_env, META_ACCOUNTS=accounts)

    assert str(dag_run.state) == "failed"
    by_task = states(dag_run)
    extract = {tid: s for tid, s in by_task.items() if ".extract_" in tid}
    assert len(extract) == 4, by_task
    failed = {tid: s for tid, s in extract.items() if s[0] == "failed"}
    assert list(failed) == ["accounts_group_2.extract_gone"], by_task
    assert failed["accounts_group_2.extract_gone"][1] == 1, "a 100/33 answer is not retried"
    assert sum(1 for state, _ in extract.values() if state == "success") == 3
    assert by_task["sync_analytics"][0] == "success"
    rows = [r for r in deployment.ledger("metaads_account_runs") if r["account_id"] == "999000111"]
    assert [r["status"] for r in rows] == ["failed"]
    assert "code=100" in rows[0]["error"]
    assert "subcode=33" in rows[0]["error"]


def test_the_dag_notifier_sends_the_runs_one_message_naming_the_failed_account(
    deployment: Deployment, metaads_env: Any
) -> None:
    from tests.webhook import Webhook

    ids = deployment.sim.account_ids
    token = deployment.sim.add_token(accounts=[ids[0], ids[2]])  # the second account answers (#200)
    second_name = deployment.sim.account(ids[1]).name
    hook = Webhook()
    try:
        dag_run = deployment.run(metaads_env, AIRFLOW_VAR_METAADS_GRAPH_API_TOKENS=token, ALERT_URLS=hook.url)
    finally:
        hook.close()

    assert str(dag_run.state) == "failed"
    assert len(hook.received) == 1, "one message per run, sent by finish_run's notifier"
    title, body = str(hook.received[0]["title"]), str(hook.received[0]["message"])
    assert "1 account failed" in title
    assert f"{second_name} (act_{ids[1]})" in body
    assert "(#200)" in body
    assert "a retry cannot help" in body
    assert token not in title + body


def test_the_first_dag_run_of_an_account_day_re_fetches_the_deep_window_and_the_next_one_looks_back(
    deployment: Deployment, metaads_env: Any
) -> None:
    from datetime import datetime, timedelta, timezone

    from metaads.clock import FakeClock
    from metaads.config.accounts import parse_accounts
    from metaads.dates import DateRange
    from metaads.outcomes import ChunkResult
    from metaads.statuses import AccountStatus
    from metaads.warehouse import Warehouse

    deep = 8
    # Yesterday every account was loaded (its whole life, so nothing is missing); today nothing ran yet.
    yesterday = FakeClock(datetime.now(timezone.utc) - timedelta(days=1))
    warehouse = Warehouse(deployment.warehouse, deployment.schema, clock=yesterday)
    accounts = parse_accounts(deployment.env["META_ACCOUNTS"])
    warehouse.init(accounts)
    run_id = warehouse.start_run(trigger="test", accounts=len(accounts))
    for account in accounts:
        until = deployment.sim.account_today(account.id) - timedelta(days=1)
        loaded = ChunkResult(DateRange(until - timedelta(days=60), until), AccountStatus.LOADED)
        warehouse.record_account_run(run_id, account, loaded)
    settings = {"DEEP_LOOKBACK_DAYS": str(deep)}

    first = deployment.run(metaads_env, **settings)
    after_first = loaded_ranges(deployment)
    second = deployment.run(metaads_env, **settings)

    assert (str(first.state), str(second.state)) == ("success", "success")
    after_second = loaded_ranges(deployment)
    for account in accounts:
        today = deployment.sim.account_today(account.id)
        assert after_first[account.id] == (today - timedelta(days=deep - 1), today)
        assert after_second[account.id] == (today - timedelta(days=LOOKBACK_DAYS - 1), today)
