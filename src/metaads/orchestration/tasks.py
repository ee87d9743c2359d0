"""What each task of the Airflow DAG does, as plain functions over :class:`~metaads.pipeline.Pipeline`.

No Airflow import: the DAG file wraps these in tasks and turns :class:`AccountFailedError` /
:class:`RunFailedError` into Airflow failures (retried or not, as ``retryable`` says). Results cross
task boundaries as JSON-able dicts (Airflow XComs), built by :meth:`AccountOutcome.to_xcom`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from metaads.clock import SystemClock
from metaads.config.settings import Settings
from metaads.errors import (
    BadRequestError,
    ConfigError,
    DeprecatedVersionError,
    MetaAdsError,
    NoUsableTokenError,
    PermissionDeniedError,
    TokenInvalidError,
)
from metaads.orchestration.plan import AccountTask
from metaads.pipeline import AccountResult, Pipeline
from metaads.pipeline.engines import build_client, create_engine_for
from metaads.redact import redact_text
from metaads.warehouse.throttle import WarehouseThrottleStore

TRIGGER = "airflow"
#: XCom key under which a failed extraction task leaves its outcome (a successful one returns it).
OUTCOME_XCOM_KEY = "account_outcome"
LOADED = "loaded"

# Retrying these in five minutes gives the same answer: a person has to fix a token, a permission or
# the configuration first.
_NOT_RETRYABLE: tuple[type[BaseException], ...] = (
    ConfigError, PermissionDeniedError, TokenInvalidError, NoUsableTokenError, BadRequestError,
    DeprecatedVersionError,
)


@dataclass(frozen=True)
class AccountOutcome:
    """One account's result as the DAG passes it on (no secrets: errors are redacted)."""

    account_id: str
    name: str
    table: str
    status: str
    ads_rows: int = 0
    actions_rows: int = 0
    api_calls: int = 0
    throttled_s: float = 0.0
    error: str | None = None
    retryable: bool = True

    @property
    def ok(self) -> bool:
        return self.status == LOADED

    @classmethod
    def from_result(cls, result: AccountResult) -> AccountOutcome:
        account = result.account
        return cls(account_id=account.id, name=account.display_name, table=account.table,
                   status=result.status, ads_rows=result.ads_rows, actions_rows=result.actions_rows,
                   api_calls=result.api_calls, throttled_s=round(result.throttled_s, 3),
                   error=redact_text(result.error) if result.error else None,
                   retryable=result.retryable)

    def to_xcom(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_xcom(cls, value: Mapping[str, Any]) -> AccountOutcome:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in value.items() if k in fields})


class AccountFailedError(MetaAdsError):
    """An account did not load completely; ``outcome`` says what happened, ``retryable`` whether to retry."""

    def __init__(self, outcome: AccountOutcome) -> None:
        self.outcome = outcome
        self.retryable = outcome.retryable
        super().__init__(f"account {outcome.name} (act_{outcome.account_id}) {outcome.status}: "
                         f"{outcome.error or 'no error text'}")


class RunFailedError(MetaAdsError):
    """The run as a whole failed: accounts that did not load (named) and/or the analytics sync."""

    def __init__(self, message: str, *, failed_accounts: Sequence[str], sync_failed: bool) -> None:
        super().__init__(message)
        self.failed_accounts = list(failed_accounts)
        self.sync_failed = sync_failed


def is_retryable(exc: BaseException) -> bool:
    """Whether running the task again later may succeed (Airflow retries only those)."""
    if isinstance(exc, AccountFailedError):
        return exc.retryable
    return not isinstance(exc, _NOT_RETRYABLE)


def start_run(settings: Settings) -> str:
    """Create the warehouse tables, views and shared throttle table; open a ledger run; return its id."""
    with Pipeline.from_settings(settings) as pipeline:
        pipeline.init_warehouse()
        store = shared_throttle_store(pipeline.warehouse_engine, settings)
        if store is not None:
            store.create()
        return pipeline.warehouse.start_run(trigger=TRIGGER, accounts=len(settings.accounts))


def shared_throttle_store(engine: sa.Engine, settings: Settings) -> WarehouseThrottleStore | None:
    """The rate-limit state shared by all workers, kept in the warehouse; None on a SQLite warehouse.

    SQLite has one writer at a time and a load holds it for its whole transaction: throttle updates
    after every API call would queue behind loads. A SQLite warehouse means one machine anyway.
    """
    if engine.dialect.name == "sqlite":
        return None
    return WarehouseThrottleStore(engine, settings.warehouse_schema)


