"""Cursor paging over ``paging.next``, with loop detection, ``limit`` halving and growth.

Unlike Meta's SDK, which stops at the first empty page, we follow ``next`` until it is absent: the API
may return an empty page that still has ``next`` (``graph-api-spec.md`` "Paging").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from functools import partial

from metaads.accounts import Account
from metaads.errors import DataTooLargeError, PagingError
from metaads.graph.page_rows import PageRows
from metaads.graph.session import GraphSession, split_url

logger = logging.getLogger(__name__)


def iter_pages(
    session: GraphSession, path: str, params: Mapping[str, str], *, account: Account | None, page_size: int
) -> Iterator[list[dict[str, object]]]:
    """Yield the non-empty pages of rows of a paged edge, following ``paging.next`` to the end.

    On "reduce the amount of data" the page is asked for again with half the ``limit``, down to the
    policy's ``min_page_size``; below that the error propagates (the caller splits its date range).
    While full pages come back fast, ``limit`` doubles up to ``max_page_size`` (never back above a
    limit the API found too large).

    Raises:
        PagingError: a repeated cursor (a loop), too many consecutive empty pages or a malformed page.
    """
    policy = session.policy
    account_id = account.id if account is not None else None
    limit = page_size
    ceiling = max(page_size, policy.max_page_size)
    current_path, current = path, {**params, "limit": str(limit)}
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = {_page_key(current_path, current)}
    empty_run = 0
    # The page slot this listing holds while its page is parsed and consumed (metaads.graph.pages).
    hold = session.pages.hold()
    try:
        while True:
            started, waits_before = session.clock.monotonic(), _waits_s(session, account_id)
            try:
                body = session.call("GET", current_path, current, account=account, page=hold)
            except DataTooLargeError:
                if limit <= policy.min_page_size:
                    raise
                ceiling = limit // 2
                limit = max(policy.min_page_size, limit // 2)
                current = {**current, "limit": str(limit)}
                session.stats.add(account_id, limit_halvings=1)
                logger.info("account %s: response too large, asking again with limit=%d", account_id or "-", limit)
                continue
            answered_in = session.clock.monotonic() - started - (_waits_s(session, account_id) - waits_before)
            data = body.get("data")
            if not isinstance(data, PageRows) and (
                not isinstance(data, list) or not all(isinstance(row, dict) for row in data)
            ):
                raise _malformed(session, current_path, current, account_id)
            next_url = _next_url(body)
            rows = len(data)
            session.stats.add(account_id, pages=1, rows=rows)
            if data:
                empty_run = 0
                if isinstance(data, PageRows):
                    yield from _batches(data, partial(_malformed, session, current_path, current, account_id))
                else:
                    yield data
            else:
                empty_run += 1
                if empty_run > policy.max_empty_pages:
                    raise PagingError(
                        f"{empty_run} consecutive empty pages that all have 'next'",
                        request=session.describe("GET", current_path, current),
                        account_id=account_id,
                    )
            # Let go of the page (and its slot) before asking for the next one: otherwise every account
            # holds a page of parsed rows while it waits for its quota and the wire.
            del body, data
            hold.give_back()
            if next_url is None:
                return
            if rows >= limit and limit < ceiling and answered_in < policy.page_grow_below_s:
                limit = min(ceiling, limit * 2)
                session.stats.add(account_id, limit_growths=1)
            current_path, current = split_url(next_url)
            # Our limit wins over the one echoed in ``next`` (it may have been halved since).
            current["limit"] = str(limit)
            key = _page_key(current_path, current)
            if key in seen:
                raise PagingError(
                    "paging loop: the API sent a 'next' page it had already sent",
                    request=session.describe("GET", current_path, current),
                    account_id=account_id,
                )
            seen.add(key)
    finally:
        hold.give_back()


def _waits_s(session: GraphSession, account_id: str | None) -> float:
    """Seconds this account's calls spent waiting (quotas, back-off, call and page slots) so far: not the
    API's answer time."""
    stats = session.stats.get(account_id)
    return stats.throttled_s + stats.backoff_s + stats.gate_wait_s + stats.page_wait_s


def _batches(data: PageRows, malformed: Callable[[], PagingError]) -> Iterator[list[dict[str, object]]]:
    """A page's rows a batch at a time: its consumers take them in order and keep none."""
    try:
        yield from data.batches()
    except ValueError:  # a row that is not an object
        raise malformed() from None


def _malformed(session: GraphSession, path: str, params: Mapping[str, str], account_id: str | None) -> PagingError:
    return PagingError(
        "page without a 'data' list of objects", request=session.describe("GET", path, params), account_id=account_id
    )


def _next_url(body: Mapping[str, object]) -> str | None:
    paging = body.get("paging")
    if not isinstance(paging, dict):
        return None
    next_url = paging.get("next")
    return next_url if isinstance(next_url, str) and next_url else None


def _page_key(path: str, params: Mapping[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    # The limit is ours to change, so it is not part of a page's identity.
    return path, tuple(sorted((k, v) for k, v in params.items() if k != "limit"))
