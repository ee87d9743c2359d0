"""Reconciliation: ad-level rows against Meta's account-level daily totals (issue 10).

- :mod:`~metaads.reconcile.totals`: per-day sums of spend, impressions, clicks and link clicks, built
  while rows stream (pure).
- :mod:`~metaads.reconcile.compare`: the tolerance, per-day comparison and the "no day gets worse"
  choice of which days a load may replace (pure).
- :mod:`~metaads.reconcile.fetch`: the account-level request (``level=account``, ``time_increment=1``).
- :mod:`~metaads.pipeline.verify` / :mod:`~metaads.warehouse.quality`: ``metaads verify`` and the
  data-quality checks recorded after each run.
"""

from __future__ import annotations

from metaads.reconcile.compare import (
    MODES,
    OFF,
    STRICT,
    WARN,
    ChunkCheck,
    DayCheck,
    Tolerance,
    check_days,
    days_to_replace,
)
from metaads.reconcile.totals import METRICS, DayTotals, TotalsByDay, sum_api_rows

__all__ = [
    "METRICS",
    "MODES",
    "OFF",
    "STRICT",
    "WARN",
    "ChunkCheck",
    "DayCheck",
    "DayTotals",
    "Tolerance",
    "TotalsByDay",
    "check_days",
    "days_to_replace",
    "sum_api_rows",
]
