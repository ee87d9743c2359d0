"""The Graph API client: paging, throttling, token fail-over, async reports, errors classified.

Public API::

    from metaads.graph import GraphClient, ClientPolicy, TokenPool, AccountInfo, CallStats
    client = GraphClient(base_url=..., version="v27.0", tokens=TokenPool(tokens, app_secret))
    client.account_info(account); client.campaigns(account); client.insights(account, since, until)
"""

from __future__ import annotations

from metaads.dates import oldest_available_day
from metaads.errors import AsyncJobFailedError, AsyncJobTimeoutError, PagingError
from metaads.graph.account import AccountInfo
from metaads.graph.classify import classify
from metaads.graph.client import ALL_CAMPAIGN_STATUSES, CAMPAIGN_FIELDS, GraphClient
from metaads.graph.insights import DEFAULT_INSIGHTS_FIELDS, InsightsQuery
from metaads.graph.policy import ClientPolicy
from metaads.graph.stats import CallStats
from metaads.graph.throttle import InMemoryThrottleStore, ThrottleState, ThrottleStore
from metaads.graph.tokens import Failover, TokenPool
from metaads.graph.usage import BusinessUseCaseUsage, Usage, parse_usage
from metaads.graph_api import DEFAULT_BASE_URL, DEFAULT_VERSION

__all__ = [
    "ALL_CAMPAIGN_STATUSES",
    "CAMPAIGN_FIELDS",
    "DEFAULT_BASE_URL",
    "DEFAULT_INSIGHTS_FIELDS",
    "DEFAULT_VERSION",
    "AccountInfo",
    "AsyncJobFailedError",
    "AsyncJobTimeoutError",
    "BusinessUseCaseUsage",
    "CallStats",
    "ClientPolicy",
    "Failover",
    "GraphClient",
    "InMemoryThrottleStore",
    "InsightsQuery",
    "PagingError",
    "ThrottleState",
    "ThrottleStore",
    "TokenPool",
    "Usage",
    "classify",
    "oldest_available_day",
    "parse_usage",
]
