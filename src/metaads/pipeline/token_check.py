"""The daily token check: the first run of each UTC day asks ``debug_token`` about every token and records it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from metaads.accounts import Account
from metaads.graph import GraphClient
from metaads.graph.token_health import TokenHealth, check_tokens
from metaads.warehouse import Warehouse
from metaads.warehouse.health import last_token_check, record_token_checks

log = logging.getLogger("metaads.pipeline")


def daily_token_check(
    client: GraphClient, warehouse: Warehouse, accounts: Sequence[Account], *, now: datetime, warn_days: int
) -> list[TokenHealth] | None:
    """Check every token once per UTC day (the first run of the day does it); None when already done.

    Each token is tried only on the accounts it serves (account *i* uses token *i mod T*): about one
    call per account and token, spread over quotas that the run's own calls hardly touch.
    """
    last = last_token_check(warehouse.engine, warehouse.token_checks)
    if last is not None and last.date() == now.date():
        return None
    assigned: dict[int, list[Account]] = {}
    for account in accounts:
        assigned.setdefault(account.index % len(client.pool), []).append(account)
    checks = check_tokens(client, accounts, now=now, warn_days=warn_days, assigned=assigned)
    record_token_checks(warehouse.engine, warehouse.token_checks, checks, now=now)
    for check in checks:
        for problem in check.problems:
            log.warning("token %s %s", check.hint, problem)
    return checks
