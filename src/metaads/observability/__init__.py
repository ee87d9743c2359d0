"""What a run tells people and the monitoring stack: alerts, a neutral snapshot and its Prometheus metrics."""

from __future__ import annotations

from metaads.observability.metrics import METRIC_NAMES, publish_run_metrics, render_metrics
from metaads.observability.snapshot import AccountSnapshot, ReconcileDifference, RunSnapshot

__all__ = [
    "METRIC_NAMES",
    "AccountSnapshot",
    "ReconcileDifference",
    "RunSnapshot",
    "publish_run_metrics",
    "render_metrics",
]
