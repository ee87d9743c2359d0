"""Running metaads under Apache Airflow 3.1+: the DAG's layout, its task functions and its settings.

``dags/meta_graph_api_pipeline.py`` uses only what this package exports::

    settings = dag_settings()                  # parse time: environment / .env, no secrets needed
    plan = plan_from_settings(settings)        # groups of ACCOUNT_GROUP_SIZE accounts, readable task ids
    settings = task_settings()                 # run time: + Airflow Connections / Variables
    run_id = start_run(settings)               # warehouse tables/views + a ledger run
    extract_account(settings, account_id, run_id) -> AccountResult    (AccountFailedError otherwise)
    sync_analytics(settings) -> dict
    finish_run(settings, run_id, plan.tasks, outcomes, sync_summary)  (RunFailedError names accounts)
    WarehouseThrottleStore(engine, schema)     # rate-limit state shared by all workers (metaads_throttle)
"""

from __future__ import annotations

from metaads.errors import AccountFailedError, RunFailedError, is_retryable
from metaads.orchestration.airflow_settings import (
    ANALYTICS_CONNECTION,
    APP_SECRET_VARIABLE,
    ENV_FILE_VARIABLE,
    RETRY_DELAY_VARIABLE,
    TOKENS_VARIABLE,
    WAREHOUSE_CONNECTION,
    connection_url,
    dag_settings,
    retry_delay,
    task_settings,
)
from metaads.orchestration.plan import (
    DAG_ID,
    FINISH_TASK_ID,
    GRAPH_API_POOL,
    RETRIES,
    RETRY_DELAY_MINUTES,
    SCHEDULE,
    START_TASK_ID,
    SYNC_TASK_ID,
    AccountGroup,
    AccountTask,
    DagPlan,
    Dataset,
    account_task_ids,
    lineage,
    plan_from_settings,
    task_slug,
)
from metaads.orchestration.tasks import (
    OUTCOME_XCOM_KEY,
    RunReport,
    extract_account,
    finish_run,
    run_alert_message,
    start_run,
    sync_analytics,
)
from metaads.pipeline.job import shared_throttle_store
from metaads.warehouse.throttle import WarehouseThrottleStore

__all__ = [
    "ANALYTICS_CONNECTION",
    "APP_SECRET_VARIABLE",
    "DAG_ID",
    "ENV_FILE_VARIABLE",
    "FINISH_TASK_ID",
    "GRAPH_API_POOL",
    "OUTCOME_XCOM_KEY",
    "RETRIES",
    "RETRY_DELAY_MINUTES",
    "RETRY_DELAY_VARIABLE",
    "SCHEDULE",
    "START_TASK_ID",
    "SYNC_TASK_ID",
    "TOKENS_VARIABLE",
    "WAREHOUSE_CONNECTION",
    "AccountFailedError",
    "AccountGroup",
    "AccountTask",
    "DagPlan",
    "RunFailedError",
    "RunReport",
    "WarehouseThrottleStore",
    "Dataset",
    "account_task_ids",
    "lineage",
    "connection_url",
    "dag_settings",
    "extract_account",
    "finish_run",
    "run_alert_message",
    "is_retryable",
    "plan_from_settings",
    "retry_delay",
    "shared_throttle_store",
    "start_run",
    "sync_analytics",
    "task_settings",
    "task_slug",
]
