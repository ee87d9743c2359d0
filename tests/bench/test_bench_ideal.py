"""The suite's arithmetic: quota-bound ideal times, scheduling of accounts on workers, medians of runs."""

from __future__ import annotations

import pytest
from bench.__main__ import median_merge
from bench.scenario_e2e import E2EConfig, ideal, makespan, quota_bound_s


@pytest.mark.parametrize(
    ("calls", "expected"),
    [(0, 0.0), (1, 0.1), (60, 6.0), (61, 300.1), (120, 306.0), (121, 600.1)],
    ids=["none", "one", "exactly-the-quota", "one-over-waits-a-window", "two-windows-full", "three-windows"],
)
def test_calls_beyond_the_quota_wait_for_the_window(calls: int, expected: float) -> None:
    assert quota_bound_s(calls, quota=60, window_s=300.0, latency_s=0.1) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("durations", "workers", "groups", "expected"),
    [
        ([10, 1, 1, 1], 2, False, 10),
        ([10, 1, 1, 1], 2, True, 11),
        ([5, 5, 5], 1, False, 15),
        ([3, 4, 5, 6, 7], 5, True, 7),
        ([], 3, False, 0),
    ],
    ids=["pool-fills-idle-workers", "groups-wait-for-slowest", "one-worker-is-serial", "one-group", "nothing"],
)
def test_makespan_of_accounts_on_workers(durations: list[float], workers: int, groups: bool, expected: float) -> None:
    assert makespan(durations, workers, groups=groups) == pytest.approx(expected)


def test_ideal_is_the_larger_of_latency_and_quota_bounds() -> None:
    cfg = E2EConfig(latency_s=0.1, concurrency=5)
    quota_bound = ideal({"a": 61, "b": 10}, cfg, score_max=60, window_s=300.0)
    assert quota_bound["ideal_s"] == pytest.approx(300.1)
    assert quota_bound["latency_bound_s"] == pytest.approx(71 * 0.1 / 5, abs=0.05)
    latency_bound = ideal({str(i): 50 for i in range(100)}, cfg, score_max=60, window_s=300.0)
    assert latency_bound["ideal_s"] == pytest.approx(100.0)  # 5,000 calls x 0.1 s / 5 workers


def test_median_of_runs_takes_each_number_and_keeps_the_rest() -> None:
    runs = [
        {"a": {"rows_per_s": 10, "name": "x"}, "ok": True},
        {"a": {"rows_per_s": 30, "name": "y"}, "ok": False},
        {"a": {"rows_per_s": 20, "name": "z"}, "ok": True},
    ]
    assert median_merge(runs) == {"a": {"rows_per_s": 20, "name": "x"}, "ok": True}
