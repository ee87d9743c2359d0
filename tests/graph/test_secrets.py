"""Tokens never appear in logs, exception messages or reprs, even in a run full of errors."""

from __future__ import annotations

import hashlib
import hmac
import logging
import traceback

import pytest

from metaads.clock import FakeClock
from metaads.errors import MetaAdsError
from metaads.graph import ClientPolicy, GraphClient, TokenPool
from metaads.simulator import Simulator, SimulatorConfig
from tests.graph.conftest import Scripted, ScriptedTransport, accounts_of, all_rows
from tests.graph.windows import lookback

pytestmark = pytest.mark.timeout(60)

APP_SECRET = "app-secret-for-the-redaction-test"


def test_no_token_or_secret_appears_in_logs_errors_or_reprs_during_a_run_with_errors(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    sim = Simulator(SimulatorConfig(seed=21, n_accounts=4, ads_per_account=20, app_secret=APP_SECRET), clock=clock)
    accounts = accounts_of(sim)
    tokens = list(sim.tokens)
    sim.invalidate_token(tokens[0], subcode=463)  # fail-over, with a 190 message
    limited = sim.add_token(accounts=[accounts[0].id])  # permission denied on the others
    tokens[3] = limited
    sim.faults.error_500_rate = 0.2  # transient retries
    sim.faults.empty_page_rate = 0.2
    throttled = ScriptedTransport(
        sim.transport(),
        [
            Scripted(
                400,
                {"error": {"message": "(#17) User request limit reached", "code": 17, "error_subcode": 2446079}},
                headers={"X-Ad-Account-Usage": '{"acc_id_util_pct":100,"reset_time_duration":30}'},
                times=2,
                match=lambda r: r.url.path.endswith("/insights"),
            )
        ],
    )
    pool = TokenPool(tokens, app_secret=APP_SECRET)
    texts: list[str] = [repr(pool), str(pool)]
    with (
        caplog.at_level(logging.DEBUG),
        sim.serve(port=0) as server,
        GraphClient(
            base_url=server.base_url, tokens=pool, clock=clock, policy=ClientPolicy(page_size=25, max_retries=8)
        ) as over_http,
        GraphClient(
            tokens=pool, clock=clock, transport=throttled, policy=ClientPolicy(page_size=25, max_retries=8)
        ) as in_process,
    ):
        texts += [repr(over_http), repr(in_process)]
        for client in (over_http, in_process):
            for account in accounts:
                try:
                    since, until = lookback(client, account, 5)
                    all_rows(client.insights(account, since, until))
                    list(client.campaigns(account))
                except MetaAdsError as exc:
                    texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
                    if exc.__cause__ is not None:
                        texts += [str(exc.__cause__), repr(exc.__cause__)]
        texts += [repr(over_http.pool.failovers()), repr(over_http.stats(accounts[0]))]
        # Denied accounts raised, the expired token failed over: the run did meet the errors it is about.
        assert over_http.stats(accounts[0]).token_failovers == 1
        assert over_http.stats(accounts[0]).retries + in_process.stats(accounts[0]).retries > 0
        assert in_process.stats(accounts[0]).throttled_errors + in_process.stats(accounts[1]).throttled_errors
    records = caplog.records
    assert len(records) > 50, "DEBUG logging must have been captured"
    texts += [r.getMessage() for r in records]
    texts += [caplog.text]
    assert any("PermissionDenied" in t or "permission" in t.lower() for t in texts)
    blob = "\n".join(texts)
    proofs = [hmac.new(APP_SECRET.encode(), t.encode(), hashlib.sha256).hexdigest() for t in tokens]
    for secret in [*tokens, sim.tokens[0], APP_SECRET, *proofs]:
        assert secret not in blob
        assert secret[:20] not in blob, "not even a prefix of a secret"
