"""The pipeline: extract -> transform -> load for every account, then sync. Used by CLI and Airflow."""

from __future__ import annotations

from metaads.dates import DateRange
from metaads.outcomes import ChunkResult
from metaads.pipeline.job import Pipeline, new_run_id
from metaads.pipeline.results import AccountResult, ProgressListener, RunSummary

__all__ = [
    "AccountResult",
    "ChunkResult",
    "DateRange",
    "Pipeline",
    "ProgressListener",
    "RunSummary",
    "new_run_id",
]
