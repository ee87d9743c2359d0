"""Page memory (issue 12): a page is never parsed whole (its rows are, a batch at a time), its body is freed
as soon as its rows are consumed, and the pages read and held at once are bounded across threads
(:mod:`metaads.graph.pages`). Structural, not timed."""

from __future__ import annotations

import gc
import logging
import threading
import tracemalloc
from collections.abc import Callable, Iterator

import httpx
import orjson
import pytest

from metaads.clock import FakeClock
from metaads.errors import GraphAPIError
from metaads.graph import ClientPolicy, GraphClient
from metaads.graph.page_rows import BATCH_ROWS
from metaads.graph.pages import PageSlots
from metaads.graph.paging import iter_pages

pytestmark = pytest.mark.timeout(60)

ROWS = 2000
ROW_PADDING = "x" * 2000  # ~2 KB a row: a 4 MB body


class _MadeOnTheFly(httpx.SyncByteStream):
    """A body produced while it is read, as from a socket: the transport keeps no copy of it."""

    def __init__(self, chunks: Callable[[], Iterator[bytes]], on_read: Callable[[], None] | None = None) -> None:
        self._chunks = chunks
        self._on_read = on_read

    def __iter__(self) -> Iterator[bytes]:
        if self._on_read is not None:
            self._on_read()
        yield from self._chunks()


def _padded_row(i: int) -> bytes:
    return orjson.dumps({"id": str(i), "name": ROW_PADDING})


def _insights_like_row(i: int) -> bytes:
    """An ad-day with Meta's action lists: many small objects, as in a real insights page."""
    actions = [{"action_type": f"offsite_conversion.custom.{k}", "value": str(k * i)} for k in range(20)]
    lists = {"actions": actions, "action_values": actions, "cost_per_action_type": actions}
    return orjson.dumps({"ad_id": str(i), "date_start": "2026-03-01", "spend": "12.34", **lists})


def _page_chunks(rows: int, next_url: str | None, row: Callable[[int], bytes] = _padded_row) -> Iterator[bytes]:
    yield b'{"data":['
    for i in range(rows):
        yield (b"," if i else b"") + row(i)
    paging = {"next": next_url} if next_url else {}
    yield b'],"paging":' + orjson.dumps(paging) + b"}"


class PagedTransport(httpx.BaseTransport):
    """``pages`` pages of ``rows`` rows under any path, each body made on the fly."""

    def __init__(self, pages: int, rows: int = ROWS, row: Callable[[int], bytes] = _padded_row) -> None:
        self.pages = pages
        self.rows = rows
        self.row = row
        self.lock = threading.Lock()
        self.arrived: list[str] = []  # request paths, as they arrive
        self.bodies_read: list[str] = []  # paths whose body reading started
        self.on_arrival: Callable[[str], None] | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        number = int(request.url.params.get("after", "0"))
        with self.lock:
            self.arrived.append(path)
        if self.on_arrival is not None:
            self.on_arrival(path)
        following = f"https://graph.test/v27.0{path.split('/v27.0', 1)[-1]}?after={number + 1}"
        next_url = following if number + 1 < self.pages else None

        def read() -> None:
            with self.lock:
                self.bodies_read.append(path)

        return httpx.Response(
            200,
            stream=_MadeOnTheFly(lambda: _page_chunks(self.rows, next_url, self.row), read),
            headers={"X-Test": "1"},
        )


def _client(transport: httpx.BaseTransport, **policy: int) -> GraphClient:
    return GraphClient(
        base_url="https://graph.test",
        version="v27.0",
        tokens=["token-a"],
        policy=ClientPolicy(**policy),
        clock=FakeClock(),
        transport=transport,
    )


def test_a_page_body_is_freed_once_parsed_without_waiting_for_the_garbage_collector() -> None:
    """httpx's response and its stream refer to each other: a body left on the response (``.content``)
    lives until the cyclic collector runs. The session must not leave it there."""
    with _client(PagedTransport(pages=3)) as client:
        gc.collect()
        gc.disable()
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            held_with_a_page: list[int] = []
            rows = 0
            for batch in iter_pages(client.session, "act_1/things", {}, account=None, page_size=ROWS):
                rows += len(batch)
                held_with_a_page.append(tracemalloc.get_traced_memory()[0] - baseline)
                del batch
            held = tracemalloc.get_traced_memory()[0] - baseline
        finally:
            tracemalloc.stop()
            gc.enable()
    assert rows == 3 * ROWS
    # Each body is 4 MB: bodies kept alive would add up page after page, and stay after the last one.
    assert max(held_with_a_page) - min(held_with_a_page) < 1_000_000, held_with_a_page
    assert held < 1_000_000, f"{held:,} bytes still held after the pages were consumed"


def test_a_page_of_many_small_objects_is_parsed_a_batch_at_a_time_never_whole() -> None:
    """Parsed whole, a page's objects weigh many times its JSON; its consumers keep no row, so a page
    is held as its body and parsed a batch at a time (metaads.graph.page_rows)."""
    rows = 1000
    body = b"".join(_page_chunks(rows, None, _insights_like_row))
    tracemalloc.start()
    try:
        whole = orjson.loads(body)
        parsed_whole = tracemalloc.get_traced_memory()[0]
        del whole, body
        with _client(PagedTransport(pages=1, rows=rows, row=_insights_like_row)) as client:
            gc.collect()
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            sizes = []
            for batch in iter_pages(client.session, "act_1/things", {}, account=None, page_size=rows):
                sizes.append(len(batch))
                del batch  # as the pipeline's consumers do: not held while the next batch is parsed
            peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert sum(sizes) == rows
    assert max(sizes) <= BATCH_ROWS
    # the body (read whole from the wire) and one batch of objects, not a whole page of them
    assert peak < parsed_whole / 2, (f"{peak:,}", f"{parsed_whole:,}")