def pipeline_for_workers(settings: Settings) -> Pipeline:
    """A pipeline whose Graph client paces itself with the throttle state shared across workers."""
    engine = create_engine_for(settings.warehouse_url, pool_size=settings.account_group_size + 2)
    clock = SystemClock()
    client = build_client(settings, clock=clock, throttle_store=shared_throttle_store(engine, settings))
    return Pipeline(settings, client=client, warehouse_engine=engine, clock=clock)


def extract_account(settings: Settings, account_id: str, run_id: str) -> AccountOutcome:
    """Extract and load one account's look-back window under ledger run ``run_id``.

    Raises:
        AccountFailedError: anything but a complete load (the warehouse keeps the previous rows of
            every range that failed).
        ConfigError: the account is no longer configured.
    """
    account = settings.select_accounts([account_id])[0]
    with pipeline_for_workers(settings) as pipeline:
        result = pipeline.extract_and_load(account, run_id=run_id)
    outcome = AccountOutcome.from_result(result)
    if not outcome.ok:
        raise AccountFailedError(outcome)
    return outcome


def sync_analytics(settings: Settings) -> dict[str, Any]:
    """Copy what the warehouse holds to the analytics database (incremental); a summary for the logs."""
    with Pipeline.from_settings(settings) as pipeline:
        result = pipeline.sync(full=False)
    if result is None:
        return {"skipped": "ANALYTICS_URL is not set"}
    return {"sync_id": result.sync_id, "mode": result.mode, "target": result.target,
            "ads_rows": result.ads_rows, "actions_rows": result.actions_rows,
            "slices": len(result.slices), "duration_s": round(result.duration_s, 3)}


@dataclass(frozen=True)
class RunReport:
    """The end of a DAG run: per-account outcomes, whether the sync ran, the ledger status."""

    outcomes: dict[str, AccountOutcome | None]
    sync_ok: bool
    status: str

    @property
    def failed(self) -> list[str]:
        return [key for key, outcome in self.outcomes.items() if outcome is None or not outcome.ok]


def finish_run(settings: Settings, run_id: str | None, tasks: Sequence[AccountTask],
               outcomes: Mapping[str, Mapping[str, Any] | None], sync_summary: Mapping[str, Any] | None
               ) -> RunReport:
    """Close the ledger run and judge the DAG run: fail, naming each account, unless everything loaded.

    ``outcomes`` maps account ids to what their task reported (None: the task ended without reporting,
    e.g. it crashed or never ran); ``sync_summary`` is None when the sync task did not succeed.

    Raises:
        RunFailedError: an account did not load or the sync failed (after the ledger is closed).
    """
    by_account: dict[str, AccountOutcome | None] = {}
    for task in tasks:
        raw = outcomes.get(task.account.id)
        by_account[task.account.id] = AccountOutcome.from_xcom(raw) if raw else None
    failed = [t for t in tasks if (o := by_account[t.account.id]) is None or not o.ok]
    status = "success" if not failed else ("failed" if len(failed) == len(tasks) else "partial")
    report = RunReport(outcomes=by_account, sync_ok=sync_summary is not None, status=status)
    if run_id:
        with Pipeline.from_settings(settings) as pipeline:
            pipeline.warehouse.finish_run(run_id, status=status, accounts_failed=len(failed))
    if failed or not report.sync_ok:
        raise RunFailedError(_failure_message(failed, by_account, len(tasks), report.sync_ok),
                             failed_accounts=[t.account.display_name for t in failed],
                             sync_failed=not report.sync_ok)
    return report


def _failure_message(failed: Sequence[AccountTask], outcomes: Mapping[str, AccountOutcome | None],
                     total: int, sync_ok: bool) -> str:
    parts: list[str] = []
    if failed:
        lines = []
        for task in failed:
            outcome = outcomes[task.account.id]
            why = (f"{outcome.status}: {outcome.error or 'no error text'}" if outcome is not None
                   else f"no result reported (see the log of task {task.full_task_id})")
            lines.append(f"{task.account.display_name} ({task.account.act_id}) {why}")
        parts.append(f"{len(failed)} of {total} account(s) did not load: " + "; ".join(lines)
                     + ". Their previous warehouse rows are unchanged")
    if not sync_ok:
        parts.append("the analytics sync failed (see the log of task sync_analytics)")
    return ". ".join(parts) + "."
