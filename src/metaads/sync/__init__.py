"""The analytics sync: warehouse union views -> ``graph_ads`` / ``graph_ads_actions`` (SQL Server or any
SQLAlchemy database), incremental from the run ledger, atomic per slice, parallel bulk writes."""

from __future__ import annotations

from metaads.sync.options import SyncOptions
from metaads.sync.plan import FULL, INCREMENTAL, Slice
from metaads.sync.result import SyncResult, TableSync
from metaads.sync.run import sync_analytics
from metaads.sync.targets import ACTIONS_TARGET, ADS_TARGET, analytics_tables

__all__ = [
    "ACTIONS_TARGET",
    "ADS_TARGET",
    "FULL",
    "INCREMENTAL",
    "Slice",
    "SyncOptions",
    "SyncResult",
    "TableSync",
    "analytics_tables",
    "sync_analytics",
]
