"""A gate on concurrent API calls: a call holds a slot only while it is on the wire.

The pipeline runs every account in its own thread, so that an account waiting for its quota holds no
worker; what the original design's ``ACCOUNT_GROUP_SIZE`` really bounded (the load on the API and on
our connection pool) is bounded here instead: at most ``slots`` requests are in flight at once. The
gate wraps the httpx transport, so waiting for a quota (``Throttle.wait_turn``) and parsing a page
happen outside it; a slot is taken when the request is sent and given back once the response body has
been read (or the exchange failed).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import httpx


class GatedTransport(httpx.BaseTransport):
    """An httpx transport that lets at most ``slots`` exchanges through ``inner`` at a time."""

    def __init__(self, inner: httpx.BaseTransport, slots: int) -> None:
        if slots < 1:
            raise ValueError("a call gate needs at least one slot")
        self.inner = inner
        self.slots = slots
        self._free = threading.BoundedSemaphore(slots)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._free.acquire()
        try:
            response = self.inner.handle_request(request)
        except BaseException:
            self._free.release()
            raise
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_ReleasingStream(response.stream, self._free.release),
            extensions=response.extensions,
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
