"""What a sync did: :class:`SyncResult` (rows per table, slices, timing), for the CLI, Airflow and logs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from metaads.sync.plan import Slice
from metaads.sync.targets import ACTIONS_TARGET, ADS_TARGET


@dataclass(frozen=True)
class TableSync:
    """One target table: rows inserted, rows deleted by slice replacement and by pruning.

    ``copy_s`` is the time spent copying this table, summed over the worker threads.
    """

    name: str
    rows: int
    deleted: int
    pruned: int
    copy_s: float


@dataclass(frozen=True)
class SyncResult:
    """The outcome of :func:`metaads.sync.sync_analytics`, also recorded in ``metaads_syncs``."""

    sync_id: int
    mode: str
    target: str
    method: str
    window_start: date
    watermark: int
    slices: tuple[Slice, ...]
    tables: tuple[TableSync, ...]
    duration_s: float
    threads: int
    columns_added: tuple[str, ...] = ()

    def table(self, name: str) -> TableSync:
        """The counts of target table ``name``."""
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    @property
    def ads_rows(self) -> int:
        return self.table(ADS_TARGET).rows

    @property
    def actions_rows(self) -> int:
        return self.table(ACTIONS_TARGET).rows

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)

    def rows_per_s(self, name: str | None = None) -> float:
        """Rows written per wall-clock second: of one table, or of all (the tables' rates add up)."""
        rows = self.rows if name is None else self.table(name).rows
        return rows / self.duration_s if self.duration_s > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """Flat key/value view for the CLI and logs."""
        out: dict[str, Any] = {
            "sync id": self.sync_id,
            "mode": self.mode,
            "target": self.target,
            "write method": f"{self.method} x {self.threads} threads",
            "window": f"{self.window_start.isoformat()}..",
            "slices replaced": len(self.slices),
            "watermark": self.watermark,
        }
        for table in self.tables:
            out[table.name] = (
                f"{table.rows:,} rows ({self.rows_per_s(table.name):,.0f} rows/s), "
                f"{table.deleted:,} replaced, {table.pruned:,} pruned"
            )
        out["duration"] = f"{self.duration_s:.2f}s ({self.rows_per_s():,.0f} rows/s)"
        if self.columns_added:
            out["columns added"] = ", ".join(self.columns_added)
        return out
