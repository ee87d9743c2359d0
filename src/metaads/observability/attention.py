"""What needs a person after a run: failed accounts, tokens needing attention, stale accounts.

Pure item builders (results -> :class:`~metaads.observability.alerts.AlertItem`) and :func:`alert_run`,
which the CLI (``metaads run``, the demo) and the Airflow DAG's last task both call after a run, so
they send the same message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from metaads.accounts import Account
from metaads.errors import MetaAdsError
from metaads.graph.token_health import TokenHealth
from metaads.observability.alerts import ACCOUNT_FAILED, STALE, TOKEN, Alert, AlertItem, build_alert, send_alert
from metaads.pipeline import Pipeline
from metaads.pipeline.results import AccountResult, RunSummary
from metaads.warehouse import Warehouse
from metaads.warehouse.health import last_success_by_account

log = logging.getLogger("metaads.alerts")

RETRY_LATER = "transient: the next scheduled run retries it; if it persists, check Meta's platform status"
FIX_FIRST = "a retry cannot help: fix what the error names (token, permission or configuration), then re-run"


def failure_items(results: Iterable[AccountResult]) -> list[AlertItem]:
    """One item per account that did not load completely."""
    return [
        AlertItem(
            ACCOUNT_FAILED,
            f"{r.account.display_name} (act_{r.account.id})",
            f"{r.status}: {r.error or 'no error text'}",
            RETRY_LATER if r.retryable else FIX_FIRST,
        )
        for r in results
        if not r.ok
    ]


def token_items(checks: Iterable[TokenHealth]) -> list[AlertItem]:
    """One item per problem of a token (shown by its last 4 characters)."""
    items: list[AlertItem] = []
    for check in checks:
        for problem in check.problems:
            reason, _, action = problem.partition(": ")
            items.append(AlertItem(TOKEN, f"token {check.hint}", reason, action or "replace the token"))
    return items


def unreported_items(accounts: Iterable[Account]) -> list[AlertItem]:
    """Accounts whose task ended without a result (it crashed, was killed or never ran)."""
    return [
        AlertItem(
            ACCOUNT_FAILED,
            f"{a.display_name} (act_{a.id})",
            "no result reported",
            "see the log of its extraction task; the next run retries it",
        )
        for a in accounts
    ]


def token_items_from_ledger(rows: Iterable[Mapping[str, object]]) -> list[AlertItem]:
    """Items from the stored token check (``metaads_token_checks`` rows: last 4 characters and problems)."""
    items: list[AlertItem] = []
    for row in rows:
        for problem in str(row.get("problems") or "").splitlines():
            reason, _, action = problem.partition(": ")
            items.append(AlertItem(TOKEN, f"token …{row.get('hint')}", reason, action or "replace the token"))
    return items


def stale_items(
    accounts: Sequence[Account], last_success: Mapping[str, datetime], *, now: datetime, stale_after: timedelta
) -> list[AlertItem]:
    """Accounts whose last successful load is older than ``stale_after`` (or that never loaded)."""
    items: list[AlertItem] = []
    for account in accounts:
        when = last_success.get(account.id)
        if when is not None and now - when <= stale_after:
            continue
        reason = (
            "never loaded"
            if when is None
            else f"last loaded {when:%Y-%m-%d %H:%M} UTC, {(now - when).total_seconds() / 3600:.0f} h ago"
        )
        items.append(
            AlertItem(
                STALE,
                f"{account.display_name} (act_{account.id})",
                reason,
                "look at this account's recent failures (metaads status) and fix their cause",
            )
        )
    return items


def run_alert(
    run_label: str,
    items: Sequence[AlertItem],
    *,
    warehouse: Warehouse,
    accounts: Sequence[Account],
    now: datetime,
    stale_after: timedelta,
) -> Alert | None:
    """The run's one message: ``items`` plus the accounts gone stale (None when nothing needs a person)."""
    found = list(items)
    try:
        found += stale_items(
            accounts,
            last_success_by_account(warehouse.engine, warehouse.account_runs),
            now=now,
            stale_after=stale_after,
        )
    except MetaAdsError as exc:
        log.error("could not read freshness from the ledger for the alert: %s", exc)
    return build_alert(run_label, found)


def deliver(alert: Alert | None, urls: Sequence[str]) -> bool:
    """Send ``alert`` when there is one; True when sent. A delivery failure is logged, never raised."""
    if alert is None or not urls:
        return False
    try:
        send_alert(alert, urls)
    except MetaAdsError as exc:
        log.error("%s", exc)
        return False
    return True


def alert_run(
    urls: Sequence[str],
    run_label: str,
    *,
    results: Sequence[AccountResult],
    tokens: Sequence[TokenHealth],
    warehouse: Warehouse,
    accounts: Sequence[Account],
    now: datetime,
    stale_after: timedelta,
) -> bool:
    """Send the run's one message when something needs a person; True when a message was sent.

    A delivery failure is logged, never raised: the run's data is already safe.
    """
    alert = run_alert(
        run_label,
        [*failure_items(results), *token_items(tokens)],
        warehouse=warehouse,
        accounts=accounts,
        now=now,
        stale_after=stale_after,
    )
    return deliver(alert, urls)


def alert_after_run(pipeline: Pipeline, summary: RunSummary) -> bool:
    """``ALERT_URLS``: the run's one message, when something needs a person (delivery failures are logged)."""
    settings = pipeline.settings
    targets = settings.alert_targets()
    if not targets:
        return False
    return alert_run(
        targets,
        f"run {summary.run_id[:8]}",
        results=summary.results,
        tokens=summary.token_checks,
        warehouse=pipeline.warehouse,
        accounts=settings.accounts,
        now=pipeline.clock.now(),
        stale_after=timedelta(hours=settings.stale_after_hours),
    )
