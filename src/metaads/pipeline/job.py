"""The main job: extract each account's insights, transform, load; then (optionally) sync.

Used by the CLI (``metaads run``), the demo and the Airflow DAG. One :class:`Pipeline` holds the
shared resources (a thread-safe Graph client, the warehouse engine); accounts are processed
concurrently, each in its own thread; ``ACCOUNT_GROUP_SIZE`` bounds API calls in flight and loads.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

import httpx
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.clock import Clock, SystemClock
from metaads.config.settings import Settings
from metaads.database import create_engine_for, describe_url
from metaads.dates import DateRange, chunk_range, local_today, oldest_available_day, resolve_range
from metaads.errors import Action, MetaAdsError, is_retryable
from metaads.graph import CallStats, GraphClient
from metaads.graph.token_health import TokenHealth
from metaads.outcomes import ChunkResult
from metaads.pipeline.chunk import ChunkLoader, PreparedChunk
from metaads.pipeline.entities import load_entities
from metaads.pipeline.memory import limit_allocator_growth
from metaads.pipeline.reports import ReportLoader, load_reports
from metaads.pipeline.results import (
    FAILED,
    LOADED,
    PARTIAL,
    AccountResult,
    NullListener,
    ProgressListener,
    RunSummary,
)
from metaads.pipeline.token_check import daily_token_check
from metaads.pipeline.window import Window, WindowPolicy, plan_window
from metaads.redact import redact_text
from metaads.statuses import AccountStatus, RunStatus
from metaads.transform import campaign_status_map
from metaads.warehouse import Warehouse
from metaads.warehouse.entities import EntityStore
from metaads.warehouse.registry import RegisteredAccount

if TYPE_CHECKING:
    from metaads.pipeline.verify import VerifyReport
    from metaads.sync import SyncResult
    from metaads.sync.entities import EntitySyncResult
    from metaads.warehouse.throttle import WarehouseThrottleStore

log = logging.getLogger("metaads.pipeline")

# Accounts processed at once by run(): each in its own thread (see run()).
MAX_ACCOUNT_THREADS = 64


class Pipeline:
    """Shared resources of a run and the operations the CLI and Airflow call."""

    def __init__(
        self, settings: Settings, *, client: GraphClient, warehouse_engine: sa.Engine, clock: Clock | None = None
    ) -> None:
        # Every pipeline process (``metaads run``, each Airflow task): keep RSS at what is live, however
        # many pages and threads (pipeline/memory.py; without it a 1M-row run peaked 36 % higher).
        limit_allocator_growth()
        self.settings = settings
        self.client = client
        self.clock: Clock = clock or SystemClock()
        self.warehouse_engine = warehouse_engine
        self.warehouse = Warehouse(
            warehouse_engine, settings.warehouse_schema, clock=self.clock, reports=settings.reports
        )
        self.entities = EntityStore(warehouse_engine, settings.warehouse_schema, clock=self.clock)
        self.entity_sync: EntitySyncResult | None = None  # the last sync's entity part (ENTITY_TABLES)
        self._initialised = False
        self._load_slots = threading.BoundedSemaphore(settings.account_group_size)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        shared_throttle: bool = False,
    ) -> Pipeline:
        """Build the Graph client and the warehouse engine from settings: the one pipeline builder.

        ``shared_throttle`` keeps the client's rate-limit state in the warehouse, shared with every
        other worker (Airflow tasks); otherwise it lives in this process's memory.
        """
        from metaads.pipeline.engines import build_client

        clock = clock or SystemClock()
        engine = create_engine_for(settings.warehouse_url, pool_size=settings.account_group_size + 2)
        store = shared_throttle_store(engine, settings) if shared_throttle else None
        client = build_client(settings, clock=clock, transport=transport, throttle_store=store)
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
        """Migrate an earlier warehouse, then create tables, indexes, views and the ledger for the configured
        accounts (idempotent); the entity tables too unless ``ENTITY_TABLES`` is off."""
        from metaads.warehouse.migrations import migrate

        migrate(
            self.warehouse_engine,
            self.settings.warehouse_schema,
            self.settings.accounts,
            clock=self.clock,
            reports=self.settings.reports,
        )
        self.warehouse.init(self.settings.accounts)
        if self.settings.entity_tables:
            self.entities.init(self.settings.accounts)
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

    def extract_and_load(
        self,
        account: Account,
        *,
        run_id: str | None = None,
        since: date | None = None,
        until: date | None = None,
        lookback: int | None = None,
        deep: bool = False,
        listener: ProgressListener | None = None,
    ) -> AccountResult:
        """Fetch one account's insights for the range its ledger calls for (or since/until) and load them.

        The range (:mod:`metaads.pipeline.window`): the deep look-back on the account's first run of its
        local day (or when ``deep``), else the look-back, reaching back to the first day not loaded yet;
        a new account's initial history. Each chunk of ``BACKFILL_CHUNK_DAYS`` is fetched completely,
        then replaces its date range in one transaction, while the next chunk is fetched (see
        :meth:`_load_chunks`). A chunk whose fetch fails is not touched and is
        reported as missing. This is the account boundary: no failure of the account, an unforeseen one
        included, leaves it; each is in the returned result and the ledger (type and message, redacted),
        so the other accounts, the run's summary and the sync go on.
        """
        listener = listener or NullListener()
        if not self._initialised:
            self.init_warehouse()
        run_id = run_id or new_run_id()
        started = self.clock.monotonic()
        before = self.client.stats(account)
        lookback = lookback or self.settings.lookback_days
        result = AccountResult(account=account, status=FAILED)
        try:
            info = self.client.account_info(account)
            today = local_today(self.clock.now(), info.timezone_name)
            window = self._window(
                account,
                today,
                info.timezone_name,
                lookback=lookback,
                deep=deep,
                since=since,
                until=until,
                created=info.created_day(),
            )
            result.range, result.window = window.range, window.kind
            listener.account_started(account, result.range)
            statuses = campaign_status_map(self.client.campaigns(account))
            self._load_chunks(account, window.range, result, statuses, info.currency, listener, run_id)
            if self.settings.reports and not any(c.fatal for c in result.chunks):
                loader = ReportLoader(
                    self.client,
                    self.warehouse,
                    self.clock,
                    reconcile=self.settings.reconcile,
                    relative_tolerance=self.settings.reconcile_tolerance,
                    load_slots=self._load_slots,
                )
                result.reports = load_reports(
                    loader,
                    account,
                    self.settings.reports,
                    today=local_today(self.clock.now(), info.timezone_name),
                    default_lookback=lookback,
                    chunk_days=self.settings.backfill_chunk_days,
                    since=since,
                    until=until,
                    run_id=run_id,
                    currency=info.currency,
                    on_rows=lambda rows: listener.rows_fetched(account, rows),
                )
            if self.settings.entity_tables and not any(c.fatal for c in result.chunks):
                entities = load_entities(
                    self.client, self.entities, account, run_id=run_id, clock=self.clock, load_slot=self._load_slots
                )
                result.entity_rows, result.entity_errors = entities.rows, entities.errors
        except Exception as exc:  # noqa: BLE001 - the account boundary: one account's fault stays its own
            result.error = _error_text(exc)
            result.retryable = is_retryable(exc)
            if not isinstance(exc, MetaAdsError):
                log.error("account %s: unexpected fault", account.display_name, exc_info=exc)
            if result.range is None:  # failed before the range was known: name the one planned, in UTC
                result.range = self._fallback_range(account, lookback=lookback, deep=deep, since=since, until=until)
        finally:
            spent = _stats_since(self.client.stats(account), before)
            result.api_calls = spent.api_calls
            result.throttled_s = spent.throttled_s
            result.duration_s = self.clock.monotonic() - started
        if not result.chunks:  # failed before any chunk: all of it is missing
            result.chunks.append(
                ChunkResult(
                    result.range,
                    FAILED,
                    error=result.error,
                    fatal=True,
                    api_calls=result.api_calls,
                    throttled_s=result.throttled_s,
                    duration_s=result.duration_s,
                )
            )
            self._record(run_id, account, result.chunks[0])
        result.status = _status_of(result)
        listener.account_finished(result)
        _log_result(result)
        return result

    # ------------------------------------------------------------------ which days (issue 10)

    def _window(
        self,
        account: Account,
        today: date,
        timezone_name: str | None,
        *,
        lookback: int | None,
        deep: bool,
        since: date | None,
        until: date | None,
        created: date | None = None,
    ) -> Window:
        """Plan the account's range from its ledger (explicit bounds need no ledger)."""
        entries = [] if since or until else self.warehouse.history(account, since=oldest_available_day(today))
        policy = WindowPolicy(
            lookback_days=lookback or self.settings.lookback_days,
            deep_lookback_days=self.settings.deep_lookback_days,
            initial_history_days=self.settings.initial_history_days,
        )
        window = plan_window(
            today, entries, policy, timezone_name=timezone_name, deep=deep, since=since, until=until, created=created
        )
        log.debug("account %s: %s window %s", account.display_name, window.kind, window.range)
        return window

    def _fallback_range(
        self, account: Account, *, lookback: int, deep: bool, since: date | None, until: date | None
    ) -> DateRange:
        """The range a run meant to fetch when the account failed before its time zone was known (UTC)."""
        today = local_today(self.clock.now(), None)
        try:
            return self._window(account, today, None, lookback=lookback, deep=deep, since=since, until=until).range
        except MetaAdsError:  # the ledger or the bounds themselves were at fault
            return _requested_range(today, lookback, since, until)

    def _load_chunks(
        self,
        account: Account,
        date_range: DateRange,
        result: AccountResult,
        statuses: dict[str, str],
        currency: str | None,
        listener: ProgressListener,
        run_id: str,
    ) -> None:
        """Fetch and load the account's chunks in order, each chunk's fetch beside the previous one's load.

        A load waits for the database, a fetch for the API: the next chunk's fetch need not wait for the
        previous load. Loads stay one at a time per account and in chunk order (a second thread), and a
        chunk is loaded only once the previous one has: after a load that leaves the account unusable,
        the next chunk (already fetched) is dropped.
        """
        loader = ChunkLoader(
            self.client,
            self.warehouse,
            self.clock,
            mode=self.settings.reconcile,
            relative_tolerance=self.settings.reconcile_tolerance,
            load_slots=self._load_slots,
        )

        def done(chunk_result: ChunkResult) -> bool:
            """Note a chunk's result; whether the account's later chunks must stop."""
            result.chunks.append(chunk_result)
            if not chunk_result.recorded:  # loads record themselves, in their own transaction
                self._record(run_id, account, chunk_result)
            result.retryable = result.retryable and chunk_result.retryable
            return chunk_result.fatal

        loading: Future[ChunkResult] | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="metaads-load") as loads:
            try:
                for chunk in chunk_range(date_range, self.settings.backfill_chunk_days):
                    step = self._prepare_chunk(loader, account, chunk, statuses, currency, listener)
                    if loading is not None:
                        previous, loading = loading.result(), None
                        if done(previous):
                            if isinstance(step, _Prepared):
                                step.chunk.close()
                            return
                    if isinstance(step, ChunkResult):  # its fetch failed: nothing to load
                        if done(step):
                            return
                        continue
                    loading = loads.submit(self._write_chunk, loader, step, listener, run_id)
            finally:
                if loading is not None:
                    done(loading.result())

    def _prepare_chunk(
        self,
        loader: ChunkLoader,
        account: Account,
        chunk: DateRange,
        statuses: dict[str, str],
        currency: str | None,
        listener: ProgressListener,
    ) -> _Prepared | ChunkResult:
        """Fetch (and reconcile) one chunk, with what its API calls cost; its failure as a result."""
        started, before = self.clock.monotonic(), self.client.stats(account)
        try:
            prepared = loader.prepare(account, chunk, statuses, currency, listener)
        except Exception as exc:  # noqa: BLE001 - recorded as this chunk's failure
            return _costed(_failed_chunk(account, chunk, exc), started, self._spent(account, before), self.clock)
        # A chunk's calls are all made here: the next chunk's, made while this one loads, are not its own.
        return _Prepared(prepared, started, self._spent(account, before))

    def _write_chunk(
        self, loader: ChunkLoader, step: _Prepared, listener: ProgressListener, run_id: str
    ) -> ChunkResult:
        """Load and record a prepared chunk; its failure as a result (its ledger row written apart)."""

        def costed(outcome: ChunkResult) -> ChunkResult:
            return _costed(outcome, step.started, step.spent, self.clock)

        account, chunk = step.chunk.account, step.chunk.chunk
        try:
            loaded = loader.write(step.chunk, listener, run_id, costed)
        except Exception as exc:  # noqa: BLE001 - recorded as this chunk's failure
            return costed(_failed_chunk(account, chunk, exc))
        return costed(replace(loaded, recorded=True))

    def _spent(self, account: Account, before: CallStats) -> CallStats:
        return _stats_since(self.client.stats(account), before)

    def _record(self, run_id: str, account: Account, chunk: ChunkResult) -> None:
        """One ledger row per chunk, with that chunk's own figures."""
        try:
            self.warehouse.record_account_run(run_id, account, chunk)
        except MetaAdsError as exc:  # the ledger is bookkeeping: report, do not lose the load
            log.error("account %s: could not write the run ledger: %s", account.display_name, exc)

    # ------------------------------------------------------------------ all accounts

    def run(
        self,
        accounts: Sequence[Account] | None = None,
        *,
        since: date | None = None,
        until: date | None = None,
        lookback: int | None = None,
        deep: bool = False,
        trigger: str = "cli",
        listener: ProgressListener | None = None,
    ) -> RunSummary:
        """Extract and load several accounts concurrently (each in its own thread)."""
        chosen = list(accounts) if accounts is not None else list(self.settings.accounts)
        self.init_warehouse()
        started = self.clock.monotonic()
        run_id = self.warehouse.start_run(trigger=trigger, accounts=len(chosen))
        tokens: list[TokenHealth] | None = None
        results: list[AccountResult] = []
        # Every account in its own thread: one waiting for its quota holds no worker. ACCOUNT_GROUP_SIZE
        # bounds what it is meant to bound: API calls in flight (the client's call gate) and loads.
        workers = max(1, min(MAX_ACCOUNT_THREADS, len(chosen)))
        previous_hook = self.client.session.on_wait
        if listener is not None:
            self.client.session.on_wait = _waits_to(listener, chosen)
        try:
            # One more thread for the daily token check: its calls (one per token and account, one after
            # another) run beside the extractions instead of delaying them all; nothing waits for it.
            with ThreadPoolExecutor(max_workers=workers + 1, thread_name_prefix="metaads-account") as pool:
                token_check = pool.submit(self.check_tokens_daily)

                def extract_then_check(account: Account) -> AccountResult:
                    result = self.extract_and_load(
                        account,
                        run_id=run_id,
                        since=since,
                        until=until,
                        lookback=lookback,
                        deep=deep,
                        listener=listener,
                    )
                    # The account's rows are final: its data-quality checks run now, beside the other
                    # accounts' extraction, not all after the last account (0.7 s at the end of a
                    # standard-tier run of 10 accounts).
                    self.record_quality(run_id, [account])
                    return result

                futures = [pool.submit(extract_then_check, a) for a in chosen]
                results = [f.result() for f in futures]
                tokens = token_check.result()
        except BaseException:
            # Never leave the run "running": what did not report counts as failed.
            self.warehouse.finish_run(run_id, status=RunStatus.FAILED, accounts_failed=len(chosen))
            raise
        finally:
            self.client.session.on_wait = previous_hook
        failed = sum(1 for r in results if not r.ok)
        self.warehouse.finish_run(run_id, status=RunStatus.of(failed, results), accounts_failed=failed)
        return RunSummary(
            run_id=run_id, results=results, duration_s=self.clock.monotonic() - started, token_checks=tokens or []
        )

    # ------------------------------------------------------------------ data quality and verify (issue 10)

    def record_quality(self, run_id: str, accounts: Sequence[Account] | None = None) -> None:
        """Run and record the data-quality checks after a run; a failure is logged, never fails the run."""
        from metaads.pipeline.verify import record_run_quality

        try:
            record_run_quality(self.warehouse, list(accounts or self.settings.accounts), run_id, self.clock)
        except MetaAdsError as exc:
            log.error("data-quality checks after run %s: %s", run_id, exc)

    def verify(
        self, accounts: Sequence[Account] | None = None, *, since: date | None = None, until: date | None = None
    ) -> VerifyReport:
        """``metaads verify``: Meta's account-level totals against the warehouse (and analytics) tables."""
        from metaads.pipeline.verify import verify

        if not self._initialised:
            self.init_warehouse()
        chosen = list(accounts) if accounts is not None else list(self.settings.accounts)
        url = self.settings.analytics_url
        target = create_engine_for(url, pool_size=2, variable="ANALYTICS_URL") if url else None
        try:
            return verify(
                self.client,
                self.warehouse,
                chosen,
                clock=self.clock,
                since=since,
                until=until,
                relative_tolerance=self.settings.reconcile_tolerance,
                analytics=(target, self.settings.analytics_schema) if target else None,
            )
        finally:
            if target is not None:
                target.dispose()

    # ------------------------------------------------------------------ operations

    def check_tokens_daily(self) -> list[TokenHealth] | None:
        """The first run of each UTC day checks every token (``debug_token``) and records it; else None.

        A failing check is logged, never fatal: the run itself will show what the tokens can do.
        """
        if not self._initialised:  # called on its own, before any run: the record table must exist
            self.init_warehouse()
        try:
            return daily_token_check(
                self.client,
                self.warehouse,
                self.settings.accounts,
                now=self.clock.now(),
                warn_days=self.settings.token_expiry_warn_days,
            )
        except MetaAdsError as exc:
            log.error("token health check failed: %s", exc)
            return None

    # ------------------------------------------------------------------ analytics

    def sync(self, *, full: bool = False, evolve: bool = False, analytics_url: str | None = None) -> SyncResult | None:
        """Copy the warehouse views to the analytics database; None when ANALYTICS_URL is unset.

        With ``ENTITY_TABLES`` the entity views follow (:attr:`entity_sync` holds what they copied).
        """
        from metaads.sync import SyncOptions, sync_analytics

        url = analytics_url or self.settings.analytics_url
        if not url:
            return None
        target = create_engine_for(url, pool_size=self.settings.sync_threads + 1, variable="ANALYTICS_URL")
        try:
            options = SyncOptions(
                full=full,
                evolve=evolve,
                retention_days=self.settings.retention_days,
                threads=self.settings.sync_threads,
                batch_rows=self.settings.sync_batch_rows,
                reports=self.settings.reports,
            )
            result = sync_analytics(
                self.warehouse_engine,
                self.settings.warehouse_schema,
                target,
                self.settings.analytics_schema,
                options,
                clock=self.clock,
            )
            if self.settings.entity_tables:
                from metaads.sync.entities import sync_entities

                self.entity_sync = sync_entities(
                    self.warehouse_engine,
                    self.settings.warehouse_schema,
                    target,
                    self.settings.analytics_schema,
                    full=full,
                    evolve=evolve,
                    clock=self.clock,
                    batch_rows=self.settings.sync_batch_rows,
                )
            return result
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
# After these no other range of the account can succeed in this run (a data problem in one range, or a
# transient failure, leaves the next ranges worth trying).
_ACCOUNT_UNUSABLE = frozenset({Action.FIX_CONFIGURATION, Action.FIX_TOKEN, Action.SKIP_ACCOUNT, Action.FIX_REQUEST})


