"""Paging: every row exactly once, empty pages followed, loops detected, ``limit`` halved on code 1."""

from __future__ import annotations

from datetime import timedelta

import httpx
import orjson
import pytest

from metaads.accounts import Account
from metaads.clock import FakeClock
from metaads.errors import DataTooLargeError
from metaads.graph import ClientPolicy, GraphClient, PagingError
from metaads.graph.gate import GatedTransport
from metaads.graph.session import split_url
from metaads.simulator import Simulator
from tests.graph.conftest import ClientFactory, Scripted, ScriptedTransport, all_rows, by_key, row_key, truth
from tests.graph.windows import lookback

pytestmark = pytest.mark.timeout(60)


def test_paging_thousands_of_rows_over_http_equals_ground_truth_row_for_row(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    account = accounts[0]
    with sim.serve(port=0) as server:
        client = make_client(base_url=server.base_url, policy=ClientPolicy(page_size=200, max_page_size=200))
        since, until = lookback(client, account, 200)
        rows = all_rows(client.insights(account, since, until, mode="sync"))
    expected = truth(sim, account, since, until)
    assert len(rows) > 2000
    assert len({row_key(r) for r in rows}) == len(rows), "a row came twice"
    assert by_key(rows) == expected
    stats = client.stats(account)
    assert stats.rows == len(rows)
    assert stats.pages == -(-len(rows) // 200)


def test_empty_pages_that_have_next_do_not_end_paging(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    sim.faults.empty_page_rate = 0.4
    client = make_client(policy=ClientPolicy(page_size=50, max_page_size=50))
    since, until = lookback(client, accounts[1], 20)
    rows = all_rows(client.insights(accounts[1], since, until))
    expected = truth(sim, accounts[1], since, until)
    assert by_key(rows) == expected
    assert client.stats(accounts[1]).pages > -(-len(rows) // 50), "no empty page was served"


class RepeatingNextTransport(httpx.BaseTransport):
    """The simulator, except that from the second page on ``paging.next`` points back to page two."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.first_next: str | None = None
        self.pages = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        body = orjson.loads(response.content)
        if "paging" not in body or "next" not in body["paging"]:
            return response
        self.pages += 1
        if self.first_next is None:
            self.first_next = body["paging"]["next"]
        else:
            body["paging"]["next"] = self.first_next
        return httpx.Response(response.status_code, json=body, headers=dict(response.headers))


def test_a_next_link_seen_before_is_a_paging_loop_error(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    transport = RepeatingNextTransport(sim.transport())
    client = make_client(transport=transport, policy=ClientPolicy(page_size=25))
    since, until = lookback(client, accounts[0], 10)
    with pytest.raises(PagingError, match="paging loop") as caught:
        all_rows(client.insights(accounts[0], since, until))
    assert caught.value.account_id == accounts[0].id
    assert transport.pages == 2, "the loop must be caught at its first repeat"


def test_reduce_the_amount_of_data_halves_limit_until_the_page_fits(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    sim.faults.max_rows_per_response = 100
    client = make_client(policy=ClientPolicy(page_size=500, min_page_size=25))
    since, until = lookback(client, accounts[2], 15)
    rows = all_rows(client.insights(accounts[2], since, until))
    expected = truth(sim, accounts[2], since, until)
    assert by_key(rows) == expected
    stats = client.stats(accounts[2])
    assert stats.limit_halvings == 3  # 500 -> 250 -> 125 -> 62
    assert stats.retries == 0


class LimitLog(httpx.BaseTransport):
    """The simulator, noting the ``limit`` of every insights page asked for."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.limits: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/insights") and "limit" in request.url.params:
            self.limits.append(int(request.url.params["limit"]))
        return self.inner.handle_request(request)


def test_page_size_doubles_while_answers_are_fast_and_never_grows_back_past_a_too_large_limit(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    transport = LimitLog(sim.transport())
    client = make_client(transport=transport, policy=ClientPolicy(page_size=25, max_page_size=200))
    since, until = lookback(client, accounts[2], 30)
    rows = all_rows(client.insights(accounts[2], since, until, mode="sync"))
    assert by_key(rows) == truth(sim, accounts[2], since, until)
    assert transport.limits[:4] == [25, 50, 100, 200]
    assert set(transport.limits[4:]) == {200}, "the cap is kept"
    assert client.stats(accounts[2]).limit_growths == 3

    sim.faults.max_rows_per_response = 60  # "reduce the amount of data" above 60 rows
    transport.limits.clear()
    rows = all_rows(client.insights(accounts[2], since, until, mode="sync"))
    assert by_key(rows) == truth(sim, accounts[2], since, until)
    # 25, 50, 100 (too large) -> 50, and no growth past it again.
    assert transport.limits[:4] == [25, 50, 100, 50]
    assert set(transport.limits[4:]) == {50}


def test_waiting_for_a_call_slot_is_not_counted_as_a_slow_answer(
    sim: Simulator, accounts: list[Account], clock: FakeClock
) -> None:
    transport = LimitLog(sim.transport())
    gate = GatedTransport(transport, 1, clock=clock)
    acquire = gate._slots.acquire

    def other_calls_hold_the_slot_for_six_seconds(rank: int) -> None:
        clock.advance(6.0)  # past page_grow_below_s (5 s), spent before the request is even sent
        acquire(rank)

    gate._slots.acquire = other_calls_hold_the_slot_for_six_seconds  # type: ignore[method-assign]
    policy = ClientPolicy(page_size=25, max_page_size=200)
    with httpx.Client(transport=gate) as http:
        client = GraphClient(
            base_url="https://graph.facebook.com", tokens=list(sim.tokens), policy=policy, clock=clock, http=http
        )
        since, until = lookback(client, accounts[2], 30)
        rows = all_rows(client.insights(accounts[2], since, until, mode="sync"))
    assert by_key(rows) == truth(sim, accounts[2], since, until)
    assert transport.limits[:4] == [25, 50, 100, 200]
    assert client.stats(accounts[2]).gate_wait_s >= 6.0 * len(transport.limits)


def _days_in(request: httpx.Request) -> int:
    raw = request.url.params.get("time_range")
    if raw is None:
        return 0
    span = orjson.loads(raw)
    from datetime import date

    return (date.fromisoformat(span["until"]) - date.fromisoformat(span["since"])).days + 1


def test_too_much_data_at_smallest_limit_splits_the_date_range(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    # The real API answers code 1 for heavy ranges whatever the limit: script that for ranges > 4 days.
    reduce = {
        "error": {
            "message": "Please reduce the amount of data you're asking for, then retry your request",
            "type": "OAuthException",
            "code": 1,
            "fbtrace_id": "Ax1",
        }
    }
    transport = ScriptedTransport(sim.transport(), [Scripted(500, reduce, times=1000, match=lambda r: _days_in(r) > 4)])
    client = make_client(transport=transport, policy=ClientPolicy(page_size=100, min_page_size=50))
    since, until = lookback(client, accounts[0], 16)
    rows = all_rows(client.insights(accounts[0], since, until))
    expected = truth(sim, accounts[0], since, until)
    assert by_key(rows) == expected
    stats = client.stats(accounts[0])
    assert stats.range_splits == 3  # 16 days -> 8 + 8 -> 4 + 4 + 4 + 4
    assert stats.limit_halvings == 3  # once per range that was too big: 100 -> 50, then at the floor


def test_too_much_data_for_a_single_day_is_raised(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory, clock: FakeClock
) -> None:
    sim.faults.max_rows_per_response = 10
    client = make_client(policy=ClientPolicy(page_size=100, min_page_size=50))
    today = client.local_today(accounts[0])
    with pytest.raises(DataTooLargeError) as caught:
        all_rows(client.insights(accounts[0], today - timedelta(days=1), today - timedelta(days=1)))
    assert caught.value.code == 1
    assert caught.value.account_id == accounts[0].id


class TokenInNextTransport(httpx.BaseTransport):
    """The simulator, with ``paging.next`` carrying the token in the URL as Meta's does."""

    def __init__(self, inner: httpx.BaseTransport, token: str) -> None:
        self.inner = inner
        self.token = token
        self.urls: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        response = self.inner.handle_request(request)
        response.read()
        body = orjson.loads(response.content)
        if "next" not in body.get("paging", {}):
            return response
        body["paging"]["next"] += f"&access_token={self.token}&appsecret_proof=abc123"
        return httpx.Response(response.status_code, json=body, headers=dict(response.headers))


def test_token_in_a_next_link_is_stripped_and_never_sent_in_a_url(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    transport = TokenInNextTransport(sim.transport(), sim.tokens[0])
    client = make_client(transport=transport, policy=ClientPolicy(page_size=25))
    since, until = lookback(client, accounts[0], 10)
    rows = all_rows(client.insights(accounts[0], since, until))
    assert by_key(rows) == truth(sim, accounts[0], since, until)
    assert len(transport.urls) > 3
    assert not any("access_token" in url or "appsecret_proof" in url for url in transport.urls)


def test_split_url_keeps_the_path_below_the_version_and_drops_credentials() -> None:
    path, params = split_url(
        "https://graph.facebook.com/v27.0/act_1/insights?level=ad&limit=25"
        "&access_token=EAAtoken&appsecret_proof=abc&after=MjQZD"
    )
    assert path == "act_1/insights"
    assert params == {"level": "ad", "limit": "25", "after": "MjQZD"}


class SlowAnswers(LimitLog):
    """Every insights answer takes ``seconds`` on the shared fake clock."""

    def __init__(self, inner: httpx.BaseTransport, clock: FakeClock, seconds: float) -> None:
        super().__init__(inner)
        self.clock = clock
        self.seconds = seconds

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/insights"):
            self.clock.advance(self.seconds)
        return super().handle_request(request)


def test_page_size_stays_when_answers_are_slow(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory, clock: FakeClock
) -> None:
    transport = SlowAnswers(sim.transport(), clock, seconds=6.0)
    client = make_client(
        transport=transport, policy=ClientPolicy(page_size=25, max_page_size=200, page_grow_below_s=5.0)
    )
    since, until = lookback(client, accounts[2], 30)
    rows = all_rows(client.insights(accounts[2], since, until, mode="sync"))
    assert by_key(rows) == truth(sim, accounts[2], since, until)
    assert len(transport.limits) > 1
    assert set(transport.limits) == {25}
