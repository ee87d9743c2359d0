"""The run ledger: ``metaads_runs`` (one row per run) and ``metaads_account_runs`` (one per loaded range).

The analytics sync reads ``metaads_account_runs`` to know which (account, date range) slices changed.
Error texts are redacted and bounded before they are stored.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from metaads.accounts import Account
from metaads.outcomes import ChunkResult
from metaads.redact import redact_text
from metaads.statuses import AccountStatus, RunStatus
from metaads.warehouse.owner import Owner

RUN_STATUSES = frozenset(status.value for status in RunStatus)
#: ``metaads_account_runs.status`` values whose range changed the warehouse (the sync copies them).
#: ``mismatch``: loaded (all days, or the days reconciliation let through) but not equal to Meta's totals.
CHANGED_STATUSES = (AccountStatus.LOADED.value, AccountStatus.MISMATCH.value)
MAX_ERROR_CHARS = 4000


def safe_error(error: str | None) -> str | None:
    """Error text fit for the ledger: secrets masked, length bounded."""
    if error is None:
        return None
    text = redact_text(error)
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def insert_run(
    conn: sa.Connection, runs: sa.Table, *, trigger: str, accounts: int, now: datetime, owner: Owner | None = None
) -> str:
    """Insert a ``running`` run; return its new id."""
    run_id = str(uuid.uuid4())
    conn.execute(
        runs.insert().values(
            run_id=run_id,
            started_at=now,
            status=RunStatus.RUNNING.value,
            trigger=trigger,
            accounts=accounts,
            accounts_failed=0,
            heartbeat_at=now,
            **(owner.columns() if owner else {}),
        )
    )
    return run_id


def insert_account_run(
    conn: sa.Connection,
    account_runs: sa.Table,
    run_id: str,
    account: Account,
    chunk: ChunkResult,
    *,
    now: datetime,
    report: str | None = None,
) -> int:
    """Insert one account-range row; return its id (the sync's watermark moves over these ids).

    ``report``: the INSIGHTS_REPORTS report the range is about (its rows count as ``ads_rows``, its list
    rows as ``actions_rows``, ``table_name`` is its table); None: the default report.
    """
    result = conn.execute(
        account_runs.insert().values(
            run_id=run_id,
            account_id=account.id,
            table_name=account.table if report is None else f"{account.table}__{report}",
            report=report,
            since=chunk.range.since,
            until=chunk.range.until,
            status=AccountStatus(chunk.status).value,
            ads_rows=chunk.ads_rows,
            actions_rows=chunk.actions_rows,
            api_calls=chunk.api_calls,
            throttled_s=chunk.throttled_s,
            duration_s=chunk.duration_s,
            error=safe_error(chunk.error),
            finished_at=now,
        )
    )
    key = result.inserted_primary_key
    if key is None or key[0] is None:  # pragma: no cover - every supported dialect returns it
        raise sa.exc.InvalidRequestError("the database did not return the new ledger id")
    return int(key[0])


def update_run(
    conn: sa.Connection, runs: sa.Table, run_id: str, *, status: RunStatus, accounts_failed: int, now: datetime
) -> bool:
    """Close a run; False when no run has that id."""
    result = conn.execute(
        runs.update()
        .where(runs.c.run_id == run_id)
        .values(status=RunStatus(status).value, accounts_failed=accounts_failed, finished_at=now)
    )
    return bool(result.rowcount)
