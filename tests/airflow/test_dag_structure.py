"""The DAG file as Airflow's DagBag parses it: id, schedule in the configured time zone, retries, groups,
dependencies, trigger rules and pool."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from metaads.orchestration import DAG_ID, GRAPH_API_POOL
from tests.airflow.conftest import DAGS_FOLDER, ENTITY_TARGETS, ENTITY_VIEWS, STARLETTE_HTTPX_WARNING

pytestmark = [pytest.mark.airflow, pytest.mark.filterwarnings(STARLETTE_HTTPX_WARNING)]

FIVE_ACCOUNTS = ",".join(
    [
        "act_101:bm_01:Acme EU",
        "act_102:bm_02:Acme US",
        "act_103:bm_03",  # no label: named after its table
        "act_104:bm_04:Café Köln",  # accents folded for the task id
        "act_105:bm_05:Acme-EU",  # slugs like account 1: both fall back to their tables
    ]
)


def parse(metaads_env: Any, **env: str) -> Any:
    """A DagBag of the repository's dags/ folder under ``env``."""
    from airflow.dag_processing.dagbag import DagBag

    metaads_env(**env)
    return DagBag(dag_folder=str(DAGS_FOLDER))


@pytest.fixture
def dag(airflow_db: Path, metaads_env: Any) -> Any:
    bag = parse(metaads_env, META_ACCOUNTS=FIVE_ACCOUNTS, ACCOUNT_GROUP_SIZE="2", PIPELINE_TIMEZONE="Europe/Berlin")
    assert bag.import_errors == {}
    return bag.dags[DAG_ID]


def test_dag_file_imports_and_has_the_run_policy(dag: Any) -> None:
    assert dag.dag_id == "meta_graph_api_pipeline"
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.default_args["retries"] == 2
    assert dag.default_args["retry_delay"] == timedelta(minutes=5)
    assert dag.timetable.expression == "0 8,14,20 * * 1-6"
    assert str(dag.timetable.timezone) == "Europe/Berlin"


