"""The original design's extraction pipeline, followed literally, as the end-to-end baseline.

What ``original-design.md`` describes, and this module does:

- **DAG**: accounts in task groups of 5; the groups run one after another ("Groups run sequentially to
  manage total API load"), the tasks of a group in parallel (threads here; Airflow would use worker
  processes). Token rotation: account *i* uses token ``i % len(tokens)``.
- **GraphAPIClient** (``requests``), per account: synchronous paging, ``response =
  make_api_request(url, params); if rate_limit_error: sleep(60); retry_request(); data.extend(
  response.data); url = response.paging.next``, first the insights, then the campaigns.
- **GraphAPIDataProcessor**: pandas DataFrames, merged campaign statuses, an md5 ``unique_id``, and
  **DatabaseManager.upsert_dataframe**: DELETE the date range, ``DataFrame.to_sql(chunksize=1000)``, in
  one transaction (both from :mod:`bench.baseline.pandas_upsert`).

Where the document is silent, the baseline gets what metaads has, so that both do the same work and
load the same rows: ``limit=500`` rows per page (the API's default of 25 would need 20x the calls),
the same insights fields and the effective-status filter that includes archived and deleted ads, one
account-info call for the currency and the time zone (the look-back window ends on the account's
local today), a ``requests.Session`` per task (connection reuse). No metaads client code is used.

All waiting is done on an injected clock (the benchmark's :class:`bench.timescale.ScaledClock`).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
import sqlalchemy as sa

from bench.baseline.pandas_upsert import DatabaseManager, GraphAPIDataProcessor
from bench.timescale import ScaledClock

GROUP_SIZE = 5
RATE_LIMIT_WAIT_S = 60.0
PAGE_LIMIT = 500
# Throttling codes of graph-api-spec.md (app, user, page, account, business-use-case limits).
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
INSIGHTS_FIELDS = (
    "account_id,account_name,campaign_id,campaign_name,adset_id,adset_name,ad_id,ad_name,"
    "objective,spend,clicks,inline_link_clicks,impressions,reach,actions,action_values,"
    "date_start,date_stop"
)
AD_STATUSES = (
    "ACTIVE",
    "PAUSED",
    "ARCHIVED",
    "DELETED",
    "IN_PROCESS",
    "WITH_ISSUES",
    "CAMPAIGN_PAUSED",
    "ADSET_PAUSED",
    "DISAPPROVED",
    "PENDING_REVIEW",
    "PREAPPROVED",
    "PENDING_BILLING_INFO",
)
CAMPAIGN_STATUSES = ("ACTIVE", "PAUSED", "DELETED", "ARCHIVED", "IN_PROCESS", "WITH_ISSUES")


class GraphAPIClient:
    """``utils/graph_api.py``'s client: one token, synchronous requests, a fixed wait when throttled."""

    def __init__(
        self,
        base_url: str,
        version: str,
        token: str,
        clock: ScaledClock,
        *,
        page_limit: int = PAGE_LIMIT,
        timeout_s: float = 120.0,
    ) -> None:
        self.base = f"{base_url.rstrip('/')}/{version}"
        self.token = token
        self.clock = clock
        self.page_limit = page_limit
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self.api_calls = 0
        self.throttled_errors = 0
        self.waited_s = 0.0

    def make_api_request(self, url: str, params: dict[str, Any] | None) -> dict[str, Any]:
        """One GET; on a rate-limit error wait the configured 60 s and retry the same request."""
        while True:
            response = self.session.get(url, params=params, timeout=self.timeout_s)
            self.api_calls += 1
            body: dict[str, Any] = response.json()
            error = body.get("error")
            if error is None:
                return body
            if error.get("code") in RATE_LIMIT_CODES:
                self.throttled_errors += 1
                self.waited_s += RATE_LIMIT_WAIT_S
                self.clock.sleep(RATE_LIMIT_WAIT_S)
                continue
            raise RuntimeError(f"Graph API error {error.get('code')}: {error.get('message')}")

    def get_paged(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every page of an edge, following ``paging.next``, gathered into one list."""
        url: str | None = f"{self.base}/{path}"
        query: dict[str, Any] | None = {**params, "limit": self.page_limit, "access_token": self.token}
        data: list[dict[str, Any]] = []
        while url:
            body = self.make_api_request(url, query)
            data.extend(body.get("data", []))
            url = body.get("paging", {}).get("next")
            query = None  # the next URL carries every parameter, the token included
        return data

    def get_account(self, account_id: str) -> dict[str, Any]:
        return self.make_api_request(
            f"{self.base}/act_{account_id}", {"fields": "currency,timezone_name", "access_token": self.token}
        )

    def get_insights(self, account_id: str, since: str, until: str) -> list[dict[str, Any]]:
        filtering = [{"field": "ad.effective_status", "operator": "IN", "value": list(AD_STATUSES)}]
        return self.get_paged(
            f"act_{account_id}/insights",
            {
                "level": "ad",
                "fields": INSIGHTS_FIELDS,
                "time_increment": 1,
                "time_range": json.dumps({"since": since, "until": until}, separators=(",", ":")),
                "filtering": json.dumps(filtering, separators=(",", ":")),
            },
        )

    def get_campaigns(self, account_id: str) -> list[dict[str, Any]]:
        return self.get_paged(
            f"act_{account_id}/campaigns",
            {
                "fields": "id,name,status,start_time",
                "effective_status": json.dumps(list(CAMPAIGN_STATUSES), separators=(",", ":")),
            },
        )

    def close(self) -> None:
        self.session.close()


@dataclass
class TaskResult:
    """One account's task: what it cost and when it ran (simulated seconds unless ``_real_s``)."""

    account_id: str
    ads_rows: int = 0
    actions_rows: int = 0
    api_calls: int = 0
    throttled_errors: int = 0
    waited_s: float = 0.0
    start_s: float = 0.0
    end_s: float = 0.0
    work_real_s: float = 0.0  # pandas processing + delete/to_sql, in real seconds
    error: str | None = None


def extract_account(
    account: dict[str, str],
    token: str,
    *,
    base_url: str,
    version: str,
    lookback_days: int,
    clock: ScaledClock,
    manager: DatabaseManager,
    page_limit: int = PAGE_LIMIT,
) -> TaskResult:
    """The Airflow task for one account: extract, process with pandas, upsert."""
    result = TaskResult(account["id"], start_s=clock.monotonic())
    client = GraphAPIClient(base_url, version, token, clock, page_limit=page_limit)
    try:
        info = client.get_account(account["id"])
        today = clock.now().astimezone(ZoneInfo(info["timezone_name"])).date()
        since = today - timedelta(days=lookback_days - 1)
        insights = client.get_insights(account["id"], since.isoformat(), today.isoformat())
        campaigns = client.get_campaigns(account["id"])
        started = time.perf_counter()
        if insights:
            ads, actions = GraphAPIDataProcessor.process_insights_data(
                insights, campaigns, info["currency"], clock.now()
            )
            result.ads_rows = manager.upsert_dataframe(ads, account["table"])
            result.actions_rows = manager.upsert_dataframe(actions, account["actions_table"])
        result.work_real_s = time.perf_counter() - started
    except (requests.RequestException, RuntimeError, sa.exc.SQLAlchemyError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        client.close()
        result.api_calls = client.api_calls
        result.throttled_errors = client.throttled_errors
        result.waited_s = client.waited_s
        result.end_s = clock.monotonic()
    return result


def run(
    accounts: list[dict[str, str]],
    tokens: list[str],
    *,
    base_url: str,
    version: str,
    warehouse_url: str,
    schema: str,
    lookback_days: int,
    clock: ScaledClock,
    group_size: int = GROUP_SIZE,
    page_size: int = PAGE_LIMIT,
) -> dict[str, Any]:
    """The DAG: groups of ``group_size`` accounts one after another, each group's tasks in parallel."""
    engine = sa.create_engine(warehouse_url, pool_size=group_size, max_overflow=group_size)
    manager = DatabaseManager(engine, schema)
    results: list[TaskResult] = []
    groups = [accounts[i : i + group_size] for i in range(0, len(accounts), group_size)]
    started_sim, started_real = clock.monotonic(), time.perf_counter()
    try:
        for offset, group in zip(range(0, len(accounts), group_size), groups, strict=True):
            with ThreadPoolExecutor(max_workers=len(group), thread_name_prefix="baseline-task") as pool:
                futures = [
                    pool.submit(
                        extract_account,
                        account,
                        tokens[(offset + i) % len(tokens)],
                        base_url=base_url,
                        version=version,
                        lookback_days=lookback_days,
                        clock=clock,
                        manager=manager,
                        page_limit=page_size,
                    )
                    for i, account in enumerate(group)
                ]
                results.extend(f.result() for f in futures)
    finally:
        engine.dispose()
    return {
        "wall_s": clock.monotonic() - started_sim,
        "wall_real_s": time.perf_counter() - started_real,
        "start_s": started_sim,
        "groups": [[a["id"] for a in group] for group in groups],
        "accounts": [asdict(r) for r in results],
    }
