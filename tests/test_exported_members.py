"""The names users import from ``metaads`` (the pipeline, settings, errors, the simulator), pinned."""

from __future__ import annotations

import subprocess
import sys

import pytest

import metaads

PUBLIC = [
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


def test_public_names_are_exactly_the_pinned_ones() -> None:
    assert metaads.__all__ == PUBLIC


def test_every_public_name_resolves_to_its_defining_module() -> None:
    for name in PUBLIC:
        member = getattr(metaads, name)
        assert member is not None
        if name != "__version__":
            # Exported where it is defined: ``metaads.X`` is the very object of the module that owns it.
            assert getattr(member, "__module__", "").startswith("metaads."), name
        assert name in dir(metaads)


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        metaads.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018


def test_importing_metaads_loads_no_database_or_http_library() -> None:
    code = (
        "import sys, metaads; heavy = [m for m in ('sqlalchemy', 'httpx', 'pydantic') if m in sys.modules];"
        " print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == ""
