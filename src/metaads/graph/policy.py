"""The client's retry, throttle and async-report policy: one value object with numbers.

Every wait the client makes is computed from a :class:`ClientPolicy`; nothing else in
:mod:`metaads.graph` hard-codes a duration. Defaults follow ``graph-api-spec.md`` (peers poll async
jobs with back-off, slow down at ~75-95 % usage, give up on a job that has not started in ~5 min).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class ClientPolicy:
    """How the Graph API client paces, retries and splits its work. All durations in seconds."""

    # --- HTTP
    timeout_s: float = 120.0
    connect_timeout_s: float = 10.0
    max_connections: int = 32
    # Requests in flight at once (0: no limit). A call holds its slot only while on the wire, never
    # while it waits for a quota (metaads.graph.gate); the pipeline sets it to ACCOUNT_GROUP_SIZE.
    max_concurrent_calls: int = 0
    page_size: int = 500
    # Halving ``limit`` on "reduce the amount of data" stops here; below it the date range is split.
    min_page_size: int = 25
    # While full pages come back faster than ``page_grow_below_s`` (quota waits excluded), ``limit``
    # doubles up to ``max_page_size``: fewer calls for the same rows, so fewer quota points and round
    # trips. The cap bounds a page's body, held while its rows are consumed (see ``parsed_pages``).
    max_page_size: int = 1000
    page_grow_below_s: float = 5.0
    # Pages read and held parsed at once by all threads together (0: no limit). An answer waits for a
    # slot before its body is read, and keeps it while the page is parsed and consumed; requests are
    # sent and quotas waited for without one (metaads.graph.pages). The interpreter lock runs one
    # thread's page work at a time anyway: a second slot measured 3 MB more peak RSS (1,000-row pages,
    # ten accounts) and no faster run.
    parsed_pages: int = 1

    # --- transient errors (5xx, codes 1/2, timeouts): exponential back-off with jitter
    max_retries: int = 6
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 120.0

    # --- rate limits
    # Pacing keeps every quota at or below this usage (percent): a call waits until it fits the rolling
    # window. 100 spends the quota exactly; lower leaves room for other clients of the same app; above
    # 100 the client never paces (it only waits once throttled).
    slowdown_start_pct: float = 100.0
    # Rolling windows when the API does not say: the ad-account score decays over 300 s (the score's
    # reset_time_duration, when sent, wins); app and business-use-case quotas count the last hour.
    account_score_window_s: float = 300.0
    usage_window_s: float = 3600.0
    # Longest single wait for a rate limit, whatever the API says.
    max_wait_s: float = 900.0
    # First wait when throttled and the API does not say for how long (doubles on each repeat).
    throttle_fallback_s: float = 60.0
    # Throttling errors tolerated for one request before giving up with RateLimitedError.
    max_throttle_waits: int = 12

    # --- insights: asynchronous report runs
    # Ranges longer than this many days use an async report run ...
    async_threshold_days: int = 31
    # ... and so do ranges whose days x ads estimate (when the caller gives one) exceeds this.
    async_threshold_cells: int = 50_000
    async_poll_initial_s: float = 5.0
    async_poll_factor: float = 2.0
    async_poll_max_s: float = 60.0
    # A job still "Not Started" after this long is abandoned (and its range split).
    async_start_timeout_s: float = 300.0
    # A job not completed after this long is abandoned (and its range split).
    async_timeout_s: float = 1800.0
    # Resubmissions of a Failed / Skipped job before its date range is split in halves.
    async_job_retries: int = 1

    # --- paging
    # Consecutive empty pages that still have ``next`` tolerated before calling it a server fault.
    max_empty_pages: int = 100

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value < 0:
                raise ValueError(f"ClientPolicy.{f.name} must not be negative (got {value})")
        if self.page_size < 1 or self.min_page_size < 1:
            raise ValueError("ClientPolicy page sizes must be at least 1")
        if self.min_page_size > self.page_size:
            raise ValueError("ClientPolicy.min_page_size must not exceed page_size")
        if self.max_page_size < 1:
            raise ValueError("ClientPolicy.max_page_size must be at least 1 (below page_size: no growth)")
        if self.slowdown_start_pct <= 0:
            raise ValueError("ClientPolicy.slowdown_start_pct must be positive (above 100 disables it)")
        if self.async_poll_factor < 1:
            raise ValueError("ClientPolicy.async_poll_factor must be at least 1")

    def backoff_s(self, attempt: int, rng: random.Random) -> float:
        """Wait before retry ``attempt`` (1-based) of a transient error: exponential, jittered, capped."""
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2.0 ** (attempt - 1))
        # "Equal jitter" (AWS architecture blog): parallel workers spread apart, yet never retry at once.
        return rng.uniform(ceiling / 2, ceiling)

    def throttle_wait_s(self, retry_after_s: float | None, repeat: int) -> float:
        """How long to wait after throttling error number ``repeat`` (1-based) of one request."""
        if retry_after_s is not None and retry_after_s > 0:
            return min(retry_after_s, self.max_wait_s)
        return min(self.throttle_fallback_s * 2.0 ** (repeat - 1), self.max_wait_s)

    def poll_delays(self) -> PollSchedule:
        """The async-report polling schedule."""
        return PollSchedule(self.async_poll_initial_s, self.async_poll_factor, self.async_poll_max_s)


@dataclass
class PollSchedule:
    """Successive delays between polls of an async report: ``initial`` growing by ``factor`` to ``cap``."""

    initial: float
    factor: float
    cap: float
    _next: float | None = None

    def next_delay(self) -> float:
        delay = self.initial if self._next is None else self._next
        self._next = min(self.cap, delay * self.factor)
        return delay