def test_one_slot_an_answer_from_another_thread_waits_unread_until_the_page_in_hand_is_consumed() -> None:
    transport = PagedTransport(pages=2, rows=10)
    with _client(transport, parsed_pages=1) as client:
        waiting = threading.Event()
        free = client.session.pages._free
        assert free is not None

        class Watched:
            """The slot semaphore, telling the test when someone has to wait for it."""

            def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
                if free.acquire(blocking=False):
                    return True
                waiting.set()
                return free.acquire(timeout=timeout)

            def release(self) -> None:
                free.release()

        client.session.pages._free = Watched()  # type: ignore[assignment]
        other_rows: list[int] = []
        other = threading.Thread(
            target=lambda: other_rows.extend(
                len(p) for p in iter_pages(client.session, "act_2/things", {}, account=None, page_size=10)
            )
        )
        mine = iter_pages(client.session, "act_1/things", {}, account=None, page_size=10)
        first = next(mine)  # this thread now holds a page (and the only slot)
        other.start()
        assert waiting.wait(30), "the other thread never had to wait for the slot"
        with transport.lock:
            assert "/v27.0/act_2/things" in transport.arrived, "its request was sent (the wire does not wait)"
            assert "/v27.0/act_2/things" not in transport.bodies_read, "its body was read while a page was held"
        assert len(first) == 10
        del first
        rest = list(mine)  # asking for the next page gives the slot back; the other thread goes on
        other.join(30)
        assert not other.is_alive()
    assert [len(p) for p in rest] == [10]
    assert other_rows == [10, 10]


def test_listings_give_their_slot_back_when_finished_abandoned_or_failed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="metaads.graph.pages")
    transport = PagedTransport(pages=3, rows=5)
    with _client(transport, parsed_pages=1) as client:
        session = client.session
        session.pages.wait_s = 0.01  # a slot kept by mistake shows as a warning, not as a hang

        def take_elsewhere() -> None:
            hold = session.pages.hold()
            thread = threading.Thread(target=hold.take)
            thread.start()
            thread.join(30)
            hold.give_back()

        assert sum(len(p) for p in iter_pages(session, "act_1/things", {}, account=None, page_size=5)) == 15
        take_elsewhere()
        pages = iter_pages(session, "act_1/things", {}, account=None, page_size=5)
        next(pages)
        pages.close()  # a consumer that stops after the first page
        take_elsewhere()

        def refused(request: httpx.Request) -> httpx.Response:
            error = {"message": "Invalid parameter", "type": "OAuthException", "code": 100}
            return httpx.Response(400, json={"error": error})

        with _client(httpx.MockTransport(refused), parsed_pages=1) as failing:
            failing.session.pages = session.pages  # the same slots
            hold = session.pages.hold()
            with pytest.raises(GraphAPIError, match="Invalid parameter"):
                failing.session.call("GET", "act_1/things", {}, page=hold)
            assert not hold.held, "a failed call kept its page slot"
        take_elsewhere()
    assert not [r.getMessage() for r in caplog.records], "a slot was kept after its listing ended"


def test_a_thread_holding_a_page_never_waits_for_a_second_slot(caplog: pytest.LogCaptureFixture) -> None:
    slots = PageSlots(1, wait_s=0.01)
    outer, inner = slots.hold(), slots.hold()
    outer.take()
    with caplog.at_level(logging.WARNING, logger="metaads.graph.pages"):
        inner.take()  # e.g. a consumer paging through another listing while it holds a page
    assert inner.held
    assert outer.held
    assert not caplog.records
    inner.give_back()
    outer.give_back()
    outer.give_back()  # idempotent: the slot is not released twice
    again = slots.hold()
    again.take()
    assert again.held
    again.give_back()


def test_a_slot_kept_too_long_is_waited_for_at_most_wait_s_then_the_page_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    slots = PageSlots(1, wait_s=0.01)
    kept = slots.hold()
    kept.take()
    late = slots.hold()
    with caplog.at_level(logging.WARNING, logger="metaads.graph.pages"):
        thread = threading.Thread(target=late.take)
        thread.start()
        thread.join(30)
    assert late.held
    assert any("no page slot free" in r.getMessage() for r in caplog.records)
    late.give_back()  # it had no slot: giving back releases nothing
    kept.give_back()
    free = slots._free
    assert free is not None
    assert free.acquire(blocking=False)
    assert not free.acquire(blocking=False), "a slot was released twice"
    free.release()


def test_no_bound_with_zero_slots() -> None:
    slots = PageSlots(0)
    holds = [slots.hold() for _ in range(3)]
    for hold in holds:
        hold.take()
    assert all(h.held for h in holds)
    with pytest.raises(ValueError, match="negative"):
        PageSlots(-1)
