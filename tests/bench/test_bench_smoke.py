"""The benchmark suite still runs, end to end, at tiny sizes. Benchmarks are not tests: no timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
@pytest.mark.mysql
@pytest.mark.slow
@pytest.mark.timeout(600)  # above the subprocess's own 480 s: its error message is the useful one
def test_suite_runs_every_scenario_and_writes_its_report(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--profile", "smoke", "--output", str(report), "--results-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    results = json.loads((tmp_path / "suite-smoke.json").read_text())
    assert results["errors"] == {}
    assert {"e2e", "extract", "load", "standard", "sync", "memory"} <= set(results)
    standard = results["standard"]
    assert standard["metaads"]["ads_rows"] == standard["baseline"]["ads_rows"] > 0
    assert standard["metaads"]["throttled_errors"] == standard["metaads"]["server_throttled"] == 0
    # the load bound is a raw COPY of the very rows metaads loaded
    raw_copy = standard["raw_copy"]
    assert (raw_copy["ads_rows"], raw_copy["actions_rows"]) == (
        standard["metaads"]["ads_rows"],
        standard["metaads"]["actions_rows"],
    )
    assert standard["load_bound_s"] == raw_copy["seconds"] > 0
    assert standard["fastest_load_s"] == raw_copy["parallel_seconds"] > 0
    # the replayed run made exactly the recorded run's requests, and loaded the same rows
    replayed = standard["replayed"]
    assert replayed["replay"]["misses"] == 0
    assert replayed["replay"]["recorded"] >= replayed["api_calls"] > 0
    assert replayed["ads_rows"] == standard["metaads"]["ads_rows"]
    memory = standard["memory"]
    assert memory["memory_large"]["ads_rows"] > memory["memory_small"]["ads_rows"] > 0
    assert memory["memory_large"]["failed_accounts"] == memory["memory_small"]["failed_accounts"] == 0

    e2e = results["e2e"]
    for day in ("day1", "day2"):
        metaads, baseline = e2e["metaads"][day], e2e["baseline"][day]
        # same API data, so the same rows; the warehouse holds each (ad, day) once after the re-run
        assert metaads["ads_rows"] == baseline["ads_rows"] > 0
        assert metaads["actions_rows"] == baseline["actions_rows"] > 0
        assert metaads["warehouse"]["duplicate_ads_rows"] == baseline["warehouse"]["duplicate_ads_rows"] == 0
        assert metaads["failed_accounts"] == baseline["failed_accounts"] == 0
        # the throttling errors each pipeline reports are the ones the simulator served
        assert baseline["throttled_errors"] == baseline["server_throttled"]
        assert metaads["throttled_errors"] == metaads["server_throttled"]
        assert e2e[f"ideal_{day}"]["ideal_s"] > 0
    # the tiny quota is exceeded: the baseline's fixed waits are counted
    assert e2e["baseline"]["day1"]["throttled_errors"] > 0
    assert e2e["baseline"]["day1"]["waited_s"] == 60 * e2e["baseline"]["day1"]["throttled_errors"]
    assert e2e["metaads"]["day2"]["warehouse"]["days"] == e2e["metaads"]["day1"]["warehouse"]["days"] + 1

    text = report.read_text()
    assert "| scenario | metaads | baseline (original design) |" in text
    for label in (
        "goal, design scale",
        "goal, standard tier",
        "goal: peak RSS",
        "1. end to end: wall time",
        "1a. extraction only",
        "2. load",
        "3. sync",
        "4. peak RSS",
        "5. re-run, next day",
        "6. standard tier",
    ):
        assert f"| {label}" in text, label
    for machine in ("| CPU |", "| cores (nproc) |", "| memory |", "| Python |", "| PostgreSQL |", "| MariaDB |"):
        assert machine in text, machine