def shared_throttle_store(engine: sa.Engine, settings: Settings) -> WarehouseThrottleStore | None:
    """The rate-limit state shared by all workers, kept in the warehouse; None on a SQLite warehouse.

    SQLite has one writer at a time and a load holds it for its whole transaction: throttle updates
    after every API call would queue behind loads. A SQLite warehouse means one machine anyway.
    """
    if engine.dialect.name == "sqlite":
        return None
    from metaads.warehouse.throttle import WarehouseThrottleStore

    return WarehouseThrottleStore(engine, settings.warehouse_schema)


def _requested_range(today: date, lookback: int, since: date | None, until: date | None) -> DateRange:
    """The range a failed account is reported missing for (even when the bounds themselves were at fault)."""
    try:
        return resolve_range(today, lookback_days=lookback, since=since, until=until)
    except MetaAdsError:
        first = since or until or today
        return DateRange(min(first, until or first), max(first, until or first))


def _error_text(exc: BaseException) -> str:
    """An error as the ledger, logs and XComs show it: redacted; unforeseen faults name their type."""
    if isinstance(exc, MetaAdsError):
        return redact_text(str(exc))
    return redact_text(f"unexpected {type(exc).__name__}: {exc}")


def _waits_to(listener: ProgressListener, accounts: Sequence[Account]) -> Callable[[str | None, datetime, str], None]:
    """A Graph session wait hook that shows each account's wait as a progress stage."""
    by_id = {account.id: account for account in accounts}

    def waiting(account_id: str | None, until: datetime, why: str) -> None:
        account = by_id.get(account_id or "")
        if account is not None:
            what = "quota" if why == "slowdown" else why
            listener.stage(account, f"waiting for {what} until {until.astimezone(timezone.utc):%H:%M:%S} UTC")

    return waiting


