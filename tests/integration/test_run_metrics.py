"""Prometheus metrics of real runs against the simulator: the textfile node_exporter would read."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from metaads.observability import METRIC_NAMES
from metaads.observability.run_metrics import publish_after_run
from metaads.pipeline import Pipeline, RunSummary
from tests.integration.conftest import World

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def read_textfile(path: Path) -> Samples:
    """Sample name -> {sorted labels: value}, parsed with prometheus_client's own parser."""
    samples: Samples = {}
    for family in text_string_to_metric_families(path.read_text()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def publish(pipeline: Pipeline, summary: RunSummary, textfile: Path) -> None:
    assert publish_after_run(
        summary,
        warehouse=pipeline.warehouse,
        client=pipeline.client,
        tokens=pipeline.settings.tokens,
        finished_at=pipeline.clock.now(),
        textfile=textfile,
    )


def test_textfile_after_a_run_holds_each_accounts_rows_calls_and_freshness(
    world: World, make_pipeline: Callable[..., Pipeline], tmp_path: Path
) -> None:
    pipeline = make_pipeline()
    summary = pipeline.run()
    assert summary.ok
    textfile = tmp_path / "textfile" / "metaads.prom"
    publish(pipeline, summary, textfile)

    samples = read_textfile(textfile)
    assert set(samples) >= {
        name
        for name in METRIC_NAMES
        if name not in {"metaads_reconcile_difference", "metaads_token_expiry_timestamp_seconds"}
    }
    finished = world.clock.now().timestamp()
    for result in summary.results:
        act, table = result.account.act_id, result.account.table
        rows = samples["metaads_rows_loaded"]
        assert rows[(("account", act), ("report", "ads"), ("table", table))] == result.ads_rows > 0
        assert rows[(("account", act), ("report", "actions"), ("table", f"{table}_actions"))] == result.actions_rows
        assert samples["metaads_api_calls_total"][(("account", act),)] == result.api_calls > 0
        assert samples["metaads_throttled_seconds_total"][(("account", act),)] == result.throttled_s
        assert samples["metaads_account_last_success_timestamp_seconds"][(("account", act),)] == finished
        # the simulator sends Meta's usage headers: the latest account usage is a percentage
        assert 0 <= samples["metaads_api_usage_percent"][(("account", act),)] <= 100
    assert samples["metaads_run_failed_accounts"][()] == 0
    assert samples["metaads_run_duration_seconds"][()] == summary.duration_s
    # the run's daily token check gives each token's next expiry, labelled by fingerprint
    expiries = samples["metaads_token_expiry_timestamp_seconds"]
    assert len(summary.token_checks) == len(world.sim.tokens)
    for check in summary.token_checks:
        assert check.next_expiry is not None
        assert expiries[(("token", check.fingerprint),)] == check.next_expiry.timestamp()
    # written by rename: nothing but the finished file is left in the folder
    assert [p.name for p in textfile.parent.iterdir()] == ["metaads.prom"]


def test_failed_account_counts_and_keeps_its_previous_success_time(
    world: World, make_pipeline: Callable[..., Pipeline], tmp_path: Path
) -> None:
    textfile = tmp_path / "metaads.prom"
    first = make_pipeline()
    publish(first, first.run(), textfile)
    loaded_at = world.clock.now().timestamp()

    world.clock.advance(6 * 3600)
    accounts = world.sim.account_ids
    # new tokens that cannot read the second account: it fails, the others load
    tokens = [world.sim.add_token(accounts=[accounts[0], accounts[2]]) for _ in range(2)]
    second = make_pipeline(GRAPH_API_TOKENS=",".join(tokens))
    summary = second.run()
    assert [r.ok for r in summary.results] == [True, False, True]
    publish(second, summary, textfile)

    samples = read_textfile(textfile)
    assert samples["metaads_run_failed_accounts"][()] == 1
    last = samples["metaads_account_last_success_timestamp_seconds"]
    assert last[(("account", f"act_{accounts[1]}"),)] == loaded_at
    assert last[(("account", f"act_{accounts[0]}"),)] == loaded_at + 6 * 3600
    rows = samples["metaads_rows_loaded"]
    table = summary.results[1].account.table
    assert rows[(("account", f"act_{accounts[1]}"), ("report", "ads"), ("table", table))] == 0
    text = textfile.read_text()
    for token in [*tokens, *world.sim.tokens]:
        assert token not in text


def test_metaads_run_writes_metrics_and_an_unreachable_pushgateway_does_not_fail_it(
    live_world: World, tmp_path: Path
) -> None:
    textfile = tmp_path / "node_exporter" / "metaads.prom"
    env = {
        **live_world.base_env,
        "WAREHOUSE_URL": f"sqlite:///{tmp_path / 'wh.db'}",
        "METRICS_TEXTFILE": str(textfile),
        "METRICS_PUSHGATEWAY_URL": "http://127.0.0.1:9",
    }
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}}
    done = subprocess.run(
        [sys.executable, "-m", "metaads", "run"],
        env={**base, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "metrics: publishing failed" in done.stderr
    samples = read_textfile(textfile)
    assert samples["metaads_run_failed_accounts"][()] == 0
    assert {labels[0][1] for labels in samples["metaads_api_calls_total"]} == {
        f"act_{a}" for a in live_world.sim.account_ids
    }
