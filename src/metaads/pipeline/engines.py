"""Build the shared resources from settings: database engines and the Graph API client."""

from __future__ import annotations

from typing import Any

import httpx

from metaads.clock import Clock
from metaads.config.settings import Settings
from metaads.database import create_engine_for, describe_url
from metaads.graph import ClientPolicy, GraphClient, ThrottleStore, TokenPool

# ``create_engine_for`` and ``describe_url`` live in :mod:`metaads.database`; re-exported for the builders.
__all__ = ["build_client", "client_policy", "create_engine_for", "describe_url"]


def client_policy(settings: Settings, **overrides: Any) -> ClientPolicy:
    """The policy the ``GRAPH_API_*`` settings describe (``overrides`` win)."""
    values: dict[str, Any] = {
        "page_size": settings.graph_api_page_size,
        "min_page_size": min(ClientPolicy.min_page_size, settings.graph_api_page_size),
        "timeout_s": settings.graph_api_timeout_s,
        "max_retries": settings.graph_api_max_retries,
        "max_wait_s": settings.graph_api_max_wait_s,
        "async_threshold_days": settings.graph_api_async_threshold_days,
        # Requests in flight at once: every account has its own thread, the gate bounds the calls.
        "max_concurrent_calls": settings.account_group_size,
    }
    values.update(overrides)
    return ClientPolicy(**values)


def build_client(
    settings: Settings,
    *,
    clock: Clock,
    transport: httpx.BaseTransport | None = None,
    throttle_store: ThrottleStore | None = None,
) -> GraphClient:
    """The Graph API client configured from settings (rate-limit state in ``throttle_store``, else memory)."""
    policy = client_policy(settings)
    tokens = TokenPool(settings.tokens, app_secret=settings.app_secret)
    return GraphClient(
        base_url=settings.graph_api_base_url,
        version=settings.graph_api_version,
        tokens=tokens,
        policy=policy,
        clock=clock,
        transport=transport,
        throttle_store=throttle_store,
    )
