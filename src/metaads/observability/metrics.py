"""Prometheus metrics from a :class:`RunSnapshot`: a node_exporter textfile and/or a Pushgateway push.

The metric names are fixed (dashboards and alert rules in ``deploy/`` use them); ``docs/operations.md``
describes each. Every value describes the *last* run: the ``_total`` counters count that run's calls and
throttled seconds (they restart with each run), gauges hold the last value seen. A private
:class:`~prometheus_client.CollectorRegistry` is used, never the process-wide default one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest, push_to_gateway, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from metaads.observability.snapshot import ACTIONS_REPORT, ADS_REPORT, RunSnapshot

log = logging.getLogger("metaads.metrics")

PUSHGATEWAY_JOB = "metaads"

ROWS_LOADED = "metaads_rows_loaded"
API_CALLS = "metaads_api_calls_total"
THROTTLED_SECONDS = "metaads_throttled_seconds_total"
API_USAGE = "metaads_api_usage_percent"
LAST_SUCCESS = "metaads_account_last_success_timestamp_seconds"
RECONCILE_DIFFERENCE = "metaads_reconcile_difference"
RUN_DURATION = "metaads_run_duration_seconds"
TOKEN_EXPIRY = "metaads_token_expiry_timestamp_seconds"  # noqa: S105 - a metric name, not a secret
RUN_FAILED_ACCOUNTS = "metaads_run_failed_accounts"

#: Every metric name metaads exports, as it appears in the exposition text.
METRIC_NAMES = (
    ROWS_LOADED,
    API_CALLS,
    THROTTLED_SECONDS,
    API_USAGE,
    LAST_SUCCESS,
    RECONCILE_DIFFERENCE,
    RUN_DURATION,
    TOKEN_EXPIRY,
    RUN_FAILED_ACCOUNTS,
)


class SnapshotCollector(Collector):
    """Turns one snapshot into metric families (collected on each render or push)."""

    def __init__(self, snapshot: RunSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        return list(self._families())

    def _families(self) -> Iterator[Metric]:
        snap = self.snapshot
        rows = GaugeMetricFamily(
            ROWS_LOADED,
            "Rows the last run loaded, per account, table and report.",
            labels=["account", "table", "report"],
        )
        # CounterMetricFamily takes the name without _total and adds it to the sample.
        calls = CounterMetricFamily(
            API_CALLS.removesuffix("_total"), "Graph API calls of the last run, per account.", labels=["account"]
        )
        throttled = CounterMetricFamily(
            THROTTLED_SECONDS.removesuffix("_total"),
            "Seconds the last run waited on Meta's rate limits, per account.",
            labels=["account"],
        )
        usage = GaugeMetricFamily(
            API_USAGE, "Latest quota usage Meta reported for the account (percent).", labels=["account"]
        )
        last = GaugeMetricFamily(
            LAST_SUCCESS, "When the account last loaded completely (Unix time).", labels=["account"]
        )
        for a in snap.accounts:
            rows.add_metric([a.account, a.table, ADS_REPORT], a.ads_rows)
            rows.add_metric([a.account, a.actions_table, ACTIONS_REPORT], a.actions_rows)
            calls.add_metric([a.account], a.api_calls)
            throttled.add_metric([a.account], a.throttled_s)
            if a.usage_percent is not None:
                usage.add_metric([a.account], a.usage_percent)
            if a.last_success is not None:
                last.add_metric([a.account], a.last_success.timestamp())
        yield from (rows, calls, throttled, usage, last)

        reconcile = GaugeMetricFamily(
            RECONCILE_DIFFERENCE, "Warehouse total minus the API's total (0: equal).", labels=["account", "metric"]
        )
        for diff in snap.reconcile:
            reconcile.add_metric([diff.account, diff.metric], diff.difference)
        yield reconcile

        expiry = GaugeMetricFamily(
            TOKEN_EXPIRY, "When an access token expires (Unix time), by fingerprint.", labels=["token"]
        )
        for fingerprint, expires in sorted(snap.token_expiries.items()):
            expiry.add_metric([fingerprint], expires.timestamp())
        yield expiry

        yield GaugeMetricFamily(RUN_DURATION, "Duration of the last run (seconds).", value=snap.duration_s)
        yield GaugeMetricFamily(
            RUN_FAILED_ACCOUNTS, "Accounts the last run did not load completely.", value=snap.failed_accounts
        )


def registry_for(snapshot: RunSnapshot) -> CollectorRegistry:
    """A private registry holding the snapshot's metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot))
    return registry


def render_metrics(snapshot: RunSnapshot) -> str:
    """The Prometheus text exposition of the snapshot."""
    return generate_latest(registry_for(snapshot)).decode()


def publish_run_metrics(
    snapshot: RunSnapshot, *, textfile: Path | None = None, pushgateway: str | None = None, timeout_s: float = 10.0
) -> None:
    """Write the snapshot's metrics to a textfile and/or push them to a Pushgateway.

    The textfile is written to a temporary file next to it, then renamed over it, so node_exporter never
    reads half a file. Pushing replaces the ``job="metaads"`` group. A failure raises ``OSError``; callers
    decide whether metrics may fail a run (the CLI logs it and keeps the run's outcome).
    """
    registry = registry_for(snapshot)
    if textfile is not None:
        textfile.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(textfile), registry)  # temp file + os.replace
        log.info("metrics written to %s", textfile)
    if pushgateway:
        push_to_gateway(pushgateway, job=PUSHGATEWAY_JOB, registry=registry, timeout=timeout_s)
        log.info("metrics pushed to %s", pushgateway)
