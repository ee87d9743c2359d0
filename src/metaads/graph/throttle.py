"""Rate-limit pacing: when may the next call on a quota go out.

State lives behind the small :class:`ThrottleStore` protocol so that workers on different machines can
share it (a later issue stores it in the warehouse database); :class:`InMemoryThrottleStore` serves one
process. Keys name a quota: ``app:<token fingerprint>`` for app-level limits and
``account:<token fingerprint>:<account id>`` for the per-(app, account) ones. The fingerprint is a short
hash of the token, safe to store and log.

Two mechanisms, both driven by the API's own numbers:

- *pace*: a call goes out only when it fits every rolling window it counts against, usage staying at or
  below ``slowdown_start_pct`` (100 by default: the quota is spent exactly, never overshot); the wait is
  until enough of the window's calls have left it (:mod:`metaads.graph.pacing`), never a whole window
  at exactly 100 %;
- *block*: a throttling error holds the quota for the time the headers/body give
  (``estimated_time_to_regain_access``, ``reset_time_duration``), capped by ``max_wait_s``.

Holds are per quota, so an account that is blocked never delays the others.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from metaads.clock import Clock
from metaads.errors import RateLimitedError
from metaads.graph.pacing import Pacer, Reading
from metaads.graph.policy import ClientPolicy
from metaads.graph.usage import Usage


@dataclass(frozen=True)
class ThrottleState:
    """What is known about one quota: no call before ``not_before``; the last usage seen."""

    key: str
    not_before: datetime | None = None
    reason: str | None = None
    usage_pct: float | None = None
    updated_at: datetime | None = None


class ThrottleStore(Protocol):
    """Shared throttle state, keyed by quota. Implementations must be safe to call from many threads."""

    def get(self, key: str) -> ThrottleState | None:
        """The state of ``key``, or None when nothing is known."""
        ...

    def hold(self, key: str, until: datetime, *, reason: str, at: datetime) -> None:
        """No call on ``key`` before ``until`` (an existing later hold is kept)."""
        ...

    def record_usage(self, key: str, pct: float, *, at: datetime) -> None:
        """Remember the latest usage percentage seen for ``key``."""
        ...


class InMemoryThrottleStore:
    """A :class:`ThrottleStore` for one process."""

    def __init__(self) -> None:
        self._states: dict[str, ThrottleState] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> ThrottleState | None:
        with self._lock:
            return self._states.get(key)

    def hold(self, key: str, until: datetime, *, reason: str, at: datetime) -> None:
        with self._lock:
            state = self._states.get(key) or ThrottleState(key)
            if state.not_before is not None and state.not_before >= until:
                return
            self._states[key] = replace(state, not_before=until, reason=reason, updated_at=at)

    def record_usage(self, key: str, pct: float, *, at: datetime) -> None:
        with self._lock:
            state = self._states.get(key) or ThrottleState(key)
            self._states[key] = replace(state, usage_pct=pct, updated_at=at)

    def __repr__(self) -> str:
        return f"InMemoryThrottleStore({len(self._states)} quotas)"


def token_fingerprint(token: str) -> str:
    """A short, stable, non-reversible name for a token (safe in logs and shared stores)."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class QuotaKeys:
    """The quotas one call counts against."""

    app: str
    account: str | None

    @classmethod
    def for_call(cls, fingerprint: str, account_id: str | None) -> QuotaKeys:
        return cls(app=f"app:{fingerprint}", account=f"account:{fingerprint}:{account_id}" if account_id else None)

    def all(self) -> tuple[str, ...]:
        return (self.app,) if self.account is None else (self.app, self.account)

    def for_scope(self, scope: str) -> str:
        """The key a throttling error of ``scope`` holds."""
        if scope in ("account", "business") and self.account is not None:
            return self.account
        return self.app


@dataclass(frozen=True)
class Wait:
    """A wait the throttle imposed before a call."""

    seconds: float
    reason: str | None