def test_schedule_fires_three_times_a_day_monday_to_saturday_in_the_configured_zone(dag: Any) -> None:
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import DataInterval, TimeRestriction

    timetable = coerce_to_core_timetable(dag.timetable)
    berlin = ZoneInfo("Europe/Berlin")
    # Sunday 2025-06-01 12:00 in Berlin: the next runs are Monday 08:00 .. Saturday 20:00, then Monday.
    last = datetime(2025, 6, 1, 12, 0, tzinfo=berlin)
    fired: list[datetime] = []
    restriction = TimeRestriction(earliest=dag.start_date, latest=None, catchup=True)
    for _ in range(19):
        info = timetable.next_dagrun_info(
            last_automated_data_interval=DataInterval.exact(last), restriction=restriction
        )
        assert info is not None
        last = info.run_after
        fired.append(last.astimezone(berlin))
    assert [(f.strftime("%a"), f.hour, f.minute) for f in fired[:3]] == [("Mon", 8, 0), ("Mon", 14, 0), ("Mon", 20, 0)]
    assert {f.strftime("%a") for f in fired[:18]} == {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
    assert all(f.hour in (8, 14, 20) and f.minute == 0 for f in fired)
    assert (fired[17].strftime("%a"), fired[17].hour) == ("Sat", 20)
    assert (fired[18].date(), fired[18].hour) == (datetime(2025, 6, 9).date(), 8)  # Sunday skipped
    assert fired[0].utcoffset() == timedelta(hours=2)  # 08:00 Berlin summer time is 06:00 UTC


def test_one_readable_task_per_account_in_groups_of_account_group_size(dag: Any) -> None:
    groups = {
        gid: sorted(child.task_id for child in group.children.values())
        for gid, group in dag.task_group.children.items()
        if gid.startswith("accounts_group_")
    }
    assert groups == {
        "accounts_group_1": ["accounts_group_1.extract_acme_us", "accounts_group_1.extract_bm_01"],
        "accounts_group_2": ["accounts_group_2.extract_bm_03", "accounts_group_2.extract_cafe_koln"],
        "accounts_group_3": ["accounts_group_3.extract_bm_05"],
    }
    names = {t.task_id: t.task_display_name for t in dag.tasks}
    assert names["accounts_group_2.extract_cafe_koln"] == "Café Köln (act_104)"
    assert names["accounts_group_2.extract_bm_03"] == "bm_03 (act_103)"
    assert names["accounts_group_1.extract_bm_01"] == "Acme EU (act_101)"


def test_groups_run_one_after_another_and_a_failed_account_does_not_stop_the_next_group(dag: Any) -> None:
    first = ["accounts_group_1.extract_bm_01", "accounts_group_1.extract_acme_us"]
    second = ["accounts_group_2.extract_bm_03", "accounts_group_2.extract_cafe_koln"]
    for task_id in first:
        task = dag.get_task(task_id)
        assert task.upstream_task_ids == {"start_run"}
        assert task.trigger_rule == "all_success"
    for task_id in second:
        task = dag.get_task(task_id)
        assert task.upstream_task_ids == {"start_run", *first}
        assert task.trigger_rule == "all_done"
    last = dag.get_task("accounts_group_3.extract_bm_05")
    assert last.upstream_task_ids == {"start_run", *second}
    assert last.trigger_rule == "all_done"


def test_sync_waits_for_every_account_and_the_last_task_judges_the_run(dag: Any) -> None:
    extract_ids = {t.task_id for t in dag.tasks if ".extract_" in t.task_id}
    assert len(extract_ids) == 5
    sync = dag.get_task("sync_analytics")
    assert sync.upstream_task_ids == extract_ids
    assert sync.trigger_rule == "all_done"
    finish = dag.get_task("finish_run")
    assert finish.upstream_task_ids == {"sync_analytics", "start_run"}
    assert finish.trigger_rule == "all_done"
    assert finish.retries == 0
    assert [t.task_id for t in dag.tasks if not t.downstream_task_ids] == ["finish_run"]


def test_only_graph_api_tasks_take_a_slot_in_the_pool(dag: Any) -> None:
    pools = {t.task_id: t.pool for t in dag.tasks}
    assert {tid for tid, pool in pools.items() if pool == GRAPH_API_POOL} == {
        t.task_id for t in dag.tasks if ".extract_" in t.task_id
    }
    assert pools["start_run"] != GRAPH_API_POOL
    assert pools["sync_analytics"] != GRAPH_API_POOL


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"META_ACCOUNTS": "act_1:bm_01,12a:bm_02"}, "META_ACCOUNTS"),
        ({"META_ACCOUNTS": ""}, "META_ACCOUNTS"),
        ({"META_ACCOUNTS": "act_1", "PIPELINE_TIMEZONE": "Mars/Olympus"}, "PIPELINE_TIMEZONE"),
        ({"META_ACCOUNTS": "act_1", "ACCOUNT_GROUP_SIZE": "0"}, "ACCOUNT_GROUP_SIZE"),
        ({"META_ACCOUNTS": "act_1", "METAADS_RETRY_DELAY_S": "soon"}, "METAADS_RETRY_DELAY_S"),
    ],
    ids=["bad-account-id", "no-accounts", "unknown-time-zone", "zero-group-size", "bad-retry-delay"],
)
def test_bad_configuration_is_an_import_error_naming_the_variable(
    airflow_db: Path, metaads_env: Any, env: dict[str, str], named: str
) -> None:
    bag = parse(metaads_env, **env)
    assert DAG_ID not in bag.dags
    (error,) = bag.import_errors.values()
    assert named in error


def test_retry_delay_can_be_shortened_for_impatient_environments(airflow_db: Path, metaads_env: Any) -> None:
    bag = parse(metaads_env, META_ACCOUNTS="act_1", METAADS_RETRY_DELAY_S="30")
    assert bag.dags[DAG_ID].default_args["retry_delay"] == timedelta(seconds=30)


def test_no_secret_is_needed_to_parse_the_dag(airflow_db: Path, metaads_env: Any) -> None:
    # Tokens and database URLs may live only in Airflow Connections/Variables, read when tasks run.
    bag = parse(metaads_env, META_ACCOUNTS="act_1:bm_01:Solo")
    assert bag.import_errors == {}
    assert [t.task_id for t in bag.dags[DAG_ID].tasks if ".extract_" in t.task_id] == ["accounts_group_1.extract_solo"]


