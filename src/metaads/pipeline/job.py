"""The main job: extract each account's insights, transform, load; then (optionally) sync.

Used by the CLI (``metaads run``), the demo and the Airflow DAG. One :class:`Pipeline` holds the
shared resources (a thread-safe Graph client, the warehouse engine); accounts are processed
concurrently, each in its own thread, bounded by ``ACCOUNT_GROUP_SIZE``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import TYPE_CHECKING, Any

import httpx
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.clock import Clock, SystemClock
from metaads.config.settings import Settings
from metaads.database import create_engine_for, describe_url
from metaads.dates import DateRange, chunk_range, local_today, oldest_available_day, resolve_range
from metaads.errors import (
    ConfigError,
    MetaAdsError,
    NoUsableTokenError,
    PermissionDeniedError,
    TokenInvalidError,
)
from metaads.graph import GraphClient
from metaads.pipeline.results import (
    FAILED,
    LOADED,
    PARTIAL,
    AccountResult,
    ChunkResult,
    NullListener,
    ProgressListener,
    RunSummary,
)
from metaads.pipeline.spool import RowSpool
from metaads.pipeline.window import Window, WindowPolicy, plan_window
from metaads.redact import redact_text
from metaads.transform import campaign_status_map, to_actions_rows, to_ads_rows
from metaads.warehouse import Warehouse
from metaads.warehouse.registry import RegisteredAccount

if TYPE_CHECKING:
    from metaads.sync import SyncResult

log = logging.getLogger("metaads.pipeline")

# Errors after which no other range of the account can succeed in this run.
_ACCOUNT_FATAL: tuple[type[BaseException], ...] = (
    PermissionDeniedError, NoUsableTokenError, TokenInvalidError, ConfigError,
)


class Pipeline:
    """Shared resources of a run and the operations the CLI and Airflow call."""

    def __init__(self, settings: Settings, *, client: GraphClient, warehouse_engine: sa.Engine,
                 clock: Clock | None = None) -> None:
        self.settings = settings
        self.client = client
        self.clock: Clock = clock or SystemClock()
        self.warehouse_engine = warehouse_engine
        self.warehouse = Warehouse(warehouse_engine, settings.warehouse_schema, clock=self.clock)
        self._initialised = False

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock | None = None,
                      transport: httpx.BaseTransport | None = None) -> Pipeline:
        """Build the Graph client and the warehouse engine from settings."""
        from metaads.pipeline.engines import build_client

        clock = clock or SystemClock()
        client = build_client(settings, clock=clock, transport=transport)
        engine = create_engine_for(settings.warehouse_url, pool_size=settings.account_group_size + 2)
        return cls(settings, client=client, warehouse_engine=engine, clock=clock)

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()
        self.warehouse_engine.dispose()

    def init_warehouse(self) -> None:
        """Create tables, indexes, views and the ledger for the configured accounts (idempotent)."""
        self.warehouse.init(self.settings.accounts)
        self._initialised = True

    # ------------------------------------------------------------------ account registry

    def registered_accounts(self) -> list[RegisteredAccount]:
        """The warehouse's account registry (after registering the configured accounts)."""
        self.init_warehouse()
        return self.warehouse.registered_accounts()

    def retire_account(self, key: str) -> RegisteredAccount:
        """Take an account that is no longer in META_ACCOUNTS out of the views (its tables stay)."""
        self.init_warehouse()
        return self.warehouse.retire(key, self.settings.accounts)

    # ------------------------------------------------------------------ one account

    def extract_and_load(self, account: Account, *, run_id: str | None = None, since: date | None = None,
                         until: date | None = None, lookback: int | None = None, deep: bool = False,
                         listener: ProgressListener | None = None) -> AccountResult:
        """Fetch one account's insights for the range its ledger calls for (or since/until) and load them.

        The range (:mod:`metaads.pipeline.window`): the deep look-back on the account's first run of its
        local day (or when ``deep``), else the look-back, reaching back to the first day not loaded yet;
        a new account's initial history. Each chunk of ``BACKFILL_CHUNK_DAYS`` is fetched completely,
        then replaces its date range in one transaction. A chunk whose fetch fails is not touched and is
        reported as missing. Never raises for API or load failures: they are in the returned result (and
        the ledger).
        """
        listener = listener or NullListener()
        if not self._initialised:
            self.init_warehouse()
        run_id = run_id or new_run_id()
        started = self.clock.monotonic()
        result = AccountResult(account=account, status=FAILED)
        try:
            info = self.client.account_info(account)
            today = local_today(self.clock.now(), info.timezone_name)
            window = self._window(account, today, info.timezone_name, lookback=lookback, deep=deep,
                                  since=since, until=until, created=info.created_day())
            whole, result.window = window.range, window.kind
            result.range = whole
            listener.account_started(account, whole)
            statuses = campaign_status_map(self.client.campaigns(account))
            for chunk in chunk_range(whole, self.settings.backfill_chunk_days):
                chunk_result = self._load_chunk(account, chunk, statuses, info.currency, listener)
                result.chunks.append(chunk_result)
                self._record(run_id, account, chunk_result, result, started)
                if chunk_result.fatal:
                    result.retryable = False
                    break
        except MetaAdsError as exc:
            result.error = redact_text(str(exc))
            result.retryable = not isinstance(exc, _ACCOUNT_FATAL)
            if result.range is None:  # failed before the account's time zone was known: use UTC
                result.range = self._fallback_range(account, lookback=lookback, deep=deep, since=since,
                                                    until=until)
        finally:
            stats = self.client.stats(account)
            result.api_calls = stats.api_calls
            result.throttled_s = stats.throttled_s
            result.duration_s = self.clock.monotonic() - started
        if result.range is not None and not result.chunks:  # failed before any chunk: all of it is missing
            result.chunks.append(ChunkResult(result.range, FAILED, error=result.error))
            self._record(run_id, account, result.chunks[0], result, started)
        result.status = _status_of(result)
        listener.account_finished(result)
        _log_result(result)
        return result

    # ------------------------------------------------------------------ which days (issue 10)

    def _window(self, account: Account, today: date, timezone_name: str | None, *, lookback: int | None,
                deep: bool, since: date | None, until: date | None, created: date | None = None) -> Window:
        """Plan the account's range from its ledger (explicit bounds need no ledger)."""
        entries = [] if since or until else self.warehouse.history(account, since=oldest_available_day(today))
        policy = WindowPolicy(lookback_days=lookback or self.settings.lookback_days,
                              deep_lookback_days=self.settings.deep_lookback_days,
                              initial_history_days=self.settings.initial_history_days)
        window = plan_window(today, entries, policy, timezone_name=timezone_name, deep=deep, since=since,
                             until=until, created=created)
        log.debug("account %s: %s window %s", account.display_name, window.kind, window.range)
        return window

    def _fallback_range(self, account: Account, *, lookback: int | None, deep: bool, since: date | None,
                        until: date | None) -> DateRange:
        """The range a run meant to fetch when the account failed before its time zone was known (UTC)."""
        today = local_today(self.clock.now(), None)
        try:
            return self._window(account, today, None, lookback=lookback, deep=deep, since=since,
                                until=until).range
        except MetaAdsError:
            return resolve_range(today, lookback_days=lookback or self.settings.lookback_days, since=since,
                                 until=until)

    def _load_chunk(self, account: Account, chunk: DateRange, statuses: dict[str, str],
                    currency: str | None, listener: ProgressListener) -> ChunkResult:
        with RowSpool() as spool:
            try:
                for page in self.client.insights(account, chunk.since, chunk.until):
                    spool.extend(page)
                    listener.rows_fetched(account, len(page))
            except _ACCOUNT_FATAL as exc:
                return ChunkResult(chunk, FAILED, error=_FATAL_PREFIX + redact_text(str(exc)), fatal=True)
            except MetaAdsError as exc:
                return ChunkResult(chunk, FAILED, error=redact_text(str(exc)))
            loaded_at = self.clock.now()
            try:
                load = self.warehouse.replace_range(
                    account, chunk.since, chunk.until,
                    to_ads_rows(spool.rows(), campaign_status=statuses, currency=currency,
                                loaded_at=loaded_at),
                    to_actions_rows(spool.rows(), loaded_at=loaded_at),
                )
            except MetaAdsError as exc:
                return ChunkResult(chunk, FAILED, error=redact_text(str(exc)))
        return ChunkResult(chunk, LOADED, ads_rows=load.ads_rows, actions_rows=load.actions_rows)

    def _record(self, run_id: str, account: Account, chunk: ChunkResult, result: AccountResult,
                started: float) -> None:
        stats = self.client.stats(account)
        try:
            self.warehouse.record_account_run(
                run_id, account, chunk.range.since, chunk.range.until, status=chunk.status,
                ads_rows=chunk.ads_rows, actions_rows=chunk.actions_rows, api_calls=stats.api_calls,
                throttled_s=stats.throttled_s, duration_s=self.clock.monotonic() - started,
                error=chunk.error,
            )
        except MetaAdsError as exc:  # the ledger is bookkeeping: report, do not lose the load
            log.error("account %s: could not write the run ledger: %s", account.display_name, exc)

    # ------------------------------------------------------------------ all accounts

    def run(self, accounts: Sequence[Account] | None = None, *, since: date | None = None,
            until: date | None = None, lookback: int | None = None, deep: bool = False, trigger: str = "cli",
            listener: ProgressListener | None = None) -> RunSummary:
        """Extract and load several accounts concurrently (``ACCOUNT_GROUP_SIZE`` at a time)."""
        chosen = list(accounts) if accounts is not None else list(self.settings.accounts)
        self.init_warehouse()
        started = self.clock.monotonic()
        run_id = self.warehouse.start_run(trigger=trigger, accounts=len(chosen))
        results: list[AccountResult] = []
        workers = max(1, min(self.settings.account_group_size, len(chosen)))
        # A pool rather than strict groups: a slow account does not hold back the next group's
        # accounts, while concurrency stays bounded exactly as the original design's groups bound it.
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="metaads-account") as pool:
            futures = [pool.submit(self.extract_and_load, a, run_id=run_id, since=since, until=until,
                                   lookback=lookback, deep=deep, listener=listener) for a in chosen]
            results = [f.result() for f in futures]
        failed = sum(1 for r in results if not r.ok)
        status = "success" if not failed else ("failed" if failed == len(results) else "partial")
        self.warehouse.finish_run(run_id, status=status, accounts_failed=failed)
        return RunSummary(run_id=run_id, results=results, duration_s=self.clock.monotonic() - started)

    # ------------------------------------------------------------------ analytics

    def sync(self, *, full: bool = False, evolve: bool = False,
             analytics_url: str | None = None) -> SyncResult | None:
        """Copy the warehouse views to the analytics database; None when ANALYTICS_URL is unset."""
        from metaads.sync import sync_analytics

        url = analytics_url or self.settings.analytics_url
        if not url:
            return None
        target = create_engine_for(url, pool_size=self.settings.sync_threads + 1, variable="ANALYTICS_URL")
        try:
            return sync_analytics(
                self.warehouse_engine, self.settings.warehouse_schema, target,
                self.settings.analytics_schema, full=full, evolve=evolve,
                retention_days=self.settings.retention_days, threads=self.settings.sync_threads,
                batch_rows=self.settings.sync_batch_rows, clock=self.clock,
            )
        finally:
            target.dispose()

    def describe(self) -> dict[str, Any]:
        """Where things go, without secrets (for logs and the CLI)."""
        return {
            "graph_api": f"{self.settings.graph_api_base_url}/{self.settings.graph_api_version}",
            "warehouse": describe_url(self.settings.warehouse_url),
            "analytics": describe_url(self.settings.analytics_url) if self.settings.analytics_url else None,
        }


