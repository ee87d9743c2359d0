"""What each task of the Airflow DAG does, as plain functions over :class:`~metaads.pipeline.Pipeline`.

No Airflow import: the DAG file wraps these in tasks and turns :class:`AccountFailedError` /
:class:`RunFailedError` into Airflow failures (retried or not, as ``retryable`` says). Results cross
task boundaries as JSON-able dicts (Airflow XComs), built by :meth:`AccountResult.to_xcom`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from metaads.config.settings import Settings
from metaads.errors import AccountFailedError, RunFailedError
from metaads.orchestration.plan import AccountTask
from metaads.pipeline import AccountResult, Pipeline
from metaads.pipeline.job import shared_throttle_store
from metaads.statuses import RunStatus

TRIGGER = "airflow"
#: XCom key under which a failed extraction task leaves its result (a successful one returns it).
OUTCOME_XCOM_KEY = "account_outcome"


def start_run(settings: Settings) -> str:
    """Create the warehouse tables, views and shared throttle table; open a ledger run; return its id."""
    with Pipeline.from_settings(settings) as pipeline:
        pipeline.init_warehouse()
        store = shared_throttle_store(pipeline.warehouse_engine, settings)
        if store is not None:
            store.create()
        # The run spans many worker processes: no single owner, judged by its heartbeat.
        run_id = pipeline.warehouse.start_run(trigger=TRIGGER, accounts=len(settings.accounts), owned=False)
        pipeline.check_tokens_daily()  # the day's first run records every token's health for the alert
        return run_id


def extract_account(settings: Settings, account_id: str, run_id: str) -> AccountResult:
    """Extract and load one account's look-back window under ledger run ``run_id``.

    Raises:
        AccountFailedError: anything but a complete load (the warehouse keeps the previous rows of
            every range that failed).
        ConfigError: the account is no longer configured.
    """
    account = settings.select_accounts([account_id])[0]
    with Pipeline.from_settings(settings, shared_throttle=True) as pipeline:
        result = pipeline.extract_and_load(account, run_id=run_id)
    if not result.ok:
        raise AccountFailedError(result)
    return result


def sync_analytics(settings: Settings) -> dict[str, Any]:
    """Copy what the warehouse holds to the analytics database (incremental); a summary for the logs."""
    with Pipeline.from_settings(settings) as pipeline:
        result = pipeline.sync(full=False)
    if result is None:
        return {"skipped": "ANALYTICS_URL is not set"}
    return {
        "sync_id": result.sync_id,
        "mode": result.mode,
        "target": result.target,
        "ads_rows": result.ads_rows,
        "actions_rows": result.actions_rows,
        "slices": len(result.slices),
        "duration_s": round(result.duration_s, 3),
    }


@dataclass(frozen=True)
class RunReport:
    """The end of a DAG run: per-account outcomes, whether the sync ran, the ledger status."""

    outcomes: dict[str, AccountResult | None]
    sync_ok: bool
    status: RunStatus

    @property
    def failed(self) -> list[str]:
        return [key for key, outcome in self.outcomes.items() if outcome is None or not outcome.ok]


def run_alert_message(
    settings: Settings,
    run_id: str | None,
    tasks: Sequence[AccountTask],
    outcomes: Mapping[str, Mapping[str, Any] | None],
) -> dict[str, str] | None:
    """The run's one message (``{"title", "body"}``) listing what needs a person, or None.

    The same items as ``metaads run`` sends: failed accounts with reason and action, tokens that need a
    person (today's check, recorded by ``start_run``), accounts gone stale. The DAG hands it to its
    notifier (:class:`metaads.orchestration.notifier.MetaadsAlertNotifier`).
    """
    from metaads.observability.attention import (
        failure_items,
        run_alert,
        token_items_from_ledger,
        unreported_items,
    )
    from metaads.warehouse.health import latest_token_checks

    results = {
        t.account.id: AccountResult.from_xcom(raw, t.account) for t in tasks if (raw := outcomes.get(t.account.id))
    }
    silent = [t.account for t in tasks if t.account.id not in results]
    with Pipeline.from_settings(settings) as pipeline:
        now = pipeline.clock.now()
        checks = [
            row
            for row in latest_token_checks(pipeline.warehouse.engine, pipeline.warehouse.token_checks)
            if isinstance(checked := row.get("checked_at"), datetime) and checked.date() == now.date()
        ]
        alert = run_alert(
            f"Airflow run {(run_id or '?')[:8]}",
            [*failure_items(results.values()), *unreported_items(silent), *token_items_from_ledger(checks)],
            warehouse=pipeline.warehouse,
            accounts=[t.account for t in tasks],
            now=now,
            stale_after=timedelta(hours=settings.stale_after_hours),
        )
    return None if alert is None else {"title": alert.title, "body": alert.body()}


def finish_run(
    settings: Settings,
    run_id: str | None,
    tasks: Sequence[AccountTask],
    outcomes: Mapping[str, Mapping[str, Any] | None],
    sync_summary: Mapping[str, Any] | None,
) -> RunReport:
    """Close the ledger run and judge the DAG run: fail, naming each account, unless everything loaded.

    ``outcomes`` maps account ids to what their task reported (None: the task ended without reporting,
    e.g. it crashed or never ran); ``sync_summary`` is None when the sync task did not succeed.

    Raises:
        RunFailedError: an account did not load or the sync failed (after the ledger is closed).
    """
    by_account: dict[str, AccountResult | None] = {}
    for task in tasks:
        raw = outcomes.get(task.account.id)
        by_account[task.account.id] = AccountResult.from_xcom(raw, task.account) if raw else None
    failed = [t for t in tasks if (o := by_account[t.account.id]) is None or not o.ok]
    status = RunStatus.of(len(failed), tasks)
    report = RunReport(outcomes=by_account, sync_ok=sync_summary is not None, status=status)
    if run_id:
        with Pipeline.from_settings(settings) as pipeline:
            pipeline.warehouse.finish_run(run_id, status=status, accounts_failed=len(failed))
            # The run's data-quality checks (the CLI runs each account's as soon as that account has loaded)
            pipeline.record_quality(run_id, [t.account for t in tasks])
    if failed or not report.sync_ok:
        raise RunFailedError(
            _failure_message(failed, by_account, len(tasks), report.sync_ok),
            failed_accounts=[t.account.display_name for t in failed],
            sync_failed=not report.sync_ok,
        )
    return report


def _failure_message(
    failed: Sequence[AccountTask], outcomes: Mapping[str, AccountResult | None], total: int, sync_ok: bool
) -> str:
    parts: list[str] = []
    if failed:
        lines = []
        for task in failed:
            outcome = outcomes[task.account.id]
            why = (
                f"{outcome.status}: {outcome.error or 'no error text'}"
                if outcome is not None
                else f"no result reported (see the log of task {task.full_task_id})"
            )
            lines.append(f"{task.account.display_name} ({task.account.act_id}) {why}")
        parts.append(
            f"{len(failed)} of {total} account(s) did not load: "
            + "; ".join(lines)
            + ". Their previous warehouse rows are unchanged"
        )
    if not sync_ok:
        parts.append("the analytics sync failed (see the log of task sync_analytics)")
    return ". ".join(parts) + "."
