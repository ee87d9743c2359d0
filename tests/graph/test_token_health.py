"""``debug_token`` per token: validity, type, ads_read, expiry and readable accounts become actions."""

from __future__ import annotations

from datetime import timedelta

from metaads.clock import FakeClock
from metaads.config.accounts import parse_accounts
from metaads.graph.token_health import check_tokens
from metaads.simulator import Simulator
from tests.graph.conftest import ClientFactory


def test_each_kind_of_bad_token_is_reported_with_what_to_do(
    sim: Simulator, clock: FakeClock, make_client: ClientFactory
) -> None:
    now = clock.now()
    accounts = parse_accounts(sim.meta_accounts_env())
    account_ids = [a.id for a in accounts]
    healthy = sim.tokens[0]
    expiring = sim.add_token(expires_at=now + timedelta(days=3))
    far = sim.add_token(expires_at=now + timedelta(days=50))
    scopeless = sim.add_token(scopes=["pages_show_list"])
    invalid = sim.add_token()
    sim.invalidate_token(invalid, subcode=467)
    partial = sim.add_token(accounts=account_ids[:1])
    client = make_client(tokens=[healthy, expiring, far, scopeless, invalid, partial])

    checks = check_tokens(client, accounts, now=now, warn_days=14)

    by_hint = {c.hint: c for c in checks}
    assert [c.slot for c in checks] == [0, 1, 2, 3, 4, 5]
    ok = by_hint[f"…{healthy[-4:]}"]
    assert ok.ok
    assert ok.valid
    assert ok.has_ads_read
    assert ok.type == "SYSTEM_USER"
    assert ok.expires_at is None
    assert ok.readable_accounts == tuple(account_ids)
    soon = by_hint[f"…{expiring[-4:]}"]
    assert soon.type == "USER"
    assert soon.expires_at is not None
    assert any("expires on" in p and "within 14 days" in p for p in soon.problems)
    assert by_hint[f"…{far[-4:]}"].ok, "an expiry beyond the warning horizon needs nobody"
    assert any("lacks the ads_read permission" in p for p in by_hint[f"…{scopeless[-4:]}"].problems)
    bad = by_hint[f"…{invalid[-4:]}"]
    assert not bad.valid
    assert bad.problems[0].startswith("invalid")
    assert "GRAPH_API_TOKENS" in bad.problems[0]
    narrow = by_hint[f"…{partial[-4:]}"]
    assert narrow.readable_accounts == (account_ids[0],)
    assert any(f"cannot read {len(accounts) - 1} configured account(s)" in p for p in narrow.problems)
    for check in checks:  # only hints and fingerprints, never the token itself
        for token in (healthy, expiring, far, scopeless, invalid, partial):
            assert token not in repr(check)
