"""How a sync runs: one frozen value instead of a long list of keyword arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from metaads.sync.plan import DEFAULT_SLICE_DAYS, Slice


@dataclass(frozen=True)
class SyncOptions:
    """What to copy and how (see :func:`metaads.sync.sync_analytics`).

    Attributes:
        full: re-copy the whole retention window instead of the slices loaded since the last sync.
        evolve: add target columns the views have and the tables lack (then copy the whole window).
        retention_days: days kept in the target, ending with ``today``; older rows are pruned.
        threads: parallel slice replacements (one warehouse and one target connection each).
        batch_rows: rows fetched and written per batch.
        today: last day of the retention window (default: the clock's UTC date).
        write_method: force a writer (``pg_pipe``, ``pg_copy``, ``mysql_load``, ``executemany``,
            ``multivalues``, ``sqlalchemy``); None picks the fastest the drivers allow.
        slice_days: longest date range replaced in one transaction.
        before_commit: called inside each slice's transaction just before its commit (tests inject
            failures here).
    """

    full: bool = False
    evolve: bool = False
    retention_days: int = 90
    threads: int = 8
    batch_rows: int = 5000
    today: date | None = None
    write_method: str | None = None
    slice_days: int = DEFAULT_SLICE_DAYS
    before_commit: Callable[[Slice], None] | None = None
