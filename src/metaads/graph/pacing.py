"""Exact pacing on rolling-window quotas: when does the next call fit, from the usage headers' own numbers.

Meta's quotas are rolling windows: the ad-account score counts the calls of the last ``W`` seconds
(``reset_time_duration`` after a call is ``W``: 300 s), app and business-use-case quotas those of the
last hour. A call that would bring usage *above* 100 % is refused; one that brings it to exactly 100 %
is fine. So the next call may go out as soon as enough of the window's calls have left it, which is
when the oldest of them is ``W`` seconds old: waiting a whole window at 100 % wastes up to ``W``.

A :class:`Meter` models one quota of one key from what the API says and what this process did:

- ``pct`` (the header's usage) and ``step`` (the usage one call adds: the smallest rise between
  consecutive responses; until one is seen, a full quota waits for its reset) give the calls in the window,
  ``n = round(pct / step)``, and the calls that fit, ``cap = floor((target + step / 2) / step)``;
- our own calls' response times (a call was counted *before* we saw its response, so its expiry is at
  most ``W`` after that) tell when they leave the window. Calls in ``n`` we did not make (another
  process, another tool on the same token) are assumed as recent as possible: they leave when usage
  is back to zero (``reset_time_duration``) or after a whole window. With no history of our own this
  is the conservative "wait until the quota is empty";
- calls sent but not yet answered count as in the window.

Nothing here depends on the simulator: only the headers' documented fields (``call_count``,
``total_time``, ``total_cputime``, ``acc_id_util_pct``, ``reset_time_duration``) and our own calls.
Errors of the model are caught by the API itself: a throttling error still blocks the quota for the
time the API gives (:meth:`metaads.graph.throttle.Throttle.block`).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

# While calls we sent are unanswered and the window is full, look again this soon (they land in about
# one round trip; then their usage is known).
RECHECK_S = 0.25
# Sent calls never answered (a timeout, a dropped connection) stop counting after a window and this.
_UNANSWERED_GRACE_S = 300.0


@dataclass
class Meter:
    """What is known of one rolling-window quota. Times are ``Clock.monotonic()`` seconds."""

    window_s: float
    # Usage the next call may bring the quota to (percent): 100 spends it exactly.
    target_pct: float = 100.0
    step: float | None = None
    pct: float | None = None
    reset_s: float | None = None
    seen_at: float | None = None
    # Response times of our calls still possibly in the window; send times of unanswered ones.
    answered: deque[float] = field(default_factory=deque)
    unanswered: deque[float] = field(default_factory=deque)
    learned_window: bool = False

    # ------------------------------------------------------------ updates

    def sent(self, now: float) -> None:
        self.unanswered.append(now)

    def landed(self, now: float, pct: float | None, reset_s: float | None) -> None:
        """A response to one of our calls arrived, saying usage ``pct`` (None: not reported)."""
        if self.unanswered:
            self.unanswered.popleft()
        self.answered.append(now)
        self._prune(now)
        if pct is None:
            return
        if reset_s is not None and reset_s > 0 and pct < 100.0:
            # Right after a call, the time until usage is back to zero is the window itself.
            self.window_s = max(reset_s, self.window_s) if self.learned_window else reset_s
            self.learned_window = True
        if self.pct is not None and pct > self.pct and self.seen_at is not None:
            rise = pct - self.pct
            # One call of ours between two readings: the rise is one call's usage (or, with an expiry
            # in between, less than nothing: not a reading of the step).
            self.step = rise if self.step is None else min(self.step, rise)
        self.pct, self.reset_s, self.seen_at = pct, reset_s, now

    # ------------------------------------------------------------ decisions

    def wait_s(self, now: float, *, include_unanswered: bool = True) -> float:
        """Seconds until one more call fits the window (0: now)."""
        if self.pct is None or self.seen_at is None:
            return 0.0
        if self.step is None or self.step <= 0:
            # No rise seen yet, so the calls in the window are unknown: room unless the quota is full,
            # then wait for what the API says (or a whole window).
            if self.pct < self.target_pct:
                return 0.0
            return max(0.0, self.seen_at + (self.reset_s or self.window_s) - now)
        step = self.step
        cap = math.floor((self.target_pct + step / 2) / step)
        in_window = max(0, round(self.pct / step))
        mine = [t for t in self.answered if t <= self.seen_at][-in_window:] if in_window else []
        others = in_window - len(mine)
        others_leave = self.seen_at + (self.reset_s if self.reset_s and self.reset_s > 0 else self.window_s)
        leaving = sorted([t + self.window_s for t in mine] + [others_leave] * others)
        still = [t for t in leaving if t > now]
        pending = len(self.unanswered) if include_unanswered else 0
        # Answered after the last reading (out of order): they are in the window too.
        pending += sum(1 for t in self.answered if t > self.seen_at)
        over = len(still) + pending + 1 - cap
        if over <= 0:
            return 0.0
        if over > len(still):
            # Room depends on calls not answered yet: look again once they have landed.
            wait = RECHECK_S if pending else self.window_s
        else:
            wait = still[over - 1] - now
        if self.reset_s and self.reset_s > 0:
            # The API says usage is back to zero by then, whatever the model thinks.
            wait = min(wait, max(0.0, self.seen_at + self.reset_s - now))
        return wait

    def _prune(self, now: float) -> None:
        horizon = now - self.window_s
        while self.answered and self.answered[0] <= horizon:
            self.answered.popleft()
        while self.unanswered and self.unanswered[0] <= horizon - _UNANSWERED_GRACE_S:
            self.unanswered.popleft()


@dataclass(frozen=True)
class Reading:
    """One quota's usage in one response: which meter of the key, usage, reset time, window."""

    name: str
    pct: float | None
    reset_s: float | None
    window_s: float


