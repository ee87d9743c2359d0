"""Rate-limit pacing: when may the next call on a quota go out.

State lives behind the small :class:`ThrottleStore` protocol so that workers on different machines can
share it (a later issue stores it in the warehouse database); :class:`InMemoryThrottleStore` serves one
process. Keys name a quota: ``app:<token fingerprint>`` for app-level limits and
``account:<token fingerprint>:<account id>`` for the per-(app, account) ones. The fingerprint is a short
hash of the token, safe to store and log.

Two mechanisms, both driven by the API's own numbers:

- *slow down*: after every response, usage above ``slowdown_start_pct`` puts a short hold on the quota,
  long enough for usage to decay back under the threshold (``reset_time_duration`` says how fast) or,
  when the API gives no time, proportional to how far above the threshold it is;
- *block*: a throttling error holds the quota for the time the headers/body give
  (``estimated_time_to_regain_access``, ``reset_time_duration``), capped by ``max_wait_s``.

Holds are per quota, so an account that is blocked never delays the others.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from metaads.clock import Clock
from metaads.errors import RateLimitedError
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
        return cls(app=f"app:{fingerprint}",
                   account=f"account:{fingerprint}:{account_id}" if account_id else None)

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
    """Decides and performs rate-limit waits, using a shared :class:`ThrottleStore`."""

    def __init__(self, store: ThrottleStore, policy: ClientPolicy, clock: Clock) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock

    def wait_turn(self, keys: QuotaKeys) -> Wait:
        """Sleep until every quota of ``keys`` may be called again (at most ``max_wait_s``)."""
        now = self.clock.now()
        latest: ThrottleState | None = None
        for key in keys.all():
            state = self.store.get(key)
            if state is not None and state.not_before is not None and state.not_before > now and (
                    latest is None or latest.not_before is None or state.not_before > latest.not_before):
                latest = state
        if latest is None or latest.not_before is None:
            return Wait(0.0, None)
        seconds = min((latest.not_before - now).total_seconds(), self.policy.max_wait_s)
        self.clock.sleep(seconds)
        return Wait(seconds, latest.reason)

    def observe(self, keys: QuotaKeys, usage: Usage) -> float:
        """Record a response's usage; above the slow-down threshold, hold the quota. Returns the hold."""
        if usage.is_empty:
            return 0.0
        now = self.clock.now()
        app_pct = usage.app_pct
        app_step = self._step(keys.app, app_pct, now)
        account_pct = usage.account_level_pct
        account_step = self._step(keys.account, account_pct, now)
        longest = 0.0
        app_pause = self.slowdown_s(app_pct, None, app_step)
        if app_pause > 0:
            self.store.hold(keys.app, now + timedelta(seconds=app_pause), reason="slowdown", at=now)
            longest = app_pause
        # The account score's reset time only describes acc_id_util_pct; other account quotas get the
        # proportional pause.
        account_pause = max(self.slowdown_s(usage.account_pct, usage.account_reset_s, account_step),
                            self.slowdown_s(_max(usage.insights_account_pct,
                                                 *(b.pct for b in usage.business)), None, account_step))
        if account_pause > 0:
            self.store.hold(keys.for_scope("account"), now + timedelta(seconds=account_pause),
                            reason="slowdown", at=now)
            longest = max(longest, account_pause)
        regain = usage.regain_s()
        if regain is not None and keys.account is not None:
            # The API already says the account is blocked: do not call until it says access returns.
            wait = min(regain, self.policy.max_wait_s)
            self.store.hold(keys.account, now + timedelta(seconds=wait), reason="blocked", at=now)
            longest = max(longest, wait)
        return longest

    def slowdown_s(self, pct: float | None, reset_s: float | None, step: float = 0.0) -> float:
        """The pause before the next call on a quota at usage ``pct`` (``step``: usage one call adds).

        Above the threshold, long enough for usage to fall back to it; when the next call would reach
        100 %, until usage is back to zero (``reset_time_duration``), because quotas are rolling windows
        and the calls that fill them may all be recent.
        """
        start = self.policy.slowdown_start_pct
        if pct is None or pct < start:
            return 0.0
        if pct + step >= 100.0 and start <= 100.0:
            full = reset_s if reset_s is not None and reset_s > 0 else self.policy.slowdown_max_pause_s
            return min(full, self.policy.max_wait_s)
        if reset_s is not None and reset_s > 0:
            # Usage decays to zero over reset_s: it is back at the threshold after reset_s * (pct-start)/pct.
            pause = reset_s * (pct - start) / pct
        else:
            pause = self.policy.slowdown_max_pause_s * min(1.0, (pct - start) / max(100.0 - start, 1.0))
        return min(pause, self.policy.max_wait_s)

    def _step(self, key: str | None, pct: float | None, now: datetime) -> float:
        """Record ``pct`` for ``key``; returns how much usage rose since the last response seen."""
        if key is None or pct is None:
            return 0.0
        previous = self.store.get(key)
        self.store.record_usage(key, pct, at=now)
        if previous is None or previous.usage_pct is None:
            return 0.0
        return max(0.0, pct - previous.usage_pct)

    def block(self, keys: QuotaKeys, error: RateLimitedError, repeat: int) -> float:
        """Hold the quota a throttling error names for as long as the API says. Returns that wait."""
        wait = self.policy.throttle_wait_s(error.retry_after_s, repeat)
        now = self.clock.now()
        self.store.hold(keys.for_scope(error.scope), now + timedelta(seconds=wait),
                        reason=f"rate limited (code {error.code})", at=now)
        return wait


def _max(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None
