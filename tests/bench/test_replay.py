"""The bench's replayed API: recorded answers by request, credentials aside, misses counted."""

from __future__ import annotations

from collections.abc import Mapping

from bench.replay import ReplayApp

from metaads.simulator.protocol import Response


class Counting:
    """An app that answers with the call's number: a replayed answer shows which call it came from."""

    def __init__(self) -> None:
        self.calls = 0

    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
        *,
        base_url: str,
    ) -> Response:
        self.calls += 1
        return Response(200, [("X-Call", str(self.calls))], f'{{"call":{self.calls}}}'.encode())


def _get(app: ReplayApp, query: dict[str, str], token: str = "t1") -> Response:
    return app.handle("GET", "/v27.0/act_1/insights", query, {"Authorization": f"Bearer {token}"}, b"", base_url="x")


def test_a_replayed_request_gets_its_recorded_answer_without_calling_the_app() -> None:
    inner = Counting()
    app = ReplayApp(inner)
    first = _get(app, {"limit": "500"})
    second = _get(app, {"limit": "500", "after": "abc"})
    app.replaying = True

    again = _get(app, {"after": "abc", "limit": "500", "access_token": "ignored", "appsecret_proof": "x"})

    assert inner.calls == 2
    assert (again.status, again.headers, again.body) == (second.status, second.headers, second.body)
    assert again is not second  # a fresh response: the latency floor sets its own delay on it
    assert first.body != second.body
    assert (app.recorded, app.misses) == (2, 0)


def test_a_request_not_recorded_goes_to_the_app_and_is_counted() -> None:
    inner = Counting()
    app = ReplayApp(inner)
    _get(app, {"limit": "500"})
    app.replaying = True

    _get(app, {"limit": "1000"})
    _get(app, {"limit": "500"}, token="t2")  # another token: another request

    assert inner.calls == 3
    assert app.misses == 2
    assert app.recorded == 1  # replaying records nothing
