"""``metaads simulator serve`` prints the .env lines, serves them, and stops on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx

from metaads.config.accounts import parse_accounts, parse_tokens


def test_serve_prints_env_lines_that_work_and_stops_on_ctrl_c() -> None:
    command = [
        sys.executable,
        "-m",
        "metaads",
        "simulator",
        "serve",
        "--port",
        "0",
        "--seed",
        "4",
        "--accounts",
        "3",
        "--ads-per-account",
        "10",
        # The data-fault flags parse and reach the served world (account 2's insights are always empty).
        "--missing-rows-rate",
        "0.1",
        "--new-account",
        "1:30",
        "--empty-answer-account",
        "2",
        "--restatement-days",
        "14",
        "--status-change-rate",
        "0.1",
        "--status-change-days",
        "60",
    ]
    # An ignored SIGINT is inherited across exec (and Python then keeps ignoring it): some test earlier in
    # the session may leave the test process ignoring it, so the server starts with the default, as from a shell.
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509 - no threads start it
    )
    try:
        assert process.stdout is not None
        lines: dict[str, str] = {}
        while "GRAPH_API_TOKENS" not in lines:
            line = process.stdout.readline()
            assert line, f"serve ended early: {process.stderr.read() if process.stderr else ''}"
            if "=" in line and not line.startswith("#"):
                key, value = line.rstrip("\n").split("=", 1)
                lines[key] = value
        base_url = lines["GRAPH_API_BASE_URL"]
        assert base_url.startswith("http://127.0.0.1:")
        accounts = parse_accounts(lines["META_ACCOUNTS"])
        tokens = parse_tokens(lines["GRAPH_API_TOKENS"])
        assert len(accounts) == 3
        response = httpx.get(
            f"{base_url}/v25.0/{accounts[0].act_id}",
            params={"access_token": tokens[0], "fields": "name,currency"},
            timeout=5,
        )
        assert response.status_code == 200
        assert response.json()["currency"] == "USD"
        last_week = {"access_token": tokens[0], "date_preset": "last_7d"}
        healthy = httpx.get(f"{base_url}/v25.0/{accounts[0].act_id}/insights", params=last_week, timeout=5)
        assert healthy.json()["data"]
        empty = httpx.get(f"{base_url}/v25.0/{accounts[1].act_id}/insights", params=last_week, timeout=5)
        assert empty.json() == {"data": []}
    finally:
        process.send_signal(signal.SIGINT)
        try:
            # A leaked process would outlive the test and disturb the next ones: killed before the failure.
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
    assert process.returncode == 0
    assert "stopped" in err
