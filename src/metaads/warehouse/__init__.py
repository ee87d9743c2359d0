"""The warehouse: per-account tables, union views, atomic range loads and the run ledger."""

from __future__ import annotations

from metaads.warehouse.load import LoadResult
from metaads.warehouse.store import Warehouse

__all__ = ["LoadResult", "Warehouse"]
