"""What the warehouse knows about the health of the pipeline: token checks and per-account freshness."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

import sqlalchemy as sa

from metaads.database import DRIVER_ERRORS, stored_utc, translate
from metaads.graph.token_health import TokenHealth


def record_token_checks(engine: sa.Engine, table: sa.Table, checks: Sequence[TokenHealth], *, now: datetime) -> None:
    """Store one row per token (fingerprint and last 4 characters only)."""
    rows = [
        {
            "checked_at": now,
            "fingerprint": c.fingerprint,
            "hint": c.hint[-4:],
            "valid": c.valid,
            "app_id": c.app_id,
            "token_type": c.type,
            "has_ads_read": c.has_ads_read,
            "expires_at": c.expires_at,
            "data_access_expires_at": c.data_access_expires_at,
            "accounts_readable": len(c.readable_accounts),
            "accounts_unreadable": len(c.unreadable_accounts),
            "problems": "\n".join(c.problems) or None,
        }
        for c in checks
    ]
    if not rows:
        return
    try:
        with engine.begin() as conn:
            conn.execute(table.insert(), rows)
    except DRIVER_ERRORS as exc:
        raise translate(exc, "recording token checks", engine) from exc


def last_token_check(engine: sa.Engine, table: sa.Table) -> datetime | None:
    """When tokens were last checked (None: never)."""
    try:
        with engine.connect() as conn:
            return stored_utc(conn.execute(sa.select(sa.func.max(table.c.checked_at))).scalar())
    except DRIVER_ERRORS as exc:
        raise translate(exc, "reading token checks", engine) from exc


def last_success_by_account(engine: sa.Engine, account_runs: sa.Table) -> dict[str, datetime]:
    """Per account id, when a range of it last loaded (``status = 'loaded'``)."""
    query = (
        sa.select(account_runs.c.account_id, sa.func.max(account_runs.c.finished_at))
        .where(account_runs.c.status == "loaded")
        .group_by(account_runs.c.account_id)
    )
    try:
        with engine.connect() as conn:
            return {
                str(account): moment
                for account, when in conn.execute(query)
                if (moment := stored_utc(when)) is not None
            }
    except DRIVER_ERRORS as exc:
        raise translate(exc, "reading the run ledger", engine) from exc


@dataclass(frozen=True)
class AccountFreshness:
    """What the ledger says about one account (None where nothing of that kind happened yet)."""

    account_id: str
    last_loaded_day: date | None = None
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None
    last_mismatch_at: datetime | None = None


def account_freshness(engine: sa.Engine, account_runs: sa.Table) -> dict[str, AccountFreshness]:
    """Per account id: last loaded day and success, last error (with its text), last mismatch."""
    t = account_runs
    loaded = t.c.status == "loaded"
    summary = sa.select(
        t.c.account_id,
        sa.func.max(sa.case((loaded, t.c.until))).label("last_day"),
        sa.func.max(sa.case((loaded, t.c.finished_at))).label("last_success"),
        sa.func.max(sa.case((t.c.status == "mismatch", t.c.finished_at))).label("last_mismatch"),
    ).group_by(t.c.account_id)
    newest_error = (
        sa.select(t.c.account_id, t.c.finished_at, t.c.error)
        .where(t.c.status.not_in(("loaded", "mismatch")))
        .order_by(t.c.account_id, t.c.finished_at.desc(), t.c.id.desc())
    )
    try:
        with engine.connect() as conn:
            found = {
                str(row.account_id): AccountFreshness(
                    str(row.account_id),
                    row.last_day,
                    stored_utc(row.last_success),
                    last_mismatch_at=stored_utc(row.last_mismatch),
                )
                for row in conn.execute(summary)
            }
            for account_id, when, error in conn.execute(newest_error):
                current = found.get(str(account_id))
                if current is not None and current.last_error_at is None:
                    found[str(account_id)] = replace(current, last_error_at=stored_utc(when), last_error=error)
    except DRIVER_ERRORS as exc:
        raise translate(exc, "reading the run ledger", engine) from exc
    return found


def latest_token_checks(engine: sa.Engine, table: sa.Table) -> list[dict[str, object]]:
    """The rows of the most recent token check (one per token)."""
    try:
        with engine.connect() as conn:
            newest = conn.execute(sa.select(sa.func.max(table.c.checked_at))).scalar()
            if newest is None:
                return []
            rows = conn.execute(sa.select(table).where(table.c.checked_at == newest).order_by(table.c.id))
            return [dict(row._mapping) for row in rows]
    except DRIVER_ERRORS as exc:
        raise translate(exc, "reading token checks", engine) from exc
