"""Asynchronous insights reports (``POST /act_{id}/insights`` -> ``/{report_run_id}``), on the sim clock.

A job's status is a pure function of the time elapsed since it was submitted: Not Started, Started,
Running (percent rising), then Completed - or Failed / Skipped when the fault rates say so. Results are
computed as of the completion time, like a report Meta materialised then.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from metaads.simulator.insights import InsightsQuery

COMPLETED = "Job Completed"
FAILED = "Job Failed"
SKIPPED = "Job Skipped"


@dataclass(frozen=True)
class ReportRun:
    id: str
    account_id: str
    params: Mapping[str, str]
    query: InsightsQuery
    created: float  # POSIX seconds on the simulator clock
    duration: float
    outcome: str  # COMPLETED, FAILED or SKIPPED
    hide_archived: bool = True  # False for /{object_id}/insights, which shows archived objects too
    empty: bool = False  # answered ``{"data": []}`` (Faults.empty_answer_rate)

    @property
    def completed_at(self) -> float:
        return self.created + self.duration

    def status(self, now: float) -> tuple[str, int]:
        """(async_status, async_percent_completion) at ``now``."""
        fraction = (now - self.created) / self.duration if self.duration > 0 else 1.0
        if self.outcome == SKIPPED and fraction >= 0.3:
            return SKIPPED, 0
        if self.outcome == FAILED and fraction >= 0.6:
            return FAILED, 60
        if fraction < 0.05:
            return "Job Not Started", 0
        if fraction < 0.15:
            return "Job Started", 0
        if fraction < 1.0:
            return "Job Running", max(1, min(99, int((fraction - 0.15) / 0.85 * 100)))
        return COMPLETED, 100

    def describe(self, now: float) -> dict[str, Any]:
        """The report run node, as ``GET /{report_run_id}`` returns it."""
        status, percent = self.status(now)
        body: dict[str, Any] = {
            "id": self.id,
            "account_id": self.account_id,
            "time_ref": int(self.created),
            "async_status": status,
            "async_percent_completion": percent,
            "date_start": self.query.since.isoformat(),
            "date_stop": self.query.until.isoformat(),
            "is_running": status not in (COMPLETED, FAILED, SKIPPED),
        }
        if status == COMPLETED:
            body["time_completed"] = int(self.completed_at)
        if status == FAILED:
            body["error_code"] = 1
            body["error_subcode"] = 99
            body["error_message"] = "An unknown error occurred"
        return body


class ReportRuns:
    """Submitted jobs by id."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"metaads-jobs-{seed}")
        self._next = self._rng.randrange(6 * 10**15, 7 * 10**15)
        self._jobs: dict[str, ReportRun] = {}
        self._lock = threading.Lock()

    def submit(
        self,
        account_id: str,
        params: Mapping[str, str],
        query: InsightsQuery,
        *,
        now: float,
        duration: float,
        outcome: str,
        hide_archived: bool = True,
        empty: bool = False,
    ) -> ReportRun:
        with self._lock:
            self._next += self._rng.randrange(1, 5000)
            job = ReportRun(
                id=str(self._next),
                account_id=account_id,
                params=dict(params),
                query=query,
                created=now,
                duration=duration,
                outcome=outcome,
                hide_archived=hide_archived,
                empty=empty,
            )
            self._jobs[job.id] = job
            return job

    def get(self, report_run_id: str) -> ReportRun | None:
        return self._jobs.get(report_run_id)

    def __len__(self) -> int:
        return len(self._jobs)
