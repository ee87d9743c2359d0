"""Per-account call statistics: what extraction cost, for run reports and benchmarks."""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class CallStats:
    """Counters of one account's Graph API traffic (or of all accounts, see :meth:`combine`)."""

    api_calls: int = 0
    pages: int = 0
    rows: int = 0
    # Responses that were a throttling error (codes 4, 17, 32, 368, 613, 80000-80014).
    throttled_errors: int = 0
    # Seconds waited because of rate limits: blocks after throttling errors plus slow-down pauses.
    throttled_s: float = 0.0
    # The share of throttled_s spent slowing down *before* any quota ran out.
    slowdown_s: float = 0.0
    # Transient failures (5xx, codes 1/2, timeouts) and the retries they caused.
    transient_errors: int = 0
    retries: int = 0
    backoff_s: float = 0.0
    # Seconds an answer waited for a page slot before its body was read (metaads.graph.pages): other
    # threads' pages were being parsed and consumed.
    page_wait_s: float = 0.0
    # Seconds a request waited for a call slot before it was sent (metaads.graph.gate): other calls were
    # in flight. Like page_wait_s, this process's queueing, not the API's answer time.
    gate_wait_s: float = 0.0
    token_failovers: int = 0
    async_jobs: int = 0
    async_polls: int = 0
    async_retries: int = 0
    range_splits: int = 0
    limit_halvings: int = 0
    limit_growths: int = 0
    range_clamps: int = 0

    @classmethod
    def combine(cls, many: list[CallStats]) -> CallStats:
        """The sum of several accounts' statistics."""
        total = cls()
        for item in many:
            total = replace(total, **{f.name: getattr(total, f.name) + getattr(item, f.name) for f in fields(cls)})
        return total

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class StatsBook:
    """Thread-safe per-account counters; accounts are keyed by id (``""`` for calls about no account)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_account: dict[str, dict[str, float]] = {}

    def add(self, account_id: str | None, **increments: float) -> None:
        with self._lock:
            counters = self._by_account.setdefault(account_id or "", {})
            for name, value in increments.items():
                counters[name] = counters.get(name, 0) + value

    def get(self, account_id: str | None) -> CallStats:
        with self._lock:
            counters = dict(self._by_account.get(account_id or "", {}))
        return CallStats(**counters)  # type: ignore[arg-type]

    def accounts(self) -> list[str]:
        with self._lock:
            return list(self._by_account)
