"""The metrics a snapshot becomes: names, labels, values, and the two ways out (textfile, Pushgateway)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from metaads.graph.throttle import token_fingerprint
from metaads.observability import (
    METRIC_NAMES,
    AccountSnapshot,
    ReconcileDifference,
    RunSnapshot,
    publish_run_metrics,
    render_metrics,
)

FINISHED = datetime(2026, 3, 2, 14, 5, tzinfo=timezone.utc)
TOKEN = "EAAB-secret-token-value-never-exported"  # noqa: S105 - a fake token the test looks for


def snapshot() -> RunSnapshot:
    return RunSnapshot(
        finished_at=FINISHED,
        duration_s=42.5,
        accounts=(
            AccountSnapshot(
                account="act_1",
                table="bm_01",
                actions_table="bm_01_actions",
                ads_rows=120,
                actions_rows=480,
                api_calls=9,
                throttled_s=1.5,
                ok=True,
                last_success=FINISHED,
                usage_percent=37.0,
            ),
            AccountSnapshot(
                account="act_2",
                table="bm_02",
                actions_table="bm_02_actions",
                ok=False,
                last_success=FINISHED - timedelta(days=2),
            ),
        ),
        reconcile=(ReconcileDifference("act_1", "spend", -0.5), ReconcileDifference("act_1", "clicks", 0)),
        token_expiries={token_fingerprint(TOKEN): FINISHED + timedelta(days=5)},
    )


def parse(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def test_every_fixed_metric_name_is_exported_with_its_labels() -> None:
    samples = parse(render_metrics(snapshot()))
    assert set(samples) == set(METRIC_NAMES)
    assert samples["metaads_rows_loaded"] == {
        (("account", "act_1"), ("report", "ads"), ("table", "bm_01")): 120,
        (("account", "act_1"), ("report", "actions"), ("table", "bm_01_actions")): 480,
        (("account", "act_2"), ("report", "ads"), ("table", "bm_02")): 0,
        (("account", "act_2"), ("report", "actions"), ("table", "bm_02_actions")): 0,
    }
    assert samples["metaads_api_calls_total"][(("account", "act_1"),)] == 9
    assert samples["metaads_throttled_seconds_total"][(("account", "act_1"),)] == 1.5
    # usage unknown for act_2: no sample rather than a made-up 0
    assert samples["metaads_api_usage_percent"] == {(("account", "act_1"),): 37.0}
    assert (
        samples["metaads_account_last_success_timestamp_seconds"][(("account", "act_2"),)]
        == (FINISHED - timedelta(days=2)).timestamp()
    )
    assert samples["metaads_reconcile_difference"] == {
        (("account", "act_1"), ("metric", "spend")): -0.5,
        (("account", "act_1"), ("metric", "clicks")): 0,
    }
    assert samples["metaads_run_duration_seconds"] == {(): 42.5}
    assert samples["metaads_run_failed_accounts"] == {(): 1}


def test_token_expiry_is_labelled_by_fingerprint_never_by_the_token() -> None:
    text = render_metrics(snapshot())
    assert TOKEN not in text
    expiry = parse(text)["metaads_token_expiry_timestamp_seconds"]
    assert expiry == {(("token", token_fingerprint(TOKEN)),): (FINISHED + timedelta(days=5)).timestamp()}


def test_counters_have_no_created_series() -> None:
    # _created samples would make each run look like a counter reset in a textfile
    assert "_created" not in render_metrics(snapshot())


def test_textfile_replaces_the_previous_one_by_rename(tmp_path: Path) -> None:
    textfile = tmp_path / "collector" / "metaads.prom"
    publish_run_metrics(snapshot(), textfile=textfile)
    before = textfile.stat().st_ino
    later = RunSnapshot(finished_at=FINISHED, duration_s=7.0)
    publish_run_metrics(later, textfile=textfile)
    assert textfile.stat().st_ino != before  # a new file renamed over the old one, not rewritten in place
    assert parse(textfile.read_text())["metaads_run_duration_seconds"] == {(): 7.0}
    assert [p.name for p in textfile.parent.iterdir()] == ["metaads.prom"]


class _Gateway(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(("PUT", self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def pushgateway() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """A real HTTP server speaking the Pushgateway's PUT /metrics/job/<job> API."""
    _Gateway.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Gateway.received
    server.shutdown()
    server.server_close()
    thread.join()


def test_push_replaces_the_metaads_job_group(pushgateway: tuple[str, list[tuple[str, str, bytes]]]) -> None:
    url, received = pushgateway
    publish_run_metrics(snapshot(), pushgateway=url)
    assert [(method, path) for method, path, _ in received] == [("PUT", "/metrics/job/metaads")]
    assert set(parse(received[0][2].decode())) == set(METRIC_NAMES)


def test_unreachable_pushgateway_raises_oserror() -> None:
    with pytest.raises(OSError, match="refused|Connection"):
        publish_run_metrics(snapshot(), pushgateway="http://127.0.0.1:9", timeout_s=2)
