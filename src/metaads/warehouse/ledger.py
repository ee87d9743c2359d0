"""The run ledger: ``metaads_runs`` (one row per run) and ``metaads_account_runs`` (one per loaded range).

The analytics sync reads ``metaads_account_runs`` to know which (account, date range) slices changed.
Error texts are redacted and bounded before they are stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from metaads.accounts import Account
from metaads.redact import redact_text

RUN_STATUSES = frozenset({"running", "success", "partial", "failed"})
MAX_ERROR_CHARS = 4000


@dataclass(frozen=True)
class AccountRun:
    """What one account's load of one date range did (a ``metaads_account_runs`` row)."""

    run_id: str
    account: Account
    since: date
    until: date
    status: str
    ads_rows: int = 0
    actions_rows: int = 0
    api_calls: int = 0
    throttled_s: float = 0.0
    duration_s: float = 0.0
    error: str | None = None


def safe_error(error: str | None) -> str | None:
    """Error text fit for the ledger: secrets masked, length bounded."""
    if error is None:
        return None
    text = redact_text(error)
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def insert_run(conn: sa.Connection, runs: sa.Table, *, trigger: str, accounts: int, now: datetime) -> str:
    """Insert a ``running`` run; return its new id."""
    run_id = str(uuid.uuid4())
    conn.execute(runs.insert().values(run_id=run_id, started_at=now, status="running", trigger=trigger,
                                      accounts=accounts, accounts_failed=0))
    return run_id


def insert_account_run(conn: sa.Connection, account_runs: sa.Table, entry: AccountRun, *,
                       now: datetime) -> int:
    """Insert one account-range row; return its id (the sync's watermark moves over these ids)."""
    result = conn.execute(account_runs.insert().values(
        run_id=entry.run_id, account_id=entry.account.id, table_name=entry.account.table,
        since=entry.since, until=entry.until, status=entry.status, ads_rows=entry.ads_rows,
        actions_rows=entry.actions_rows, api_calls=entry.api_calls, throttled_s=entry.throttled_s,
        duration_s=entry.duration_s, error=safe_error(entry.error), finished_at=now,
    ))
    key = result.inserted_primary_key
    if key is None or key[0] is None:  # pragma: no cover - every supported dialect returns it
        raise sa.exc.InvalidRequestError("the database did not return the new ledger id")
    return int(key[0])


def update_run(conn: sa.Connection, runs: sa.Table, run_id: str, *, status: str, accounts_failed: int,
               now: datetime) -> bool:
    """Close a run; False when no run has that id."""
    result = conn.execute(runs.update().where(runs.c.run_id == run_id).values(
        status=status, accounts_failed=accounts_failed, finished_at=now))
    return bool(result.rowcount)
