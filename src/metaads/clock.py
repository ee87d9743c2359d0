"""Time, injected: a clock and a sleeper, so tests never sleep and the simulator can share a fake clock."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    """Something that tells the time and can wait."""

    def now(self) -> datetime:
        """Current time, timezone-aware (UTC)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a monotonic scale, for measuring durations."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a fake clock just advances)."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock that only moves when told to, or when someone sleeps on it.

    Share one instance between the simulator and the client: the client's waits then advance the
    simulator's time, so rate-limit windows expire and async jobs progress without real sleeping.
    Thread-safe; ``slept`` totals all the sleeping done on it.
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._now = start
        self._mono = 0.0
        self._lock = threading.Lock()
        self.slept = 0.0

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (forward or backward)."""
        with self._lock:
            self._mono += (when - self._now).total_seconds()
            self._now = when

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self.slept += seconds
            self.advance(seconds)
