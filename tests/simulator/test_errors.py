"""Every error path answers with Meta's real status, code, subcode and body shape."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from metaads.clock import FakeClock
from metaads.simulator import Simulator, SimulatorConfig
from metaads.simulator.errors import REDUCE_DATA_MESSAGE

RANGE = '{"since":"2026-11-01","until":"2026-11-10"}'


@dataclass(frozen=True)
class Case:
    """A request prepared against a fresh simulator, and the error it must get."""

    prepare: Callable[[Simulator, FakeClock], tuple[str, dict[str, str]]]  # -> (path, params)
    status: int
    code: int
    subcode: int | None = None
    transient: bool = False
    message: str | None = None


def _insights(sim: Simulator, token: str | None = None, account: int = 0, **extra: str) -> tuple[str, dict[str, str]]:
    params = {"time_range": RANGE, "level": "ad", **extra}
    if token is not None:
        params["access_token"] = token
    return f"/v25.0/act_{sim.account_ids[account]}/insights", params


def _expired(sim: Simulator, clock: FakeClock) -> tuple[str, dict[str, str]]:
    return _insights(sim, sim.add_token(expired=True))


def _invalidated(sim: Simulator, clock: FakeClock) -> tuple[str, dict[str, str]]:
    token = sim.add_token()
    sim.invalidate_token(token, subcode=467)
    return _insights(sim, token)


def _expires_later(sim: Simulator, clock: FakeClock) -> tuple[str, dict[str, str]]:
    token = sim.add_token(expires_at=clock.now() + timedelta(hours=1))
    clock.advance(7200)
    return _insights(sim, token)


def _other_account(sim: Simulator, clock: FakeClock) -> tuple[str, dict[str, str]]:
    return _insights(sim, sim.add_token(accounts=[f"act_{sim.account_ids[0]}"]), account=1)


def _fault(**faults: Any) -> Callable[[Simulator, FakeClock], tuple[str, dict[str, str]]]:
    def prepare(sim: Simulator, clock: FakeClock) -> tuple[str, dict[str, str]]:
        for name, value in faults.items():
            setattr(sim.faults, name, value)
        return _insights(sim, sim.tokens[0], limit="500")

    return prepare


def _job_not_ready(sim: Simulator, clock: FakeClock) -> tuple[str, dict[str, str]]:
    with httpx.Client(transport=sim.transport(), base_url="https://graph.facebook.com") as http:
        path, params = _insights(sim, sim.tokens[0])
        job = http.post(path, data=params).json()["report_run_id"]
    return f"/v25.0/{job}/insights", {"access_token": sim.tokens[0]}


CASES = {
    "missing-token": Case(lambda s, c: _insights(s), 400, 104),
    "unparsable-token": Case(lambda s, c: _insights(s, "not-a-token"), 400, 190),
    "expired-token": Case(_expired, 400, 190, 463, message="Session has expired"),
    "invalidated-token": Case(_invalidated, 400, 190, 467),
    "token-expiring-on-the-clock": Case(_expires_later, 400, 190, 463),
    "no-permission-on-account": Case(_other_account, 403, 200),
    "unknown-account": Case(lambda s, c: ("/v25.0/act_12345/insights", {"access_token": s.tokens[0]}), 400, 100, 33),
    "unknown-edge": Case(
        lambda s, c: (f"/v25.0/act_{s.account_ids[0]}/zebras", {"access_token": s.tokens[0]}),
        400,
        100,
        message="nonexisting field (zebras)",
    ),
    "unknown-alias": Case(lambda s, c: ("/v25.0/zebra", {"access_token": s.tokens[0]}), 404, 803),
    "expired-version": Case(
        lambda s, c: ("/v19.0/me", {"access_token": s.tokens[0]}), 400, 2635, message="deprecated version"
    ),
    "deprecated-version-fault": Case(_fault(deprecated_versions={"v25.0"}), 400, 2635),
    "beyond-37-months": Case(
        lambda s, c: _insights(s, s.tokens[0], time_range='{"since":"2023-01-01","until":"2023-01-02"}'),
        400,
        3018,
    ),
    "too-many-rows": Case(_fault(max_rows_per_response=100), 500, 1, message=REDUCE_DATA_MESSAGE),
    "too-many-cells": Case(_fault(max_cells_per_response=1000), 500, 1, message=REDUCE_DATA_MESSAGE),
    "invalid-parameter": Case(lambda s, c: _insights(s, s.tokens[0], level="galaxy"), 400, 100),
    "transient-500": Case(_fault(error_500_rate=1.0), 500, 1, 99, transient=True),
    "service-unavailable": Case(_fault(transient_code2_rate=1.0), 503, 2, transient=True),
    "report-not-ready": Case(_job_not_ready, 400, 2601, transient=True),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_error_has_the_real_status_code_and_body(fake_clock: FakeClock, case: Case) -> None:
    sim = Simulator(SimulatorConfig(seed=9, n_accounts=2, ads_per_account=20), clock=fake_clock)
    path, params = case.prepare(sim, fake_clock)
    response = sim.handle("GET", path, params)
    assert response.status == case.status
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    _assert_error_shape(error, response.header("x-fb-trace-id"))
    assert error["code"] == case.code
    assert error.get("error_subcode") == case.subcode
    assert error["is_transient"] is case.transient
    if case.message:
        assert case.message in error["message"]
    for token in sim.tokens:
        assert token not in response.body.decode()


def _assert_error_shape(error: dict[str, Any], trace_header: str | None) -> None:
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error["type"] in ("OAuthException", "GraphMethodException")
    assert isinstance(error["code"], int)
    assert isinstance(error["is_transient"], bool)
    assert isinstance(error["fbtrace_id"], str)
    assert len(error["fbtrace_id"]) >= 8
    assert error["fbtrace_id"] == trace_header
    assert set(error) <= {
        "message",
        "type",
        "code",
        "error_subcode",
        "is_transient",
        "error_user_title",
        "error_user_msg",
        "error_data",
        "fbtrace_id",
    }


@pytest.mark.parametrize(
    ("require", "proof", "fragment"),
    [(True, None, "require an appsecret_proof"), (False, "00" * 32, "Invalid appsecret_proof")],
    ids=["missing-proof", "wrong-proof"],
)
def test_app_secret_proof_is_checked_when_the_app_has_a_secret(
    fake_clock: FakeClock, require: bool, proof: str | None, fragment: str
) -> None:
    sim = Simulator(
        SimulatorConfig(seed=9, n_accounts=1, ads_per_account=5, app_secret="s3cret", require_appsecret_proof=require),
        clock=fake_clock,
    )
    token = sim.tokens[0]
    params = {"access_token": token, **({"appsecret_proof": proof} if proof else {})}
    refused = sim.handle("GET", "/v25.0/me", params)
    assert refused.status == 400
    assert refused.json()["error"]["code"] == 100
    assert fragment in refused.json()["error"]["message"]
    accepted = sim.handle("GET", "/v25.0/me", {"access_token": token, "appsecret_proof": sim.appsecret_proof(token)})
    assert accepted.status == 200


def test_bearer_header_is_accepted_like_the_access_token_parameter(fake_clock: FakeClock) -> None:
    sim = Simulator(SimulatorConfig(seed=9, n_accounts=1, ads_per_account=5), clock=fake_clock)
    response = sim.handle(
        "GET",
        f"/v25.0/act_{sim.account_ids[0]}",
        {"fields": "name"},
        {"Authorization": f"Bearer {sim.tokens[0]}"},
    )
    assert response.status == 200
    assert response.json()["name"] == sim.account(sim.account_ids[0]).name


def test_debug_token_reports_validity_app_and_expiry(fake_clock: FakeClock) -> None:
    sim = Simulator(SimulatorConfig(seed=9, n_accounts=1, ads_per_account=5), clock=fake_clock)
    expired = sim.add_token(expired=True)
    good = sim.handle("GET", "/v25.0/debug_token", {"access_token": sim.tokens[0], "input_token": sim.tokens[1]})
    data = good.json()["data"]
    assert data["is_valid"] is True
    assert data["app_id"] == sim.token_app(sim.tokens[1])
    assert data["expires_at"] == 0  # system-user tokens never expire
    assert "ads_read" in data["scopes"]
    bad = sim.handle("GET", "/v25.0/debug_token", {"access_token": sim.tokens[0], "input_token": expired})
    assert bad.json()["data"]["is_valid"] is False
    assert bad.json()["data"]["error"]["subcode"] == 463
