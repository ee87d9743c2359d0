"""What a run reports: per-chunk, per-account and per-run results, and progress events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from metaads.accounts import Account
from metaads.dates import DateRange

LOADED = "loaded"
PARTIAL = "partial"
FAILED = "failed"


@dataclass(frozen=True)
class ChunkResult:
    """One date range of one account: loaded, or failed (then the warehouse kept its previous rows)."""

    range: DateRange
    status: str
    ads_rows: int = 0
    actions_rows: int = 0
    error: str | None = None
    #: The account itself is unusable (no permission, no valid token): later chunks cannot succeed.
    fatal: bool = False


@dataclass
class AccountResult:
    """The outcome of extracting and loading one account."""

    account: Account
    status: str
    range: DateRange | None = None
    chunks: list[ChunkResult] = field(default_factory=list)
    api_calls: int = 0
    throttled_s: float = 0.0
    duration_s: float = 0.0
    error: str | None = None
    #: False when retrying later cannot help (token, permission or configuration must be fixed first).
    retryable: bool = True
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
        """Ranges that were not loaded (their previous data is untouched)."""
        return [c.range for c in self.chunks if c.status != LOADED]


@dataclass
class RunSummary:
    """The outcome of a whole run over several accounts."""

    run_id: str
    results: list[AccountResult]
    duration_s: float

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

    def account_finished(self, result: AccountResult) -> None: ...


class NullListener:
    """Ignores progress."""

    def account_started(self, account: Account, date_range: DateRange) -> None:
        return None

    def rows_fetched(self, account: Account, rows: int) -> None:
        return None

    def account_finished(self, result: AccountResult) -> None:
        return None
