"""A gate on concurrent API calls: a call holds a slot only while it is on the wire.

The pipeline runs every account in its own thread, so that an account waiting for its quota holds no
worker; what the original design's ``ACCOUNT_GROUP_SIZE`` really bounded (the load on the API and on
our connection pool) is bounded here instead: at most ``slots`` requests are in flight at once. The
gate wraps the httpx transport, so waiting for a quota (``Throttle.wait_turn``) and parsing a page
happen outside it; a slot is taken when the request is sent and given back once the response body has
been read (or the exchange failed).

When more calls wait than slots are free, the account that made its first call earliest goes first
(calls of no account, such as token checks, before any account), not whoever waited longest. Each
account has one call in flight at a time (cursor paging is sequential), so this does not starve
anyone of throughput; it changes who finishes first. First-come-first-served turned the accounts'
fetches into a round robin that ended them all together, so every load ran at the end of the run
while nothing else was left to do; finishing accounts one group after another lets the first ones
load while the later ones still fetch.

Each response carries how long its request waited for a slot (:data:`WAIT_EXTENSION`, by the client's
clock): the session counts it apart (``gate_wait_s``), so that queueing here is not taken for a slow answer
when paging decides whether to grow the page size.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterator

import httpx

from metaads.clock import Clock, SystemClock

#: The request extension naming the ad account a call is for (set by the session; absent: no account).
ACCOUNT_EXTENSION = "metaads.account"
#: The response extension holding the seconds the request waited for its slot (by the gate's clock).
WAIT_EXTENSION = "metaads.gate_wait_s"


class _RankedSlots:
    """A counting semaphore whose waiters go in order of (rank, arrival) instead of arrival alone."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._cond = threading.Condition()
        self._waiting: list[tuple[int, int]] = []
        self._arrivals = itertools.count()

    def acquire(self, rank: int) -> None:
        with self._cond:
            me = (rank, next(self._arrivals))
            heapq.heappush(self._waiting, me)
            while not (self._free and self._waiting[0] == me):
                self._cond.wait()
            heapq.heappop(self._waiting)
            self._free -= 1
            if self._free and self._waiting:
                self._cond.notify_all()  # the next in line may go too

    def release(self) -> None:
        with self._cond:
            self._free += 1
            self._cond.notify_all()


class GatedTransport(httpx.BaseTransport):
    """An httpx transport that lets at most ``slots`` exchanges through ``inner`` at a time."""

    def __init__(self, inner: httpx.BaseTransport, slots: int, *, clock: Clock | None = None) -> None:
        if slots < 1:
            raise ValueError("a call gate needs at least one slot")
        self.inner = inner
        self.slots = slots
        self._monotonic = (clock or SystemClock()).monotonic
        self._slots = _RankedSlots(slots)
        self._ranks: dict[str, int] = {}
        self._lock = threading.Lock()

    def _rank(self, request: httpx.Request) -> int:
        account = request.extensions.get(ACCOUNT_EXTENSION)
        if account is None:
            return -1
        with self._lock:
            return self._ranks.setdefault(str(account), len(self._ranks))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        before = self._monotonic()
        self._slots.acquire(self._rank(request))
        waited = self._monotonic() - before
        try:
            response = self.inner.handle_request(request)
        except BaseException:
            self._slots.release()
            raise
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_ReleasingStream(response.stream, self._slots.release),
            extensions={**response.extensions, WAIT_EXTENSION: waited},
        )

    def close(self) -> None:
        self.inner.close()

    def __repr__(self) -> str:
        return f"GatedTransport({self.slots} slots)"


class _ReleasingStream(httpx.SyncByteStream):
    """The response body; closing it (httpx does once it is read) gives the slot back, once."""

    def __init__(self, inner: httpx.SyncByteStream | httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release = release
        self._lock = threading.Lock()
        self._released = False

    def __iter__(self) -> Iterator[bytes]:
        assert isinstance(self._inner, httpx.SyncByteStream)
        yield from self._inner

    def close(self) -> None:
        try:
            if isinstance(self._inner, httpx.SyncByteStream):
                self._inner.close()
        finally:
            with self._lock:
                released, self._released = self._released, True
            if not released:
                self._release()