class Pacer:
    """The meters of every quota key this process calls, thread-safe."""

    def __init__(self, target_pct: float = 100.0) -> None:
        self.target_pct = target_pct
        self._meters: dict[str, dict[str, Meter]] = {}
        self._lock = threading.Lock()

    def try_reserve(self, keys: Iterable[str], now: float) -> float:
        """0 and the call is counted as sent on every key's meters; else the seconds to wait first."""
        keys = tuple(keys)
        with self._lock:
            wait = max((m.wait_s(now) for k in keys for m in self._meters.get(k, {}).values()), default=0.0)
            if wait > 0:
                return wait
            for key in keys:
                # Before any response on a key, a placeholder meter remembers the calls sent.
                meters = self._meters.setdefault(key, {}) or {"": Meter(window_s=0.0)}
                self._meters[key] = meters
                for meter in meters.values():
                    meter.sent(now)
            return 0.0

    def force_reserve(self, keys: Iterable[str], now: float) -> None:
        """Count a call as sent whatever the meters say (the caller waited long enough)."""
        with self._lock:
            for key in keys:
                meters = self._meters.setdefault(key, {}) or {"": Meter(window_s=0.0)}
                self._meters[key] = meters
                for meter in meters.values():
                    meter.sent(now)

    def landed(self, key: str, readings: Iterable[Reading], now: float) -> float:
        """A response on ``key`` with these readings; returns the wait before the next call on it.

        The wait ignores calls still unanswered (it is what another process may be told).
        """
        with self._lock:
            meters = self._meters.setdefault(key, {})
            placeholder = meters.pop("", None)
            named = set()
            for reading in readings:
                named.add(reading.name)
                meter = meters.get(reading.name)
                if meter is None:
                    meter = meters[reading.name] = Meter(window_s=reading.window_s, target_pct=self.target_pct)
                    if placeholder is not None:
                        # Calls sent before this quota was known: they are ours and in its window.
                        meter.unanswered.extend(placeholder.unanswered)
                meter.landed(now, reading.pct, reading.reset_s)
            for name, meter in meters.items():
                if name not in named:  # not in this response: still, our call landed
                    meter.landed(now, None, None)
            return max((m.wait_s(now, include_unanswered=False) for m in meters.values()), default=0.0)