def new_run_id() -> str:
    return str(uuid.uuid4())


_FATAL_PREFIX = "account unusable: "


def _status_of(result: AccountResult) -> str:
    loaded = [c for c in result.chunks if c.status == LOADED]
    if result.error is None and result.chunks and len(loaded) == len(result.chunks):
        return LOADED
    if loaded:
        return PARTIAL
    if result.error is None:
        result.error = next((c.error for c in result.chunks if c.error), "nothing loaded")
    return FAILED


def _log_result(result: AccountResult) -> None:
    extra = {
        "account": result.account.display_name, "account_id": result.account.id,
        "status": result.status, "range": str(result.range) if result.range else None, "window": result.window,
        "ads_rows": result.ads_rows, "actions_rows": result.actions_rows, "api_calls": result.api_calls,
        "throttled_s": round(result.throttled_s, 3), "duration_s": round(result.duration_s, 3),
        "error": result.error,
    }
    level = logging.INFO if result.ok else logging.ERROR
    log.log(level, "account %s %s: %s ads rows, %s actions rows, %s API calls, %.1fs throttled, %.1fs%s",
            result.account.display_name, result.status, result.ads_rows, result.actions_rows,
            result.api_calls, result.throttled_s, result.duration_s,
            f" error: {result.error}" if result.error else "", extra={"metaads": extra})
