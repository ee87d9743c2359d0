"""What needs a person after a run: failed accounts, tokens, stale accounts; checked, recorded, alerted.

Pure item builders (results -> :class:`~metaads.observability.alerts.AlertItem`) plus the two steps a run
performs: the daily token check at its start and the alert at its end. The CLI and the Airflow DAG
use the same functions, so they send the same message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from metaads.accounts import Account
from metaads.errors import MetaAdsError
from metaads.graph import GraphClient
from metaads.graph.token_health import TokenHealth, check_tokens
from metaads.observability.alerts import ACCOUNT_FAILED, STALE, TOKEN, AlertItem, build_alert, send_alert
from metaads.pipeline.results import AccountResult
from metaads.warehouse import Warehouse
from metaads.warehouse.health import last_success_by_account, last_token_check, record_token_checks

log = logging.getLogger("metaads.pipeline")

RETRY_LATER = "transient: the next scheduled run retries it; if it persists, check Meta's platform status"
FIX_FIRST = "a retry cannot help: fix what the error names (token, permission or configuration), then re-run"


def failure_items(results: Iterable[AccountResult]) -> list[AlertItem]:
    """One item per account that did not load completely."""
    return [AlertItem(ACCOUNT_FAILED, f"{r.account.display_name} (act_{r.account.id})",
                      f"{r.status}: {r.error or 'no error text'}", RETRY_LATER if r.retryable else FIX_FIRST)
            for r in results if not r.ok]


def token_items(checks: Iterable[TokenHealth]) -> list[AlertItem]:
    """One item per problem of a token (shown by its last 4 characters)."""
    items: list[AlertItem] = []
    for check in checks:
        for problem in check.problems:
            reason, _, action = problem.partition(": ")
            items.append(AlertItem(TOKEN, f"token {check.hint}", reason, action or "replace the token"))
    return items


def stale_items(accounts: Sequence[Account], last_success: Mapping[str, datetime], *, now: datetime,
                stale_after: timedelta) -> list[AlertItem]:
    """Accounts whose last successful load is older than ``stale_after`` (or that never loaded)."""
    items: list[AlertItem] = []
    for account in accounts:
        when = last_success.get(account.id)
        if when is not None and now - when <= stale_after:
            continue
        reason = ("never loaded" if when is None else
                  f"last loaded {when:%Y-%m-%d %H:%M} UTC, {(now - when).total_seconds() / 3600:.0f} h ago")
        items.append(AlertItem(STALE, f"{account.display_name} (act_{account.id})", reason,
                               "look at this account's recent failures (metaads status) and fix their cause"))
    return items


def daily_token_check(client: GraphClient, warehouse: Warehouse, accounts: Sequence[Account], *,
                      now: datetime, warn_days: int) -> list[TokenHealth] | None:
    """Check every token once per UTC day (the first run of the day does it); None when already done."""
    last = last_token_check(warehouse.engine, warehouse.token_checks)
    if last is not None and last.date() == now.date():
        return None
    checks = check_tokens(client, [a.id for a in accounts], now=now, warn_days=warn_days)
    record_token_checks(warehouse.engine, warehouse.token_checks, checks, now=now)
    for check in checks:
        for problem in check.problems:
            log.warning("token %s %s", check.hint, problem)
    return checks


def alert_run(urls: Sequence[str], run_label: str, *, results: Sequence[AccountResult],
              tokens: Sequence[TokenHealth], warehouse: Warehouse, accounts: Sequence[Account],
              now: datetime, stale_after: timedelta) -> bool:
    """Send the run's one message when something needs a person; True when a message was sent.

    A delivery failure is logged, never raised: the run's data is already safe.
    """
    items = [*failure_items(results), *token_items(tokens)]
    try:
        items += stale_items(accounts, last_success_by_account(warehouse.engine, warehouse.account_runs),
                             now=now, stale_after=stale_after)
    except MetaAdsError as exc:
        log.error("could not read freshness from the ledger for the alert: %s", exc)
    alert = build_alert(run_label, items)
    if alert is None or not urls:
        return False
    try:
        send_alert(alert, urls)
    except MetaAdsError as exc:
        log.error("%s", exc)
        return False
    return True
