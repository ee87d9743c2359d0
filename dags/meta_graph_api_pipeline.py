"""Meta Marketing API ad insights -> PostgreSQL warehouse -> analytics database, three times a day.

Runs at 08:00, 14:00 and 20:00, Monday to Saturday, in ``PIPELINE_TIMEZONE`` (default UTC).

``start_run`` creates the warehouse tables and views and opens a ledger run. Then one task per ad
account (named after its label, else its table) extracts and loads the account's look-back window;
accounts run in groups of ``ACCOUNT_GROUP_SIZE``, one group after the other, in the ``meta_graph_api``
pool. An account that fails does not stop the others. ``sync_analytics`` runs once every account is
done and copies what loaded to the analytics database. ``finish_run`` closes the ledger run and fails,
naming each account that did not load, so the DAG run ends failed and alerts fire.

Configuration: the same environment / ``.env`` as the ``metaads`` CLI (``METAADS_ENV_FILE`` names the
file); Airflow connections ``metaads_warehouse`` / ``metaads_analytics`` and variables
``metaads_graph_api_tokens`` / ``metaads_graph_api_app_secret`` override it when they exist.
Requires Apache Airflow 3.1+ (``pip install "metaads[airflow]"``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pendulum
from airflow.sdk import Asset, CronTriggerTimetable, TaskGroup, TriggerRule, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from metaads.orchestration import (
    DAG_ID,
    FINISH_TASK_ID,
    GRAPH_API_POOL,
    OUTCOME_XCOM_KEY,
    RETRIES,
    SCHEDULE,
    START_TASK_ID,
    SYNC_TASK_ID,
    AccountFailedError,
    dag_settings,
    extract_account,
    finish_run,
    is_retryable,
    lineage,
    plan_from_settings,
    retry_delay,
    run_alert_message,
    start_run,
    sync_analytics,
    task_settings,
)
from metaads.orchestration.notifier import ALERT_XCOM_KEY, MetaadsAlertNotifier
from metaads.redact import redact_text

T = TypeVar("T")

# Laid out from the environment when the file is parsed: a bad META_ACCOUNTS shows as this DAG's import
# error in the UI, naming the entry at fault.
_SETTINGS = dag_settings()
PLAN = plan_from_settings(_SETTINGS)
# Lineage: the views the extraction tasks refresh and the analytics tables the sync writes (the default
# report's, each INSIGHTS_REPORTS report's and, with ENTITY_TABLES, the entities'), as Airflow Assets
# (downstream DAGs can be scheduled on them; OpenLineage, where installed, reports them).
WAREHOUSE_ASSETS, ANALYTICS_ASSETS = ([Asset(name=d.name, uri=d.uri) for d in group] for group in lineage(_SETTINGS))


def _run(step: Callable[[], T]) -> T:
    """Run a step; failures that a retry cannot fix end the task at once instead of after two retries.

    ``is_retryable`` decides, as it does for the pipeline: metaads errors by their action, anything
    else (a fault nobody foresaw) as not worth retrying.
    """
    try:
        return step()
    except AirflowFailException:
        raise
    except Exception as exc:
        if is_retryable(exc):
            raise
        raise AirflowFailException(redact_text(f"{type(exc).__name__}: {exc}")) from exc


@dag(
    dag_id=DAG_ID,
    dag_display_name="Meta Graph API pipeline",
    description="Meta ads insights -> warehouse -> analytics, 08:00/14:00/20:00 Mon-Sat",
    schedule=CronTriggerTimetable(SCHEDULE, timezone=PLAN.timezone),
    start_date=pendulum.datetime(2025, 1, 1, tz=PLAN.timezone),
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": "metaads",
        "retries": RETRIES,
        "retry_delay": retry_delay(),
    },
    tags=["metaads", "meta-ads"],
    doc_md=__doc__,
)
def meta_graph_api_pipeline() -> None:
    @task(task_id=START_TASK_ID, task_display_name="Prepare warehouse and open run")
    def open_run() -> str:
        return _run(lambda: start_run(task_settings()))

    @task(pool=GRAPH_API_POOL, outlets=WAREHOUSE_ASSETS)
    def extract(account_id: str, ledger_run: str | None) -> dict[str, Any]:
        if not ledger_run:
            raise AirflowFailException(f"task {START_TASK_ID} did not open a run; see its log")

        def step() -> dict[str, Any]:
            try:
                return extract_account(task_settings(), account_id, ledger_run).to_xcom()
            except AccountFailedError as exc:
                # finish_run reads this to name the account and say why it failed.
                get_current_context()["ti"].xcom_push(key=OUTCOME_XCOM_KEY, value=exc.result.to_xcom())
                raise

        return _run(step)

    @task(
        task_id=SYNC_TASK_ID,
        task_display_name="Sync analytics database",
        trigger_rule=TriggerRule.ALL_DONE,
        outlets=ANALYTICS_ASSETS,
    )
    def sync() -> dict[str, Any]:
        return _run(lambda: sync_analytics(task_settings()))

    # Judging the run is not worth retrying: its inputs will not change.
    # Its message (what needs a person) goes out through Airflow's notifier mechanism, win or lose.
    @task(
        task_id=FINISH_TASK_ID,
        task_display_name="Close run and report failed accounts",
        trigger_rule=TriggerRule.ALL_DONE,
        retries=0,
        on_success_callback=MetaadsAlertNotifier(),
        on_failure_callback=MetaadsAlertNotifier(),
    )
    def close_run(ledger_run: str | None) -> dict[str, Any]:
        ti = get_current_context()["ti"]
        ids = [t.full_task_id for t in PLAN.tasks]
        returned = ti.xcom_pull(task_ids=ids) if ids else []
        failed = ti.xcom_pull(task_ids=ids, key=OUTCOME_XCOM_KEY) if ids else []
        outcomes = {t.account.id: ok or bad for t, ok, bad in zip(PLAN.tasks, returned, failed, strict=True)}
        sync_summary = ti.xcom_pull(task_ids=SYNC_TASK_ID)
        message = _run(lambda: run_alert_message(task_settings(), ledger_run, PLAN.tasks, outcomes))
        if message is not None:
            ti.xcom_push(key=ALERT_XCOM_KEY, value=message)
        report = _run(lambda: finish_run(task_settings(), ledger_run, PLAN.tasks, outcomes, sync_summary))
        return {"status": report.status, "accounts": len(report.outcomes)}

    ledger_run = open_run()
    synced = sync()
    previous: Any = ledger_run
    for group in PLAN.groups:
        with TaskGroup(group_id=group.group_id, tooltip=group.display_name) as task_group:
            for account_task in group.tasks:
                extract.override(
                    task_id=account_task.task_id,
                    task_display_name=account_task.display_name,
                    # Later groups start when the previous group is done, whatever its outcome.
                    trigger_rule=TriggerRule.ALL_SUCCESS if previous is ledger_run else TriggerRule.ALL_DONE,
                )(account_id=account_task.account.id, ledger_run=ledger_run)
        previous >> task_group
        task_group >> synced
        previous = task_group
    if not PLAN.groups:
        ledger_run >> synced
    synced >> close_run(ledger_run)


meta_graph_api_pipeline()
