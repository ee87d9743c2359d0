"""An account's loading history, read from the run ledger (``metaads_account_runs``).

The pipeline plans which days to fetch from it (:mod:`metaads.pipeline.window`): what was loaded, what
failed, and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from metaads.database import stored_utc

#: Ledger statuses whose ranges hold the API's rows as they should be. Only ``loaded``: a ``mismatch``
#: (loaded, but not equal to Meta's account totals, once reconciliation runs) is not, so the days after
#: the last ``loaded`` day are fetched again.
GOOD_STATUSES = frozenset({"loaded"})
#: Ledger statuses meaning the range was attempted and its rows were not replaced.
FAILED_STATUSES = frozenset({"failed"})


@dataclass(frozen=True)
class LedgerEntry:
    """One ledger row of an account, as far as planning cares."""

    since: date
    until: date
    status: str
    finished_at: datetime


def account_history(conn: sa.Connection, account_runs: sa.Table, account_id: str, *, since: date) -> list[LedgerEntry]:
    """The account's loaded and failed ranges ending on or after ``since``, oldest first.

    When none of them loaded, the last loaded range before ``since`` comes first (if any): an account
    that was loaded long ago is not a new account.
    """
    columns = (account_runs.c.since, account_runs.c.until, account_runs.c.status, account_runs.c.finished_at)
    mine = account_runs.c.account_id == account_id
    rows = list(
        conn.execute(
            sa.select(*columns)
            .where(
                mine, account_runs.c.until >= since, account_runs.c.status.in_(sorted(GOOD_STATUSES | FAILED_STATUSES))
            )
            .order_by(account_runs.c.id)
        )
    )
    if not any(r.status in GOOD_STATUSES for r in rows):
        last = conn.execute(
            sa.select(*columns)
            .where(mine, account_runs.c.status.in_(sorted(GOOD_STATUSES)))
            .order_by(account_runs.c.until.desc())
            .limit(1)
        ).first()
        rows = ([last] if last is not None else []) + rows
    return [LedgerEntry(r.since, r.until, str(r.status), stored_utc(r.finished_at)) for r in rows]
