"""Tokens: account i uses token i mod T, invalid tokens fail over, appsecret_proof, permission denied."""

from __future__ import annotations

import logging

import pytest

from metaads.accounts import Account
from metaads.clock import FakeClock
from metaads.errors import BadRequestError, NoUsableTokenError, PermissionDeniedError
from metaads.graph import GraphClient, TokenPool
from metaads.simulator import Simulator, SimulatorConfig
from tests.graph.conftest import (
    ClientFactory,
    Scripted,
    ScriptedTransport,
    accounts_of,
    all_rows,
    by_key,
    truth,
)
from tests.graph.windows import lookback

pytestmark = pytest.mark.timeout(60)


def test_account_i_uses_token_i_mod_t(sim: Simulator, accounts: list[Account], clock: FakeClock) -> None:
    tokens = list(sim.tokens)[:3]
    transport = ScriptedTransport(sim.transport())
    with GraphClient(tokens=tokens, clock=clock, transport=transport) as client:
        for account in accounts:
            client.account_info(account)
    used = [token for _, _, token in transport.requests]
    assert used == [tokens[i % 3] for i in range(len(accounts))]


def test_invalid_token_fails_over_to_the_next_healthy_token_and_is_reported(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    bad = sim.tokens[0]
    sim.invalidate_token(bad, subcode=463)
    transport = ScriptedTransport(sim.transport())
    client = make_client(transport=transport)
    account = accounts[0]
    with caplog.at_level(logging.WARNING):
        since, until = lookback(client, account, 7)
        rows = all_rows(client.insights(account, since, until))
    assert by_key(rows) == truth(sim, account, since, until)
    assert client.stats(account).token_failovers == 1
    assert client.pool.usable_count() == len(sim.tokens) - 1
    assert [f.to_slot for f in client.pool.failovers(account.id)] == [1]
    assert [token for _, _, token in transport.requests][0] == bad
    assert {token for _, _, token in transport.requests[1:]} == {sim.tokens[1]}
    warnings = " ".join(r.getMessage() for r in caplog.records)
    assert f"…{bad[-4:]}" in warnings
    assert "switching" in warnings
    assert "invalid" in repr(client.pool)


def test_retired_token_is_skipped_by_every_account_without_another_failed_call(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    sim.invalidate_token(sim.tokens[0], subcode=467)
    transport = ScriptedTransport(sim.transport())
    client = make_client(tokens=[sim.tokens[0], sim.tokens[1]], transport=transport)
    client.account_info(accounts[0])
    client.account_info(accounts[2])  # also assigned token 0 (2 mod 2)
    assert [token for _, _, token in transport.requests] == [sim.tokens[0], sim.tokens[1], sim.tokens[1]]


def test_expired_token_among_configured_ones_is_replaced(clock: FakeClock) -> None:
    sim = Simulator(SimulatorConfig(seed=3, n_accounts=2, ads_per_account=10), clock=clock)
    expired = sim.add_token(expired=True)
    accounts = accounts_of(sim)
    with GraphClient(tokens=[expired, sim.tokens[0]], clock=clock, transport=sim.transport()) as client:
        info = client.account_info(accounts[0])
    assert info.id == accounts[0].id
    assert client.stats(accounts[0]).token_failovers == 1


def test_no_usable_token_when_every_token_is_invalid(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    for token in sim.tokens[:2]:
        sim.invalidate_token(token)
    client = make_client(tokens=list(sim.tokens[:2]))
    with pytest.raises(NoUsableTokenError) as caught:
        client.account_info(accounts[0])
    assert caught.value.account_id == accounts[0].id
    assert client.stats(accounts[0]).api_calls == 2


def test_permission_denied_account_is_reported_and_others_are_extracted(
    sim: Simulator, accounts: list[Account], make_client: ClientFactory
) -> None:
    limited = sim.add_token(accounts=[accounts[0].id, accounts[2].id])
    client = make_client(tokens=[limited])
    outcome: dict[str, object] = {}
    for account in accounts[:3]:
        try:
            outcome[account.id] = client.account_info(account).currency
        except PermissionDeniedError as exc:
            outcome[account.id] = exc
    denied = outcome[accounts[1].id]
    assert isinstance(denied, PermissionDeniedError)
    assert denied.account_id == accounts[1].id
    assert denied.code == 200
    assert denied.http_status == 403
    assert f"account={accounts[1].id}" in str(denied)
    assert isinstance(outcome[accounts[0].id], str)
    assert isinstance(outcome[accounts[2].id], str)
    assert client.stats(accounts[1]).api_calls == 1, "a permission error is not retried"


def test_appsecret_proof_is_sent_when_the_app_secret_is_configured(clock: FakeClock) -> None:
    secret = "s3cr3t-app-secret-value"
    sim = Simulator(
        SimulatorConfig(seed=3, n_accounts=1, ads_per_account=5, app_secret=secret, require_appsecret_proof=True),
        clock=clock,
    )
    account = accounts_of(sim)[0]
    with GraphClient(
        tokens=TokenPool(list(sim.tokens), app_secret=secret), clock=clock, transport=sim.transport()
    ) as client:
        assert client.account_info(account).id == account.id
    with GraphClient(tokens=TokenPool(list(sim.tokens)), clock=clock, transport=sim.transport()) as client:
        with pytest.raises(BadRequestError, match="appsecret_proof"):
            client.account_info(account)
    with GraphClient(
        tokens=TokenPool(list(sim.tokens), app_secret="wrong-secret"), clock=clock, transport=sim.transport()
    ) as client:
        with pytest.raises(BadRequestError, match="appsecret_proof"):
            client.account_info(account)


def test_token_pool_needs_a_token() -> None:
    with pytest.raises(ValueError, match="at least one token"):
        TokenPool([])


@pytest.mark.parametrize("discover", [True, False], ids=["apps-asked-up-front", "apps-asked-on-first-block"])
def test_app_level_limit_switches_to_a_token_of_another_app(
    sim: Simulator, accounts: list[Account], clock: FakeClock, discover: bool
) -> None:
    same_app, other_app = sim.tokens[2], sim.tokens[1]
    assert sim.token_app(same_app) == sim.token_app(sim.tokens[0]) != sim.token_app(other_app)
    transport = ScriptedTransport(
        sim.transport(),
        [
            Scripted(
                400,
                {
                    "error": {
                        "message": "(#4) Application request limit reached",
                        "code": 4,
                        "error_subcode": 1504022,
                        "is_transient": True,
                    }
                },
                match=lambda r: r.url.path.endswith("/insights"),
            )
        ],
    )
    pool = TokenPool([sim.tokens[0], same_app, other_app])
    with GraphClient(tokens=pool, clock=clock, transport=transport) as client:
        if discover:
            assert client.discover_token_apps() == [sim.token_app(t) for t in pool_tokens(sim)]
        since, until = lookback(client, accounts[0], 3)
        assert all_rows(client.insights(accounts[0], since, until))
    insights_tokens = [token for _, path, token in transport.requests if path.endswith("/insights")]
    assert insights_tokens[0] == sim.tokens[0]
    # Without being asked, the client learns the tokens' apps on the first code 4 (debug_token, once
    # per token) and moves to the token of the other app, not to the blocked app's second token.
    assert set(insights_tokens[1:]) == {other_app}
    assert client.stats(accounts[0]).token_failovers == 1
    inspected = [path for _, path, _ in transport.requests if path.endswith("/debug_token")]
    assert len(inspected) == 3


def test_token_apps_are_not_asked_while_no_app_level_limit_is_hit(
    sim: Simulator, accounts: list[Account], clock: FakeClock
) -> None:
    transport = ScriptedTransport(sim.transport(), [])
    with GraphClient(tokens=TokenPool(list(sim.tokens)), clock=clock, transport=transport) as client:
        since, until = lookback(client, accounts[0], 3)
        assert all_rows(client.insights(accounts[0], since, until))
        assert client.pool.app_ids() == [None] * len(sim.tokens)
    assert not [path for _, path, _ in transport.requests if path.endswith("/debug_token")]


def pool_tokens(sim: Simulator) -> list[str]:
    return [sim.tokens[0], sim.tokens[2], sim.tokens[1]]