def test_extraction_and_sync_declare_the_views_and_tables_they_write_as_assets(
    airflow_db: Path, metaads_env: Any
) -> None:
    bag = parse(
        metaads_env,
        META_ACCOUNTS=FIVE_ACCOUNTS,
        ACCOUNT_GROUP_SIZE="2",
        WAREHOUSE_URL="postgresql+psycopg://etl:pw@wh.example:5433/ads",
        WAREHOUSE_SCHEMA="meta_ads",
        ANALYTICS_URL="mssql+pyodbc://bi:pw@sql.example:1433/reporting?driver=ODBC+Driver+18",
        ANALYTICS_SCHEMA="graph",
    )
    if bag.import_errors:  # without the mssql extra the driver check refuses the URL: use MariaDB then
        bag = parse(
            metaads_env,
            META_ACCOUNTS=FIVE_ACCOUNTS,
            ACCOUNT_GROUP_SIZE="2",
            WAREHOUSE_URL="postgresql+psycopg://etl:pw@wh.example:5433/ads",
            WAREHOUSE_SCHEMA="meta_ads",
            ANALYTICS_URL="mysql+pymysql://bi:pw@sql.example:3306/reporting",
            ANALYTICS_SCHEMA="graph",
        )
    assert bag.import_errors == {}
    dag = bag.dags[DAG_ID]
    by_id = {t.task_id: t for t in dag.tasks}
    extract = [t for tid, t in by_id.items() if ".extract_" in tid]
    assert len(extract) == 5
    # The default report's views and (ENTITY_TABLES is on by default) the entity views.
    views = ["vw_graph_ads", "vw_graph_ads_actions", *ENTITY_VIEWS]
    for task in extract:
        assert {(a.name, a.uri) for a in task.outlets} == {
            (f"metaads.warehouse.meta_ads.{view}", f"postgres://wh.example:5433/ads/meta_ads/{view}") for view in views
        }
    sync = {a.name: a.uri for a in by_id["sync_analytics"].outlets}
    tables = ["graph_ads", "graph_ads_actions", *ENTITY_TARGETS]
    assert set(sync) == {f"metaads.analytics.graph.{table}" for table in tables}
    assert sync["metaads.analytics.graph.graph_ads"].endswith("sql.example:1433/reporting/graph/graph_ads") or sync[
        "metaads.analytics.graph.graph_ads"
    ].endswith("sql.example:3306/reporting/graph/graph_ads")
    assert all("pw" not in uri for uri in sync.values())


def test_extra_reports_are_lineage_and_entities_only_when_entity_tables_is_on(
    airflow_db: Path, metaads_env: Any
) -> None:
    reports = json.dumps(
        [{"name": "age_gender", "breakdowns": ["age", "gender"]}, {"name": "weekly", "time_increment": 7}]
    )
    bag = parse(
        metaads_env,
        META_ACCOUNTS=FIVE_ACCOUNTS,
        INSIGHTS_REPORTS=reports,
        ENTITY_TABLES="false",
        WAREHOUSE_URL="postgresql+psycopg://etl:pw@wh.example:5433/ads",
        ANALYTICS_URL="mysql+pymysql://bi:pw@sql.example:3306/reporting",
    )
    assert bag.import_errors == {}
    tasks = {t.task_id: t for t in bag.dags[DAG_ID].tasks}
    views = ["vw_graph_ads", "vw_graph_ads_actions", "vw_graph_age_gender", "vw_graph_age_gender_lists"]
    views += ["vw_graph_weekly", "vw_graph_weekly_lists"]
    for task_id, task in tasks.items():
        if ".extract_" in task_id:
            assert sorted(a.name for a in task.outlets) == sorted(f"metaads.warehouse.meta_ads.{v}" for v in views)
    sync = {a.name: a.uri for a in tasks["sync_analytics"].outlets}
    tables = ["graph_ads", "graph_ads_actions", "graph_age_gender", "graph_age_gender_lists"]
    tables += ["graph_weekly", "graph_weekly_lists"]
    assert sorted(sync) == sorted(f"metaads.analytics.graph.{t}" for t in tables)
    assert sync["metaads.analytics.graph.graph_weekly_lists"] == (
        "mysql://sql.example:3306/reporting/graph/graph_weekly_lists"
    )
    assert all(not task.outlets for task_id, task in tasks.items() if task_id in ("start_run", "finish_run"))


def test_a_bad_insights_reports_is_the_dag_files_import_error_naming_it(airflow_db: Path, metaads_env: Any) -> None:
    bag = parse(metaads_env, META_ACCOUNTS=FIVE_ACCOUNTS, INSIGHTS_REPORTS='[{"name": "x", "fields": ["nope"]}]')
    assert DAG_ID not in bag.dags
    assert any("INSIGHTS_REPORTS" in error and "nope" in error for error in bag.import_errors.values())
