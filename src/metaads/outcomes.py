"""What one date range of one account's load did: the record the pipeline reports and the ledger stores.

Kept apart from :mod:`metaads.pipeline` so the warehouse's run ledger can store it without depending on
the pipeline; :class:`~metaads.pipeline.AccountResult` is a list of these plus the account's totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from metaads.dates import DateRange
from metaads.statuses import AccountStatus


@dataclass(frozen=True)
class ChunkResult:
    """One date range of one account: loaded, or failed (then the warehouse kept its previous rows)."""

    range: DateRange
    status: AccountStatus
    ads_rows: int = 0
    actions_rows: int = 0
    error: str | None = None
    #: The account itself is unusable (no permission, no valid token): later chunks cannot succeed.
    fatal: bool = False
    #: Running this range again later may succeed (see :func:`metaads.errors.is_retryable`).
    retryable: bool = True
    #: What this chunk alone cost: its API calls, seconds throttled and seconds spent.
    api_calls: int = 0
    throttled_s: float = 0.0
    duration_s: float = 0.0
    #: Days whose ad rows differed from Meta's account-level totals (status ``mismatch``).
    mismatch_days: int = 0
    #: A ``mismatch`` under ``RECONCILE=strict``: the account counts as failed.
    blocking: bool = False
    #: The ledger row was written in the load's own transaction (the pipeline must not record it again).
    recorded: bool = False

    @property
    def ok(self) -> bool:
        """Loaded, or a mismatch the configuration accepts (``RECONCILE=warn``)."""
        return self.status == AccountStatus.LOADED or (self.status == AccountStatus.MISMATCH and not self.blocking)

    def to_xcom(self) -> dict[str, Any]:
        return {
            "since": self.range.since.isoformat(),
            "until": self.range.until.isoformat(),
            "status": self.status.value,
            "ads_rows": self.ads_rows,
            "actions_rows": self.actions_rows,
            "error": self.error,
            "fatal": self.fatal,
            "retryable": self.retryable,
            "api_calls": self.api_calls,
            "throttled_s": round(self.throttled_s, 3),
            "duration_s": round(self.duration_s, 3),
            "mismatch_days": self.mismatch_days,
            "blocking": self.blocking,
        }

    @classmethod
    def from_xcom(cls, value: Mapping[str, Any]) -> ChunkResult:
        return cls(
            DateRange(date.fromisoformat(value["since"]), date.fromisoformat(value["until"])),
            AccountStatus(value["status"]),
            ads_rows=int(value.get("ads_rows", 0)),
            actions_rows=int(value.get("actions_rows", 0)),
            error=value.get("error"),
            fatal=bool(value.get("fatal", False)),
            retryable=bool(value.get("retryable", True)),
            api_calls=int(value.get("api_calls", 0)),
            throttled_s=float(value.get("throttled_s", 0.0)),
            duration_s=float(value.get("duration_s", 0.0)),
            mismatch_days=int(value.get("mismatch_days", 0)),
            blocking=bool(value.get("blocking", False)),
        )