class Throttle:
    """Decides and performs rate-limit waits: exact pacing (:mod:`metaads.graph.pacing`) and the holds of
    a shared :class:`ThrottleStore`."""

    def __init__(self, store: ThrottleStore, policy: ClientPolicy, clock: Clock) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock
        # Above 100 % the client never paces (it only waits once throttled).
        self.pacer = Pacer(policy.slowdown_start_pct) if policy.slowdown_start_pct <= 100.0 else None

    def wait_turn(self, keys: QuotaKeys, announce: Callable[[float, str], None] | None = None) -> Wait:
        """Sleep until every quota of ``keys`` has room for one more call, then count the call as sent.

        Waits for holds of the store (throttling blocks, other workers' pacing) and for the rolling
        windows to have room; no single sleep exceeds ``max_wait_s``, nor does the whole wait.
        ``announce(seconds, reason)`` is told of each sleep before it starts (progress displays, logs).
        """
        waited = 0.0
        reason: str | None = None
        while True:
            now = self.clock.now()
            hold, hold_reason = self._hold_s(keys, now)
            pace = 0.0
            if hold <= 0 and self.pacer is not None:
                pace = self.pacer.try_reserve(keys.all(), self.clock.monotonic())
            wait = max(hold, pace)
            if wait <= 0:
                return Wait(waited, reason)
            if waited >= self.policy.max_wait_s:
                if self.pacer is not None and hold <= 0:  # waited enough: the API's own errors take over
                    self.pacer.force_reserve(keys.all(), self.clock.monotonic())
                return Wait(waited, reason)
            wait = min(wait, self.policy.max_wait_s - waited)
            reason = hold_reason if hold > 0 else "slowdown"
            if announce is not None:
                announce(wait, reason or "slowdown")
            self.clock.sleep(wait)
            waited += wait

    def _hold_s(self, keys: QuotaKeys, now: datetime) -> tuple[float, str | None]:
        latest: ThrottleState | None = None
        for key in keys.all():
            state = self.store.get(key)
            if (
                state is not None
                and state.not_before is not None
                and state.not_before > now
                and (latest is None or latest.not_before is None or state.not_before > latest.not_before)
            ):
                latest = state
        if latest is None or latest.not_before is None:
            return 0.0, None
        return (latest.not_before - now).total_seconds(), latest.reason

    def observe(self, keys: QuotaKeys, usage: Usage) -> float:
        """Record a response's usage. Returns the wait before the next call on these quotas (0: none).

        A positive wait also goes to the store as a hold, so other workers sharing it pace too.
        """
        now = self.clock.now()
        mono = self.clock.monotonic()
        longest = 0.0
        window = self.policy.usage_window_s
        app_readings = [Reading("app", usage.app_pct, None, window)]
        account_readings = [
            Reading("score", usage.account_pct, usage.account_reset_s, self.policy.account_score_window_s),
            Reading("insights", usage.insights_account_pct, None, window),
        ]
        # A business-use-case quota says when access returns once it is full: that is its reset time.
        account_readings += [
            Reading(f"buc:{b.owner_id}:{b.type}", b.pct, b.regain_s or None, window) for b in usage.business
        ]
        for key, readings in ((keys.app, app_readings), (keys.account, account_readings)):
            if key is None:
                continue
            present = [r for r in readings if r.pct is not None]
            pct = max((r.pct for r in present if r.pct is not None), default=None)
            if pct is not None:
                self.store.record_usage(key, pct, at=now)
            if self.pacer is None:
                continue
            pause = min(self.pacer.landed(key, present, mono), self.policy.max_wait_s)
            if pause > 0:
                self.store.hold(key, now + timedelta(seconds=pause), reason="slowdown", at=now)
                longest = max(longest, pause)
        regain = usage.regain_s()
        if regain is not None and keys.account is not None:
            # The API already says the account is blocked: do not call until it says access returns.
            wait = min(regain, self.policy.max_wait_s)
            self.store.hold(keys.account, now + timedelta(seconds=wait), reason="blocked", at=now)
            longest = max(longest, wait)
        return longest

    def block(self, keys: QuotaKeys, error: RateLimitedError, repeat: int) -> float:
        """Hold the quota a throttling error names for as long as the API says. Returns that wait."""
        wait = self.policy.throttle_wait_s(error.retry_after_s, repeat)
        now = self.clock.now()
        self.store.hold(
            keys.for_scope(error.scope),
            now + timedelta(seconds=wait),
            reason=f"rate limited (code {error.code})",
            at=now,
        )
        return wait
