"""Asynchronous report runs: submitted by POST, progressing with the simulator's clock."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from metaads.clock import FakeClock
from metaads.simulator import Simulator, SimulatorConfig
from tests.simulator.conftest import INSIGHT_FIELDS, VERSION, follow, time_range

FINAL = ("Job Completed", "Job Failed", "Job Skipped")


def _submit(client: httpx.Client, sim: Simulator, days: int = 10, account: int = 0) -> str:
    account_id = sim.account_ids[account]
    today = sim.account_today(account_id)
    response = client.post(
        f"/{VERSION}/act_{account_id}/insights",
        data={
            "access_token": sim.tokens[0],
            "level": "ad",
            "fields": INSIGHT_FIELDS,
            "time_increment": "1",
            "time_range": time_range(today - timedelta(days=days - 1), today),
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"report_run_id"}
    return str(body["report_run_id"])


def _status(client: httpx.Client, sim: Simulator, job: str) -> dict[str, object]:
    response = client.get(f"/{VERSION}/{job}", params={"access_token": sim.tokens[0]})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _run_to_end(
    client: httpx.Client,
    sim: Simulator,
    clock: FakeClock,
    job: str,
    step: float = 0.25,
) -> tuple[list[str], float]:
    seen: list[str] = []
    percents: list[int] = []
    start = clock.now()
    for _ in range(10_000):
        status = _status(client, sim, job)
        if not seen or seen[-1] != status["async_status"]:
            seen.append(str(status["async_status"]))
        percents.append(int(str(status["async_percent_completion"])))
        if status["async_status"] in FINAL:
            assert percents == sorted(percents) or status["async_status"] != "Job Completed"
            return seen, (clock.now() - start).total_seconds()
        clock.advance(step)
    raise AssertionError("job never finished")


def test_job_moves_through_its_states_with_the_clock(
    sim: Simulator, client: httpx.Client, fake_clock: FakeClock
) -> None:
    job = _submit(client, sim)
    first = _status(client, sim, job)
    assert first["id"] == job
    assert first["account_id"] == sim.account_ids[0]
    assert first["time_ref"] == int(fake_clock.now().timestamp())
    seen, _ = _run_to_end(client, sim, fake_clock, job)
    assert seen == ["Job Not Started", "Job Started", "Job Running", "Job Completed"]
    done = _status(client, sim, job)
    assert done["async_percent_completion"] == 100
    assert "time_completed" in done


def test_bigger_jobs_take_longer(sim: Simulator, client: httpx.Client, fake_clock: FakeClock) -> None:
    _, small = _run_to_end(client, sim, fake_clock, _submit(client, sim, days=2))
    _, large = _run_to_end(client, sim, fake_clock, _submit(client, sim, days=300))
    assert large > small * 2


def test_results_are_refused_until_completed_then_equal_the_ground_truth(
    sim: Simulator, client: httpx.Client, fake_clock: FakeClock
) -> None:
    job = _submit(client, sim, days=10)
    early = client.get(f"/{VERSION}/{job}/insights", params={"access_token": sim.tokens[0]})
    assert early.status_code == 400
    assert early.json()["error"]["code"] == 2601
    _run_to_end(client, sim, fake_clock, job)
    account = sim.account_ids[0]
    today = sim.account_today(account)
    truth = sim.ground_truth(account, today - timedelta(days=9), today, fields=INSIGHT_FIELDS.split(","))
    rows = follow(
        client,
        client.get(f"/{VERSION}/{job}/insights", params={"access_token": sim.tokens[0], "limit": "13"}),
    )
    assert len(truth) > 13
    assert rows == truth


def test_results_are_a_snapshot_taken_at_completion(
    sim: Simulator, client: httpx.Client, fake_clock: FakeClock
) -> None:
    job = _submit(client, sim, days=5)
    _run_to_end(client, sim, fake_clock, job)
    url = f"/{VERSION}/{job}/insights"
    before = follow(client, client.get(url, params={"access_token": sim.tokens[0], "limit": "500"}))
    fake_clock.advance(2 * 86400)  # figures of the last 28 days get restated meanwhile
    after = follow(client, client.get(url, params={"access_token": sim.tokens[0], "limit": "500"}))
    assert after == before


@pytest.mark.parametrize(
    ("fault", "final"),
    [("async_fail_rate", "Job Failed"), ("async_skip_rate", "Job Skipped")],
    ids=["failed", "skipped"],
)
def test_faults_make_jobs_fail_or_skip(
    sim: Simulator, client: httpx.Client, fake_clock: FakeClock, fault: str, final: str
) -> None:
    setattr(sim.faults, fault, 1.0)
    job = _submit(client, sim)
    seen, _ = _run_to_end(client, sim, fake_clock, job)
    assert seen[-1] == final
    assert "Job Completed" not in seen
    if final == "Job Failed":
        assert _status(client, sim, job)["error_code"] == 1
    refused = client.get(f"/{VERSION}/{job}/insights", params={"access_token": sim.tokens[0]})
    assert refused.status_code == 400


def test_invalid_job_requests_fail_at_submission(sim: Simulator, client: httpx.Client) -> None:
    account = sim.account_ids[0]
    response = client.post(
        f"/{VERSION}/act_{account}/insights",
        data={
            "access_token": sim.tokens[0],
            "level": "ad",
            "time_range": time_range(sim.account_today(account) - timedelta(days=2000), sim.account_today(account)),
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 3018


def test_status_honours_the_fields_parameter(sim: Simulator, client: httpx.Client) -> None:
    job = _submit(client, sim)
    response = client.get(
        f"/{VERSION}/{job}",
        params={"access_token": sim.tokens[0], "fields": "async_status,async_percent_completion"},
    )
    assert set(response.json()) == {"id", "async_status", "async_percent_completion"}


def test_job_duration_is_configurable(fake_clock: FakeClock) -> None:
    sim = Simulator(
        SimulatorConfig(seed=7, n_accounts=1, ads_per_account=40, async_base_s=60, async_s_per_1000_ad_days=0),
        clock=fake_clock,
    )
    with httpx.Client(transport=sim.transport(), base_url="https://graph.facebook.com") as client:
        _, took = _run_to_end(client, sim, fake_clock, _submit(client, sim), step=1)
    assert took == 60