@dataclass(frozen=True)
class _Prepared:
    """A chunk ready to load, with when its fetch began and what its API calls cost."""

    chunk: PreparedChunk
    started: float
    spent: CallStats


def _costed(outcome: ChunkResult, started: float, spent: CallStats, clock: Clock) -> ChunkResult:
    """``outcome`` with what its chunk alone cost: its API calls, seconds throttled and seconds spent."""
    return replace(
        outcome, api_calls=spent.api_calls, throttled_s=spent.throttled_s, duration_s=clock.monotonic() - started
    )


def _failed_chunk(account: Account, chunk: DateRange, exc: Exception) -> ChunkResult:
    if not isinstance(exc, MetaAdsError):
        log.error("account %s %s: unexpected fault", account.display_name, chunk, exc_info=exc)
    fatal = isinstance(exc, MetaAdsError) and exc.action in _ACCOUNT_UNUSABLE
    error = (_FATAL_PREFIX if fatal else "") + _error_text(exc)
    return ChunkResult(chunk, FAILED, error=error, fatal=fatal, retryable=is_retryable(exc))


def _stats_since(now: CallStats, before: CallStats) -> CallStats:
    """What was spent between two snapshots of one account's counters."""
    return CallStats(api_calls=now.api_calls - before.api_calls, throttled_s=now.throttled_s - before.throttled_s)


