"""A page's rows kept as JSON and parsed a batch at a time give exactly what parsing the whole body gives."""

from __future__ import annotations

import httpx
import orjson
import pytest

from metaads.accounts import Account
from metaads.errors import GraphAPIError
from metaads.graph import ClientPolicy, PagingError
from metaads.graph.page_rows import BATCH_ROWS, PageRows, parse_page
from metaads.graph.paging import iter_pages
from metaads.simulator import Simulator
from tests.graph.conftest import ClientFactory, Scripted, ScriptedTransport, all_rows
from tests.graph.windows import lookback


def _row(i: int) -> dict[str, object]:
    return {
        "ad_id": str(i),
        "ad_name": f'Żółta Łódź 😀 {i} "quoted" \\ / \u007f',
        "spend": f"{i}.25",
        "impressions": i * 1000,
        "ratio": i / 7,
        "actions": [{"action_type": "link_click", "value": str(i)}, {"action_type": "like", "value": "1"}],
        "empty": {},
        "none": None,
        "flag": i % 2 == 0,
    }


def test_rows_come_in_order_in_batches_equal_to_the_whole_body_parsed() -> None:
    rows = [_row(i) for i in range(2 * BATCH_ROWS + 37)]
    body = {"data": rows, "paging": {"cursors": {"before": "a", "after": "b"}, "next": "https://x/y?after=b"}}
    content = orjson.dumps(body) + b" \n"
    content = content.replace(b'"actions":', b'\n  "actions" : ')  # whitespace kept inside a row's text

    page = parse_page(content)

    assert page is not None
    data = page["data"]
    assert isinstance(data, PageRows)
    assert len(data) == len(rows)
    batches = list(data.batches())
    assert [len(b) for b in batches] == [BATCH_ROWS, BATCH_ROWS, 37]
    assert [row for batch in batches for row in batch] == orjson.loads(content)["data"]
    assert page["paging"] == body["paging"]


@pytest.mark.parametrize(
    "content",
    [
        b'{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}',
        b'{"data":{"id":"1"}}',
        b'{"data":[{"id":"1"}],"paging":"next"}',
        b'[{"id":"1"}]',
        b'{"data":[{"id":"1"}',
        b"<html>Bad Gateway</html>",
        b"",
    ],
    ids=["error", "data-not-a-list", "paging-not-an-object", "not-an-object", "truncated", "html", "empty"],
)
def test_a_body_that_is_not_a_page_is_left_to_the_whole_parse(content: bytes) -> None:
    assert parse_page(content) is None


def test_an_empty_page_has_no_rows_and_keeps_its_paging() -> None:
    page = parse_page(b'{"data":[],"paging":{"next":"https://x/y?after=c"}}')
    assert page is not None
    data = page["data"]
    assert isinstance(data, PageRows)
    assert len(data) == 0
    assert list(data.batches()) == []
    assert page["paging"] == {"next": "https://x/y?after=c"}


def test_a_row_that_is_not_an_object_is_a_paging_error_naming_the_request(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    bad = Scripted(200, {"data": [{"id": "1"}, 5, {"id": "3"}]}, match=lambda r: r.url.path.endswith("/campaigns"))
    client = make_client(transport=ScriptedTransport(sim.transport(), [bad]), policy=ClientPolicy(page_size=25))
    with pytest.raises(PagingError, match="page without a 'data' list of objects") as caught:
        list(iter_pages(client.session, f"{accounts[0].act_id}/campaigns", {}, account=accounts[0], page_size=25))
    assert "campaigns" in (caught.value.request or "")


def test_an_error_answer_with_status_200_is_still_classified(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    """The page decoder keeps ``data`` and ``paging`` only: a body without ``data`` is parsed whole."""
    error = {"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100}}
    scripted = Scripted(200, error, match=lambda r: r.url.path.endswith("/campaigns"))
    client = make_client(transport=ScriptedTransport(sim.transport(), [scripted]))
    with pytest.raises(GraphAPIError, match="Invalid parameter"):
        list(iter_pages(client.session, f"{accounts[0].act_id}/campaigns", {}, account=accounts[0], page_size=25))


def test_the_simulators_pages_read_in_batches_equal_its_bodies_parsed_whole(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    """Every insights row: the batches' rows equal the bodies' ``data`` as the wire carried them."""
    seen: list[dict[str, object]] = []

    class Recording(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = sim.transport().handle_request(request)
            response.read()
            seen.extend(orjson.loads(response.content).get("data", []))
            return response

    account = accounts[0]
    client = make_client(transport=Recording(), policy=ClientPolicy(page_size=250, max_page_size=250))
    since, until = lookback(client, account, 60)
    rows = all_rows(client.insights(account, since, until, mode="sync"))
    assert len(rows) > 2 * 250  # full pages, each more than one batch
    assert rows == seen
