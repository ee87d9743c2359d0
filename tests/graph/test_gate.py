"""The call gate: at most N requests in flight; a slot is given back once the body has been read."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from metaads.clock import FakeClock
from metaads.graph.gate import ACCOUNT_EXTENSION, WAIT_EXTENSION, GatedTransport

pytestmark = pytest.mark.timeout(60)


class CountingTransport(httpx.BaseTransport):
    """Answers after the test lets it; records the most requests it ever had in flight."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0
        self.release = threading.Semaphore(0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        self.release.acquire()
        with self.lock:
            self.in_flight -= 1
        return httpx.Response(200, json={"ok": True})


@pytest.mark.parametrize("slots", [1, 3], ids=["one-slot", "three-slots"])
def test_gate_lets_at_most_its_slots_through_at_once(slots: int) -> None:
    inner = CountingTransport()
    with (
        httpx.Client(transport=GatedTransport(inner, slots), base_url="http://graph.test") as client,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        futures = [pool.submit(client.get, f"/{i}") for i in range(8)]
        # Nothing is answered until the gate is full: without a gate all 8 would be in flight by then.
        full = threading.Event()
        for _ in range(3000):
            with inner.lock:
                if inner.in_flight >= slots:
                    full.set()
                    break
            full.wait(0.01)
        assert full.is_set(), "the gate never filled"
        for _ in range(8):
            inner.release.release()
        assert all(f.result(timeout=30).json() == {"ok": True} for f in futures)
    assert inner.most == slots


def test_a_failed_exchange_gives_its_slot_back() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with httpx.Client(transport=GatedTransport(httpx.MockTransport(fail), 1)) as client:
        for _ in range(3):  # with the slot lost, the second attempt would block for ever
            with pytest.raises(httpx.ConnectError):
                client.get("http://graph.test/x")


class OrderRecordingTransport(httpx.BaseTransport):
    """Records which account each request was for, in the order they went through; the first blocks."""

    def __init__(self) -> None:
        self.order: list[str | None] = []
        self.unblock = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        account = request.extensions.get(ACCOUNT_EXTENSION)
        self.order.append(account)
        if account == "blocker":
            self.unblock.wait(30)
        return httpx.Response(200, json={"ok": True})


def test_waiting_calls_go_in_order_of_their_accounts_first_call_not_of_arrival() -> None:
    inner = OrderRecordingTransport()
    gate = GatedTransport(inner, 1)
    with httpx.Client(transport=gate, base_url="http://graph.test") as client, ThreadPoolExecutor(8) as pool:

        def call(account: str | None) -> None:
            client.get("/x", extensions={ACCOUNT_EXTENSION: account} if account else {})

        for account in ("a", "b", "c"):  # their first calls, in this order, rank them
            call(account)
        blocker = pool.submit(call, "blocker")
        futures = []
        for account in ("c", "b", None, "a"):  # then they wait behind the one slot, in the opposite order
            futures.append(pool.submit(call, account))
            for _ in range(3000):  # each in the queue before the next one arrives (the gate's own queue)
                if len(gate._slots._waiting) == len(futures):
                    break
                threading.Event().wait(0.01)
        assert len(gate._slots._waiting) == 4
        inner.unblock.set()
        for future in [blocker, *futures]:
            future.result(timeout=30)
    assert inner.order == ["a", "b", "c", "blocker", None, "a", "b", "c"]


def test_each_response_says_how_long_its_request_waited_for_a_slot_by_the_gates_clock() -> None:
    clock = FakeClock()
    inner = OrderRecordingTransport()
    gate = GatedTransport(inner, 1, clock=clock)
    with httpx.Client(transport=gate, base_url="http://graph.test") as client, ThreadPoolExecutor(2) as pool:
        first = pool.submit(client.get, "/x", extensions={ACCOUNT_EXTENSION: "blocker"})
        for _ in range(3000):  # the blocker holds the one slot
            if inner.order:
                break
            threading.Event().wait(0.01)
        second = pool.submit(client.get, "/x", extensions={ACCOUNT_EXTENSION: "a"})
        for _ in range(3000):  # the second request queues for the slot
            if gate._slots._waiting:
                break
            threading.Event().wait(0.01)
        clock.advance(7.5)
        inner.unblock.set()
        assert first.result(timeout=30).extensions[WAIT_EXTENSION] == 0
        assert second.result(timeout=30).extensions[WAIT_EXTENSION] == 7.5
