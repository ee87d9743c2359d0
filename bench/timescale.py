"""Compressed time for the end-to-end benchmark: one clock, ``factor`` times faster than real time.

At the original design's scale the run is bound by the development tier's quotas (60 points per
300 s per ad account, a 300 s block): minutes of waiting, real on a real API. To fit the suite in
~20 minutes, the simulator, metaads and the baseline share a :class:`ScaledClock` on which one real
second is ``factor`` simulated seconds. Everything that *waits* is exact in simulated time: rate-limit
windows and blocks (the simulator's clock), metaads's slow-downs and header-driven waits, the
baseline's fixed 60 s waits (both sleep on the clock: ``sleep(60)`` takes ``60 / factor`` real
seconds) and the API latency (:class:`LatencyFloorApp`: every response takes at least
``latency / factor`` real seconds).

What is *not* compressed is CPU and database work (JSON parsing, pandas, COPY, INSERTs): in simulated
seconds it weighs ``factor`` times what it would in reality. The e2e scenario therefore also measures
each pipeline's load work in real seconds and gives an estimate with that work counted at 1x.

The clock is a pure function of ``time.monotonic()`` (system-wide on Linux), so a child process
rebuilt from :meth:`ScaledClock.spec` tells exactly the same time as its parent.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any, Protocol


class ScaledClock:
    """A clock (``metaads.clock.Clock``) on which simulated time runs ``factor`` times faster."""

    def __init__(self, factor: float, start: datetime, origin: float | None = None) -> None:
        if factor <= 0:
            raise ValueError("factor must be positive")
        if start.tzinfo is None:
            raise ValueError("ScaledClock needs a timezone-aware start")
        self.factor = factor
        self.start = start
        self.origin = time.monotonic() if origin is None else origin
        self._lock = threading.Lock()
        self.slept = 0.0  # simulated seconds slept on this clock (this process)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.monotonic())

    def monotonic(self) -> float:
        return (time.monotonic() - self.origin) * self.factor

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self.slept += seconds
            time.sleep(seconds / self.factor)

    def jump(self, seconds: float) -> None:
        """Move ``now()`` forward at once (the next simulated day); ``monotonic()`` is unaffected."""
        self.start += timedelta(seconds=seconds)

    def spec(self) -> dict[str, Any]:
        """What a child process needs to rebuild this very clock."""
        return {"factor": self.factor, "start": self.start.isoformat(), "origin": self.origin}

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> ScaledClock:
        return cls(float(spec["factor"]), datetime.fromisoformat(spec["start"]), float(spec["origin"]))

    def __repr__(self) -> str:
        return f"ScaledClock(x{self.factor:g}, now={self.now().isoformat(timespec='seconds')})"


class _Response(Protocol):
    delay_s: float


class App(Protocol):
    """What serves the simulator's requests (``GraphApp``, or a wrapper of it)."""

    def handle(self, method: str, path: str, query: Any, headers: Any, body: bytes, *, base_url: str) -> Any: ...


class LatencyFloorApp:
    """Wraps the simulator's request handler so every response takes at least ``latency_s`` (real).

    A real API's latency includes its own processing. The simulator's processing (generating 500 rows
    of insights) is an artefact of simulating; added on top of the latency and multiplied by the time
    factor it would swamp the latency it stands for. So the response is held until ``latency_s`` after
    the request arrived, or sent as soon as it is ready when producing it took longer.
    """

    def __init__(self, app: App, latency_s: float) -> None:
        self.app = app
        self.latency_s = latency_s
        self._lock = threading.Lock()
        #: CPU seconds the simulator spent producing answers (real seconds, summed over its threads).
        #: They share one interpreter lock, so a run cannot finish sooner than this: the API's own
        #: bound on this machine, which ``calls x latency / concurrency`` does not see.
        self.cpu_s = 0.0

    def reset(self) -> None:
        with self._lock:
            self.cpu_s = 0.0

    def handle(self, method: str, path: str, query: Any, headers: Any, body: bytes, *, base_url: str) -> Any:
        started, cpu = time.monotonic(), time.thread_time()
        response = self.app.handle(method, path, query, headers, body, base_url=base_url)
        spent = time.thread_time() - cpu
        with self._lock:
            self.cpu_s += spent
        response.delay_s = max(0.0, self.latency_s - (time.monotonic() - started))
        return response
