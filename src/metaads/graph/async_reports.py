"""Asynchronous insights report runs: submit, poll with back-off, and report how a job ended.

``POST /act_{id}/insights`` returns a ``report_run_id``; ``GET /{id}`` tells its ``async_status``. Done
means "Job Completed" *and* 100 % (reading earlier gives errors). "Job Failed" and "Job Skipped" mean
resubmit. See ``graph-api-spec.md`` "POST /act_{account_id}/insights".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from metaads.accounts import Account
from metaads.errors import AsyncJobError, AsyncJobFailedError, AsyncJobTimeoutError
from metaads.graph.session import GraphSession

logger = logging.getLogger(__name__)

COMPLETED = "Job Completed"
NOT_STARTED = "Job Not Started"
FAILED_STATUSES = frozenset({"Job Failed", "Job Skipped"})


def run_report(session: GraphSession, account: Account, params: Mapping[str, str]) -> str:
    """Submit an insights report for ``account`` and wait until it completes; returns its run id.

    Raises:
        AsyncJobFailedError: the job failed or was skipped.
        AsyncJobTimeoutError: the job exceeded the policy's start or total timeout.
    """
    policy, clock = session.policy, session.clock
    body = session.call("POST", f"{account.act_id}/insights", params, account=account)
    run_id = body.get("report_run_id")
    if not isinstance(run_id, (str, int)) or not str(run_id):
        raise AsyncJobError(
            "submitting an async report returned no report_run_id",
            account_id=account.id,
            request=session.describe("POST", f"{account.act_id}/insights", params),
        )
    run_id = str(run_id)
    session.stats.add(account.id, async_jobs=1)
    logger.info("account %s: async report %s submitted", account.id, run_id)
    started = clock.monotonic()
    schedule = policy.poll_delays()
    while True:
        clock.sleep(schedule.next_delay())
        # Default fields only: they include the status, and not every version knows error_* fields.
        status_body = session.call("GET", run_id, {}, account=account)
        session.stats.add(account.id, async_polls=1)
        status = str(status_body.get("async_status") or "")
        percent = _percent(status_body.get("async_percent_completion"))
        elapsed = clock.monotonic() - started
        logger.debug(
            "account %s: async report %s is %r at %s%% after %.0f s", account.id, run_id, status, percent, elapsed
        )
        if status == COMPLETED and percent >= 100:
            return run_id
        if status in FAILED_STATUSES:
            detail = status_body.get("error_message") or status_body.get("error_code") or ""
            raise AsyncJobFailedError(
                f"async report {run_id} ended as {status!r}" + (f": {detail}" if detail else ""),
                async_status=status,
                report_run_id=run_id,
                account_id=account.id,
                code=_int(status_body.get("error_code")),
                subcode=_int(status_body.get("error_subcode")),
            )
        if status == NOT_STARTED and elapsed > policy.async_start_timeout_s:
            raise AsyncJobTimeoutError(
                f"async report {run_id} had not started after {elapsed:.0f} s",
                report_run_id=run_id,
                account_id=account.id,
            )
        if elapsed > policy.async_timeout_s:
            raise AsyncJobTimeoutError(
                f"async report {run_id} not completed after {elapsed:.0f} s ({status!r}, {percent}%)",
                report_run_id=run_id,
                account_id=account.id,
            )


def _percent(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return 0.0
    return 0.0


def _int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
