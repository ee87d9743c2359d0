"""metaads: Meta Marketing API ads insights -> PostgreSQL warehouse -> analytics database.

The public names are importable from here (``from metaads import Pipeline, load_settings``); they are
loaded on first use, so ``import metaads`` stays cheap (the DAG file and the CLI start fast).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # the pipeline
    "AccountResult": "metaads.pipeline",
    "ChunkResult": "metaads.pipeline",
    "DateRange": "metaads.dates",
    "Pipeline": "metaads.pipeline",
    "RunSummary": "metaads.pipeline",
    "SyncResult": "metaads.sync",
    "sync_analytics": "metaads.sync",
    # settings and the domain
    "Account": "metaads.accounts",
    "Settings": "metaads.config.settings",
    "load_settings": "metaads.config.settings",
    "settings_from_mapping": "metaads.config.settings",
    "Clock": "metaads.clock",
    "FakeClock": "metaads.clock",
    "SystemClock": "metaads.clock",
    # errors (what the caller does is documented on each)
    "AsyncJobError": "metaads.errors",
    "BadRequestError": "metaads.errors",
    "ConfigError": "metaads.errors",
    "DataTooLargeError": "metaads.errors",
    "DateRangeTooOldError": "metaads.errors",
    "DeprecatedVersionError": "metaads.errors",
    "GraphAPIError": "metaads.errors",
    "LoadError": "metaads.errors",
    "MetaAdsError": "metaads.errors",
    "NoUsableTokenError": "metaads.errors",
    "PermissionDeniedError": "metaads.errors",
    "RateLimitedError": "metaads.errors",
    "SchemaMismatchError": "metaads.errors",
    "SyncError": "metaads.errors",
    "TokenInvalidError": "metaads.errors",
    "TransientError": "metaads.errors",
    "WarehouseError": "metaads.errors",
    # the Graph API simulator
    "Faults": "metaads.simulator",
    "Simulator": "metaads.simulator",
    "SimulatorConfig": "metaads.simulator",
    "SimulatorServer": "metaads.simulator",
}

# Spelled out (not derived from _EXPORTS) so linters and type checkers see it.
__all__ = [
    "Account",
    "AccountResult",
    "AsyncJobError",
    "BadRequestError",
    "ChunkResult",
    "Clock",
    "ConfigError",
    "DataTooLargeError",
    "DateRange",
    "DateRangeTooOldError",
    "DeprecatedVersionError",
    "FakeClock",
    "Faults",
    "GraphAPIError",
    "LoadError",
    "MetaAdsError",
    "NoUsableTokenError",
    "PermissionDeniedError",
    "Pipeline",
    "RateLimitedError",
    "RunSummary",
    "SchemaMismatchError",
    "Settings",
    "Simulator",
    "SimulatorConfig",
    "SimulatorServer",
    "SyncError",
    "SyncResult",
    "SystemClock",
    "TokenInvalidError",
    "TransientError",
    "WarehouseError",
    "__version__",
    "load_settings",
    "settings_from_mapping",
    "sync_analytics",
]

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time ``__getattr__`` imports on first use
    from metaads.accounts import Account
    from metaads.clock import Clock, FakeClock, SystemClock
    from metaads.config.settings import Settings, load_settings, settings_from_mapping
    from metaads.dates import DateRange
    from metaads.errors import (
        AsyncJobError,
        BadRequestError,
        ConfigError,
        DataTooLargeError,
        DateRangeTooOldError,
        DeprecatedVersionError,
        GraphAPIError,
        LoadError,
        MetaAdsError,
        NoUsableTokenError,
        PermissionDeniedError,
        RateLimitedError,
        SchemaMismatchError,
        SyncError,
        TokenInvalidError,
        TransientError,
        WarehouseError,
    )
    from metaads.pipeline import AccountResult, ChunkResult, Pipeline, RunSummary
    from metaads.simulator import Faults, Simulator, SimulatorConfig, SimulatorServer
    from metaads.sync import SyncResult, sync_analytics


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'metaads' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
