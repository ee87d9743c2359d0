"""After a run, one message lists what needs a person; it reaches a real (local) webhook via Apprise."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from metaads.observability.attention import alert_after_run
from metaads.pipeline import Pipeline
from tests.integration.conftest import World
from tests.webhook import Webhook


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


def test_failed_account_and_expiring_token_reach_the_webhook_in_one_message(
    world: World, make_pipeline: Callable[..., Pipeline], webhook: Webhook
) -> None:
    accounts = world.sim.account_ids
    readable = world.sim.add_token(accounts=accounts[:2])  # the third account answers (#200)
    expiring = world.sim.add_token(expires_at=world.clock.now() + timedelta(days=5))
    pipeline = make_pipeline(
        GRAPH_API_TOKENS=f"{readable},{expiring}",
        ALERT_URLS=webhook.url,
        META_ACCOUNTS=",".join(f"act_{a}:bm_0{i + 1}:Shop {i + 1}" for i, a in enumerate(accounts)),
    )
    # Account i uses token i mod 2: accounts 1 and 3 use the narrow token, account 2 the expiring one.
    summary = pipeline.run()
    assert alert_after_run(pipeline, summary)

    failed = [r.account.label for r in summary.failed]
    assert failed == ["Shop 3"]
    assert len(webhook.received) == 1
    message = webhook.received[0]
    title, body = str(message["title"]), str(message["message"])
    assert "1 account failed" in title
    assert "token needs attention" in title
    assert f"Shop 3 (act_{accounts[2]})" in body
    assert "(#200)" in body
    assert "a retry cannot help" in body
    assert f"token …{expiring[-4:]}" in body
    assert "expires on" in body
    for token in (readable, expiring):
        assert token not in json.dumps(message)
    assert {c.hint for c in summary.token_checks} == {f"…{readable[-4:]}", f"…{expiring[-4:]}"}


def test_tokens_are_checked_once_a_day_and_a_clean_run_sends_nothing(
    world: World, make_pipeline: Callable[..., Pipeline], webhook: Webhook
) -> None:
    pipeline = make_pipeline(ALERT_URLS=webhook.url)
    first = pipeline.run()
    assert not alert_after_run(pipeline, first)
    assert first.ok
    assert len(first.token_checks) == len(world.sim.tokens)
    world.clock.advance(3600)
    second = pipeline.run()
    assert not alert_after_run(pipeline, second)
    assert second.ok
    assert second.token_checks == [], "already checked today"
    world.clock.advance(24 * 3600)
    third = pipeline.run()
    assert not alert_after_run(pipeline, third)
    assert len(third.token_checks) == len(world.sim.tokens), "a new UTC day checks again"
    assert webhook.received == [], "nothing needed a person"


def test_an_account_that_stopped_loading_is_reported_stale(
    world: World, make_pipeline: Callable[..., Pipeline], webhook: Webhook
) -> None:
    accounts = world.sim.account_ids
    pipeline = make_pipeline(ALERT_URLS=webhook.url, STALE_AFTER_HOURS="30")
    assert pipeline.run().ok
    world.clock.advance(31 * 3600)
    for token in world.sim.tokens:  # from now on the first account cannot be read by any token
        world.sim.invalidate_token(token)
    fresh = world.sim.add_token(accounts=accounts[1:])
    later = make_pipeline(ALERT_URLS=webhook.url, STALE_AFTER_HOURS="30", GRAPH_API_TOKENS=fresh)
    assert alert_after_run(later, later.run())
    body = str(webhook.received[-1]["message"])
    assert "account stale" in body
    assert f"(act_{accounts[0]})" in body
    assert "31 h ago" in body
    assert f"(act_{accounts[1]})" not in body.split("account stale")[1]