def _status_of(result: AccountResult) -> AccountStatus:
    blocking = [c for c in result.chunks if c.blocking]
    if blocking:  # RECONCILE=strict: rows that differ from Meta's totals fail the account; retrying now
        # gives the same answer (the chunk was already fetched twice), so it is not retryable.
        result.retryable = False
        if result.error is None:
            result.error = "; ".join(f"{c.range}: {c.error}" for c in blocking)
        return FAILED
    loaded = [c for c in result.chunks if c.ok]
    if result.error is None and result.chunks and len(loaded) == len(result.chunks):
        failed_reports = [c for c in result.reports if not c.ok]
        if failed_reports:
            result.error = f"report {failed_reports[0].report} {failed_reports[0].range}: {failed_reports[0].error}"
            return PARTIAL
        return LOADED
    if loaded:
        return PARTIAL
    if result.error is None:
        result.error = next((c.error for c in result.chunks if c.error), "nothing loaded")
    return FAILED


def _log_result(result: AccountResult) -> None:
    extra = {
        "account": result.account.display_name,
        "account_id": result.account.id,
        "status": result.status,
        "range": str(result.range) if result.range else None,
        "window": result.window,
        "ads_rows": result.ads_rows,
        "actions_rows": result.actions_rows,
        "api_calls": result.api_calls,
        "throttled_s": round(result.throttled_s, 3),
        "duration_s": round(result.duration_s, 3),
        "error": result.error,
    }
    level = logging.INFO if result.ok else logging.ERROR
    log.log(
        level,
        "account %s %s: %s ads rows, %s actions rows, %s API calls, %.1fs throttled, %.1fs%s",
        result.account.display_name,
        result.status,
        result.ads_rows,
        result.actions_rows,
        result.api_calls,
        result.throttled_s,
        result.duration_s,
        f" error: {result.error}" if result.error else "",
        extra={"metaads": extra},
    )
