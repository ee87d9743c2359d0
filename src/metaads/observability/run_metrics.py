"""After ``metaads run``: build the :class:`RunSnapshot` from the run's summary and publish it.

The snapshot is assembled from what the run already knows (rows, calls, throttling per account), the
run ledger (when each account last loaded, so an account failing for days keeps its old timestamp) and
the Graph client's throttle state (the latest usage Meta reported).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from metaads.accounts import Account
from metaads.errors import MetaAdsError
from metaads.graph import GraphClient
from metaads.graph.throttle import token_fingerprint
from metaads.observability.metrics import publish_run_metrics
from metaads.observability.snapshot import AccountSnapshot, RunSnapshot
from metaads.pipeline.results import RunSummary
from metaads.warehouse import Warehouse
from metaads.warehouse.health import last_success_by_account

log = logging.getLogger("metaads.metrics")


def snapshot_from_run(
    summary: RunSummary,
    *,
    finished_at: datetime,
    last_success: Mapping[str, datetime] | None = None,
    usage: Mapping[str, float] | None = None,
) -> RunSnapshot:
    """The snapshot of a finished run (pure). Maps are keyed by account id (digits, no ``act_``)."""
    last_success = last_success or {}
    usage = usage or {}
    accounts = []
    for result in summary.results:
        account = result.account
        last = finished_at if result.ok else last_success.get(account.id)
        if result.ok and account.id in last_success:
            last = max(finished_at, last_success[account.id])
        accounts.append(
            AccountSnapshot(
                account=account.act_id,
                table=account.table,
                actions_table=account.actions_table,
                ads_rows=result.ads_rows,
                actions_rows=result.actions_rows,
                api_calls=result.api_calls,
                throttled_s=result.throttled_s,
                ok=result.ok,
                last_success=last,
                usage_percent=usage.get(account.id),
            )
        )
    return RunSnapshot(finished_at=finished_at, duration_s=summary.duration_s, accounts=tuple(accounts))


def latest_usage(client: GraphClient, accounts: Sequence[Account], tokens: Sequence[str]) -> dict[str, float]:
    """Account id -> the latest account-level usage percent seen (highest over the tokens that read it)."""
    fingerprints = [token_fingerprint(t) for t in tokens]
    usage: dict[str, float] = {}
    for account in accounts:
        seen = [
            state.usage_pct
            for fp in fingerprints
            if (state := client.throttle_store.get(f"account:{fp}:{account.id}")) is not None
            and state.usage_pct is not None
        ]
        if seen:
            usage[account.id] = max(seen)
    return usage


def publish_after_run(
    summary: RunSummary,
    *,
    warehouse: Warehouse,
    client: GraphClient,
    tokens: Sequence[str],
    finished_at: datetime,
    textfile: Path | None = None,
    pushgateway: str | None = None,
) -> bool:
    """Build the snapshot and publish it; False (logged, run outcome unchanged) when publishing failed."""
    if textfile is None and not pushgateway:
        return True
    try:
        last = last_success_by_account(warehouse.engine, warehouse.account_runs)
    except MetaAdsError as exc:
        log.warning("metrics: could not read last successes from the run ledger: %s", exc)
        last = {}
    snapshot = snapshot_from_run(
        summary,
        finished_at=finished_at,
        last_success=last,
        usage=latest_usage(client, [r.account for r in summary.results], tokens),
    )
    expiries = {c.fingerprint: moment for c in summary.token_checks if (moment := c.next_expiry) is not None}
    if expiries:
        snapshot = replace(snapshot, token_expiries=expiries)
    try:
        publish_run_metrics(snapshot, textfile=textfile, pushgateway=pushgateway)
    except OSError as exc:  # urllib errors are OSErrors too
        log.error("metrics: publishing failed: %s", exc)
        return False
    return True
