"""What a run reports: per-account and per-run results (per-chunk: :mod:`metaads.outcomes`), progress events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from metaads.accounts import Account
from metaads.dates import DateRange
from metaads.graph.token_health import TokenHealth
from metaads.outcomes import ChunkResult
from metaads.redact import redact_text
from metaads.statuses import AccountStatus

if TYPE_CHECKING:
    from metaads.pipeline.reports import ReportChunk

LOADED = AccountStatus.LOADED
PARTIAL = AccountStatus.PARTIAL
FAILED = AccountStatus.FAILED
#: Loaded, but the ad rows' sums differ from Meta's account-level totals (see docs/reconciliation.md).
MISMATCH = AccountStatus.MISMATCH


@dataclass
class AccountResult:
    """The outcome of extracting and loading one account: the one record the CLI, the ledger and the
    Airflow XComs carry (:meth:`to_xcom` / :meth:`from_xcom`; errors are redacted)."""

    account: Account
    status: AccountStatus
    range: DateRange | None = None
    chunks: list[ChunkResult] = field(default_factory=list)
    api_calls: int = 0
    throttled_s: float = 0.0
    duration_s: float = 0.0
    error: str | None = None
    #: False when retrying later cannot help (token, permission or configuration must be fixed first).
    retryable: bool = True
    #: The extra reports' chunks (``INSIGHTS_REPORTS``), after the default report's.
    reports: list[ReportChunk] = field(default_factory=list)
    #: Entity tables (ENTITY_TABLES): rows upserted per kind, and the error of each kind that failed.
    entity_rows: dict[str, int] = field(default_factory=dict)
    entity_errors: dict[str, str] = field(default_factory=dict)
    #: Why the range was chosen (:class:`metaads.pipeline.window.WindowKind`: explicit, initial,
    #: catch-up, deep, look-back); None when the account failed before it was planned.
    window: str | None = None

    @property
    def ads_rows(self) -> int:
        return sum(c.ads_rows for c in self.chunks)

    @property
    def actions_rows(self) -> int:
        return sum(c.actions_rows for c in self.chunks)

    @property
    def ok(self) -> bool:
        return self.status == LOADED

    @property
    def missing(self) -> list[DateRange]:
        """Ranges that were not loaded (their previous data is untouched) or not reconciled."""
        return [c.range for c in self.chunks if c.status != LOADED]

    @property
    def mismatches(self) -> list[ChunkResult]:
        """Chunks whose rows differ from Meta's account-level totals."""
        return [c for c in self.chunks if c.status == MISMATCH]

    def to_xcom(self) -> dict[str, Any]:
        """A JSON-able dict (for Airflow XComs): no secrets, the account by id."""
        return {
            "account_id": self.account.id,
            "name": self.account.display_name,
            "table": self.account.table,
            "status": self.status.value,
            "range": [self.range.since.isoformat(), self.range.until.isoformat()] if self.range else None,
            "chunks": [c.to_xcom() for c in self.chunks],
            "ads_rows": self.ads_rows,
            "actions_rows": self.actions_rows,
            "api_calls": self.api_calls,
            "throttled_s": round(self.throttled_s, 3),
            "duration_s": round(self.duration_s, 3),
            "error": redact_text(self.error) if self.error else None,
            "retryable": self.retryable,
            "window": str(self.window) if self.window else None,
            "reports": [{"report": r.report, **r.outcome.to_xcom()} for r in self.reports],
        }

    @classmethod
    def from_xcom(cls, value: Mapping[str, Any], account: Account) -> AccountResult:
        """The result :meth:`to_xcom` wrote, for ``account`` (the configured account of that id)."""
        if value.get("account_id") != account.id:
            raise ValueError(f"XCom is about account {value.get('account_id')!r}, not {account.id!r}")
        from metaads.pipeline.reports import ReportChunk

        bounds = value.get("range")
        return cls(
            account=account,
            status=AccountStatus(value["status"]),
            range=DateRange(date.fromisoformat(bounds[0]), date.fromisoformat(bounds[1])) if bounds else None,
            chunks=[ChunkResult.from_xcom(c) for c in value.get("chunks", [])],
            api_calls=int(value.get("api_calls", 0)),
            throttled_s=float(value.get("throttled_s", 0.0)),
            duration_s=float(value.get("duration_s", 0.0)),
            error=value.get("error"),
            retryable=bool(value.get("retryable", True)),
            window=value.get("window"),
            reports=[ReportChunk(str(r["report"]), ChunkResult.from_xcom(r)) for r in value.get("reports", [])],
        )


@dataclass
class RunSummary:
    """The outcome of a whole run over several accounts."""

    run_id: str
    results: list[AccountResult]
    duration_s: float
    #: The day's token health check, when this run did it (the first run of each UTC day does).
    token_checks: list[TokenHealth] = field(default_factory=list)

    @property
    def failed(self) -> list[AccountResult]:
        return [r for r in self.results if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def ads_rows(self) -> int:
        return sum(r.ads_rows for r in self.results)

    @property
    def actions_rows(self) -> int:
        return sum(r.actions_rows for r in self.results)

    @property
    def api_calls(self) -> int:
        return sum(r.api_calls for r in self.results)


class ProgressListener(Protocol):
    """Receives progress events (the CLI draws them; Airflow logs them). Called from worker threads."""

    def account_started(self, account: Account, date_range: DateRange) -> None: ...

    def rows_fetched(self, account: Account, rows: int) -> None: ...

    def stage(self, account: Account, stage: str) -> None:
        """The account entered a stage people should see (e.g. ``waiting for quota until 14:05``)."""
        ...

    def account_finished(self, result: AccountResult) -> None: ...


class NullListener:
    """Ignores progress."""

    def account_started(self, account: Account, date_range: DateRange) -> None:
        return None

    def rows_fetched(self, account: Account, rows: int) -> None:
        return None

    def stage(self, account: Account, stage: str) -> None:
        return None

    def account_finished(self, result: AccountResult) -> None:
        return None
