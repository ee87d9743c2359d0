"""The :class:`Warehouse`: the one object the pipeline uses to create, load and record into the warehouse.

On SQLite there are no schemas: ``schema`` is ignored and everything lives in the database file
(one file per warehouse). Money is exact NUMERIC on
PostgreSQL; SQLite stores it as REAL (15 significant digits), which is why PostgreSQL is the
production warehouse.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import date, timedelta

import sqlalchemy as sa

from metaads.accounts import Account
from metaads.clock import Clock, SystemClock
from metaads.database import (
    DRIVER_ERRORS,
    IDENTIFIER_PATTERN,
    dbapi_connection,
    describe_url,
    is_identifier,
    translate,
)
from metaads.errors import ConfigError, LoadError, RowRejectedError, WarehouseError
from metaads.outcomes import ChunkResult
from metaads.reconcile.compare import ChunkCheck
from metaads.reconcile.totals import DayTotals
from metaads.statuses import RunStatus
from metaads.transform.report_spec import ReportLayout, ReportSpec, layout
from metaads.warehouse import ddl, dictionary, ledger, owner, registry
from metaads.warehouse.day_totals import insert_chunk_days, stored_totals
from metaads.warehouse.history import LedgerEntry, account_history
from metaads.warehouse.load import LoadResult, replace_rows
from metaads.warehouse.locking import DEFAULT_BUSY_TIMEOUT_S, lock_ledger, write_transaction
from metaads.warehouse.registry import RegisteredAccount
from metaads.warehouse.report_tables import report_tables
from metaads.warehouse.schema import (
    ACTIONS_SUFFIX,
    actions_table,
    ads_table,
    chunk_days_table,
    ledger_tables,
    quality_table,
    registry_table,
    token_checks_table,
)
from metaads.warehouse.staging import CopyStaged, PickledStaged, Row, StagedRows, Staging
from metaads.warehouse.statistics import refresh_statistics
from metaads.warehouse.writers import DATA_ERRORS, DEFAULT_BATCH_ROWS, supports_copy

log = logging.getLogger("metaads.warehouse")


class Warehouse:
    """Per-account tables, union views and the run ledger in one database.

    Args:
        engine: where the warehouse lives (``postgresql+psycopg://...`` or ``sqlite:///...``).
        schema: PostgreSQL schema (ignored on SQLite).
        clock: source of ``started_at``/``finished_at`` and durations.
        use_copy: force (True) or forbid (False) the PostgreSQL COPY path; None picks COPY when the
            driver is psycopg 3.
        batch_rows: rows per executemany batch on the portable path.
        busy_timeout_s: how long a SQLite writer waits for another one.
        reports: the extra reports (``INSIGHTS_REPORTS``), each with its own tables and views.
    """

    def __init__(
        self,
        engine: sa.Engine,
        schema: str | None = "meta_ads",
        *,
        clock: Clock | None = None,
        use_copy: bool | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        reports: Sequence[ReportSpec] = (),
    ) -> None:
        if schema is not None and not is_identifier(schema):
            raise WarehouseError(f"WAREHOUSE_SCHEMA {schema!r} must match {IDENTIFIER_PATTERN}")
        if batch_rows < 1:
            raise ValueError("batch_rows must be at least 1")
        self.engine = engine
        self.schema = None if engine.dialect.name == "sqlite" else schema
        self.clock: Clock = clock or SystemClock()
        self.batch_rows = batch_rows
        self.busy_timeout_s = busy_timeout_s
        self._use_copy = use_copy
        self._metadata = sa.MetaData()
        self._lock = threading.Lock()
        self._tables: dict[str, tuple[sa.Table, sa.Table]] = {}
        self.reports: dict[str, ReportLayout] = {spec.name: layout(spec) for spec in reports}
        self.runs, self.account_runs, self.syncs = ledger_tables(self._metadata, schema=self.schema)
        self.registry = registry_table(self._metadata, schema=self.schema)
        self.token_checks = token_checks_table(self._metadata, schema=self.schema)
        self.chunk_days = chunk_days_table(self._metadata, schema=self.schema)
        self.quality = quality_table(self._metadata, schema=self.schema)

    def __repr__(self) -> str:
        return f"Warehouse({describe_url(self.engine)!r}, schema={self.schema!r})"

    # ------------------------------------------------------------------ schema

    @property
    def metadata(self) -> sa.MetaData:
        """Every table this warehouse defines so far (ledger tables, and account tables asked for)."""
        return self._metadata

    def tables(self, account: Account) -> tuple[sa.Table, sa.Table]:
        """The account's (ads, actions) tables."""
        return self._pair(account.table)

    def _pair(self, table: str) -> tuple[sa.Table, sa.Table]:
        with self._lock:
            pair = self._tables.get(table)
            if pair is None:
                pair = (
                    ads_table(self._metadata, table, schema=self.schema),
                    actions_table(self._metadata, f"{table}{ACTIONS_SUFFIX}", schema=self.schema),
                )
                self._tables[table] = pair
            return pair

    def report_tables(self, account: Account, report: str) -> tuple[sa.Table, sa.Table]:
        """The account's (report, lists) tables of extra report ``report``."""
        with self._lock:
            key = f"{account.table}\0{report}"
            pair = self._tables.get(key)
            if pair is None:
                pair = report_tables(self._metadata, self.reports[report], account.table, schema=self.schema)
                self._tables[key] = pair
            return pair

    def init(self, accounts: Sequence[Account]) -> None:
        """Create schema, tables, indexes, ledger, registry and views for ``accounts``; harmless to repeat.

        ``accounts`` are registered (active) in ``metaads_accounts``; accounts registered earlier and
        no longer configured stay in the views until retired (:meth:`retire`). A warehouse created
        before the registry adopts its existing account tables.

        Raises:
            WarehouseError: the database failed, or an existing table lacks a column (``migrate`` adds them).
            ConfigError: an extra report's key changed since its tables were created (breakdowns, level...).
        """
        pairs = [self.tables(account) for account in accounts]
        try:
            self._enable_wal()
            with write_transaction(self.engine, "init", self.schema or "", busy_timeout_s=self.busy_timeout_s) as conn:
                new_registry = not sa.inspect(conn).has_table(self.registry.name, schema=self.schema)
                ddl.create_all(
                    conn,
                    self._metadata,
                    self.schema,
                    [ads for ads, _ in pairs],
                    [actions for _, actions in pairs],
                    [
                        self.runs,
                        self.account_runs,
                        self.syncs,
                        self.token_checks,
                        self.chunk_days,
                        self.quality,
                        self.registry,
                    ],
                )
                now = self.clock.now()
                if new_registry:
                    registry.adopt(conn, self.registry, self.schema, self.account_runs, now)
                registry.register(conn, self.registry, accounts, now)
                # The configured accounts' report tables before the views, which cover every registered one.
                self._metadata.create_all(
                    conn,
                    tables=[t for name in self.reports for a in accounts for t in self.report_tables(a, name)],
                    checkfirst=True,
                )
                self._refresh_views(conn, configured={account.table for account in accounts})
                ddl.comment_all(
                    conn,
                    self.schema,
                    [
                        *(t for pair in pairs for t in pair),
                        self.runs,
                        self.account_runs,
                        self.syncs,
                        self.token_checks,
                        self.chunk_days,
                        self.quality,
                        self.registry,
                    ],
                )
                # PostgreSQL: the reports' descriptions as COMMENT ON (tables created earlier, the views).
                dictionary.apply_comments(
                    conn,
                    [t for name in self.reports for a in accounts for t in self.report_tables(a, name)],
                    self.schema,
                    [v for item in self.reports.values() for v in dictionary.report_view_relations(item)],
                )
        except DRIVER_ERRORS as exc:
            raise translate(exc, "creating the warehouse", self.engine) from exc

    def _refresh_views(self, conn: sa.Connection, *, configured: set[str]) -> None:
        """Views over every active registered account whose tables exist (the extra reports' views too:
        the accounts among them whose report tables exist)."""
        existing = set(sa.inspect(conn).get_table_names(schema=self.schema))
        chosen: list[tuple[sa.Table, sa.Table]] = []
        for entry in registry.read(conn, self.registry):
            if not entry.active:
                continue
            if entry.table not in existing or entry.actions_table not in existing:
                log.warning(
                    "registered account table %s / %s is missing: left out of the views "
                    "(`metaads accounts retire %s` to forget it)",
                    entry.table,
                    entry.actions_table,
                    entry.table,
                )
                continue
            if entry.table not in configured:
                log.info(
                    "account %s (%s) is not in META_ACCOUNTS: not fetched, its rows stay in the views "
                    "until `metaads accounts retire %s`",
                    entry.display_name,
                    entry.table,
                    entry.table,
                )
            chosen.append(self._pair(entry.table))
        ddl.check_columns(conn, [table for pair in chosen if pair[0].name not in configured for table in pair])
        ddl.refresh_views(conn, self.schema, [ads for ads, _ in chosen], [actions for _, actions in chosen])
        for item in self.reports.values():
            ddl.report_views(conn, self.schema, item, [ads.name for ads, _ in chosen])

    # ------------------------------------------------------------------ account registry

    def registered_accounts(self) -> list[RegisteredAccount]:
        """Every account table the registry knows, active and retired (call :meth:`init` first)."""
        try:
            with self.engine.connect() as conn:
                return registry.read(conn, self.registry)
        except DRIVER_ERRORS as exc:
            raise translate(exc, "reading the account registry", self.engine) from exc

    def retire(self, key: str, configured: Sequence[Account]) -> RegisteredAccount:
        """Take the account ``key`` (id, ``act_`` id, table or label) out of the views; its tables stay.

        Raises:
            ConfigError: no registered account matches, or it is still in ``configured`` (META_ACCOUNTS).
            WarehouseError: the database failed.
        """
        try:
            with write_transaction(self.engine, "init", self.schema or "", busy_timeout_s=self.busy_timeout_s) as conn:
                found = registry.find(registry.read(conn, self.registry), key)
                if found is None:
                    raise ConfigError(
                        f"{key!r} is not a registered account (id, table or label); `metaads accounts list` shows them",
                        variable="ACCOUNT",
                    )
                still = [a for a in configured if a.table == found.table or a.id == found.account_id]
                if still:
                    raise ConfigError(
                        f"account {still[0].act_id} ({found.table}) is still configured: remove it "
                        "from META_ACCOUNTS first, then retire it",
                        variable="META_ACCOUNTS",
                    )
                registry.retire(conn, self.registry, found.table, self.clock.now())
                self._refresh_views(conn, configured={a.table for a in configured})
                retired = registry.find(registry.read(conn, self.registry), found.table)
        except DRIVER_ERRORS as exc:
            raise translate(exc, f"retiring account {key!r}", self.engine) from exc
        assert retired is not None
        return retired

    def _enable_wal(self) -> None:
        # WAL lets readers (the sync, people's queries) read the last committed data while a load
        # writes. It is persistent in the file and must be set outside a transaction.
        if self.engine.dialect.name != "sqlite" or self.engine.url.database in (None, "", ":memory:"):
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")

    # ------------------------------------------------------------------ loading

    def stage(self, account: Account, since: date, until: date, *, report: str | None = None) -> Staging:
        """Empty staging for the account's (ads, actions) rows of ``since..until`` (with ``report``, that
        extra report's main and list rows), in this warehouse's load format
        (:mod:`metaads.warehouse.staging`): ``add`` rows to its parts while fetching, then pass them to
        :meth:`replace_range`. Close it (it is a context manager) once loaded."""
        ads, actions = self.tables(account) if report is None else self.report_tables(account, report)
        if not (supports_copy(self.engine) if self._use_copy is None else self._use_copy):
            return Staging(
                PickledStaged(ads, account.id, since, until), PickledStaged(actions, account.id, since, until)
            )
        try:
            # psycopg formats COPY data with a cursor's adapters; nothing is sent on the connection, which
            # goes back to the pool at once.
            with self.engine.connect() as conn:
                raw = dbapi_connection(conn)
                return Staging(
                    CopyStaged(ads, account.id, since, until, raw.cursor()),
                    CopyStaged(actions, account.id, since, until, raw.cursor()),
                )
        except DRIVER_ERRORS as exc:
            raise translate(exc, f"staging {ads.name}", self.engine, LoadError) from exc

    def replace_range(
        self,
        account: Account,
        since: date,
        until: date,
        ads_rows: Iterable[Row] | StagedRows,
        actions_rows: Iterable[Row] | StagedRows,
        *,
        before_commit: Callable[[], None] | None = None,
        choose_days: Callable[[dict[date, DayTotals]], Collection[date] | None] | None = None,
        record: Callable[[sa.Connection, LoadResult], int] | None = None,
        report: str | None = None,
    ) -> LoadResult:
        """Replace the account's rows dated ``since``..``until`` (inclusive) in one transaction.

        ``ads_rows`` / ``actions_rows`` are tuples in ``ADS_COLUMNS`` / ``ACTIONS_COLUMNS`` order
        (:func:`metaads.transform.to_ads_rows` / ``to_actions_rows``), consumed lazily inside the
        transaction, ads first, or the parts of a :meth:`stage` of the same account and range (already
        checked and encoded: the load only streams them). ``choose_days`` receives the per-day sums
        stored before the load (read under the account's lock) and returns the days to replace (None:
        the whole range).
        ``record`` writes the ledger in the same transaction (see :meth:`record_chunk`) and returns the
        ledger id, so the rows and their record commit together or not at all. ``before_commit`` runs
        last, just before the commit (tests inject failures there). Exceptions from the iterators or
        the hooks propagate unchanged after the rollback. With ``report`` (an extra report's name) the
        rows are that report's main and list rows (:func:`metaads.transform.reports.to_report_rows` /
        ``to_report_list_rows``), replaced in its own tables the same way (``choose_days`` is for the
        default report only).

        Raises:
            LoadError: the database failed or a row is outside the range; the previous rows are intact.
        """
        if since > until:
            raise LoadError(f"{account.table}: empty range {since}..{until}")
        ads, actions = self.tables(account) if report is None else self.report_tables(account, report)
        started = self.clock.monotonic()
        try:
            with write_transaction(
                self.engine, "load", self.schema or "", ads.name, busy_timeout_s=self.busy_timeout_s
            ) as conn:
                days = None
                if choose_days is not None:
                    chosen = choose_days(stored_totals(conn, ads, account.id, since, until))
                    days = None if chosen is None else frozenset(chosen)
                use_copy = supports_copy(conn) if self._use_copy is None else self._use_copy
                counts = replace_rows(
                    conn,
                    ads,
                    actions,
                    account_id=account.id,
                    since=since,
                    until=until,
                    ads_rows=ads_rows,
                    actions_rows=actions_rows,
                    use_copy=use_copy,
                    batch_rows=self.batch_rows,
                    days=days,
                )
                result = LoadResult(
                    ads_rows=counts[0],
                    actions_rows=counts[1],
                    duration_s=0.0,
                    deleted_ads_rows=counts[2],
                    deleted_actions_rows=counts[3],
                    replaced_days=days,
                )
                ledger_id = record(conn, result) if record is not None else None
                if before_commit is not None:
                    before_commit()
        except DATA_ERRORS as exc:  # the database refused a value: a data problem, not worth retrying as is
            raise translate(exc, f"loading {account.table} {since}..{until}", self.engine, RowRejectedError) from exc
        except DRIVER_ERRORS as exc:
            raise translate(exc, f"loading {ads.name} {since}..{until}", self.engine, LoadError) from exc
        duration = self.clock.monotonic() - started
        refresh_statistics(self.engine, [(ads, counts[0] + counts[2]), (actions, counts[1] + counts[3])])
        log.debug(
            "loaded %s %s..%s: %d ads rows, %d actions rows in %.3fs",
            ads.name,
            since,
            until,
            counts[0],
            counts[1],
            duration,
        )
        return LoadResult(
            ads_rows=counts[0],
            actions_rows=counts[1],
            duration_s=duration,
            deleted_ads_rows=counts[2],
            deleted_actions_rows=counts[3],
            replaced_days=days,
            ledger_id=ledger_id,
        )

    def record_chunk(
        self,
        conn: sa.Connection,
        run_id: str,
        account: Account,
        chunk: ChunkResult,
        check: ChunkCheck | None = None,
        *,
        report: str | None = None,
    ) -> int:
        """Inside a load transaction: the chunk's ledger row, its per-day totals, the run's heartbeat.

        Takes the ledger lock first (held until the load commits: ledger ids commit in order).
        ``report``: the extra report (INSIGHTS_REPORTS) the chunk is about; None: the default report.
        """
        lock_ledger(conn, self.schema)
        now = self.clock.now()
        ledger_id = ledger.insert_account_run(conn, self.account_runs, run_id, account, chunk, now=now, report=report)
        if check is not None:
            insert_chunk_days(conn, self.chunk_days, ledger_id, account.id, check)
        conn.execute(self.runs.update().where(self.runs.c.run_id == run_id).values(heartbeat_at=now))
        return ledger_id

    def stored_totals(self, account: Account, since: date, until: date) -> dict[date, DayTotals]:
        """Per-day sums of the account's rows over ``since``..``until`` (for ``verify``)."""
        ads, _ = self.tables(account)
        try:
            with self.engine.connect() as conn:
                return stored_totals(conn, ads, account.id, since, until)
        except DRIVER_ERRORS as exc:
            raise translate(exc, f"reading {account.table}", self.engine) from exc

    def mark_abandoned(self, *, stale_after: timedelta = owner.DEFAULT_STALE_AFTER) -> dict[str, list[object]]:
        """Record ``running`` runs and syncs whose process died as ``abandoned``; return their ids."""
        try:
            with self._ledger_transaction() as conn:
                now = self.clock.now()
                return {
                    "runs": owner.mark_abandoned(conn, self.runs, "run_id", now=now, stale_after=stale_after),
                    "syncs": owner.mark_abandoned(conn, self.syncs, "id", now=now, stale_after=stale_after),
                }
        except DRIVER_ERRORS as exc:
            raise translate(exc, "checking for abandoned runs", self.engine) from exc

    # ------------------------------------------------------------------ run ledger

    def _ledger_transaction(self) -> AbstractContextManager[sa.Connection]:
        # Serialised ledger writes commit in id order, so a sync that remembers the highest id it has
        # seen (its watermark) never skips a row committed later with a lower id. On SQLite this also
        # waits for a running load instead of failing after pysqlite's 5 s default.
        return write_transaction(self.engine, "ledger", self.schema or "", busy_timeout_s=self.busy_timeout_s)

    def start_run(self, trigger: str, accounts: int, *, owned: bool = True) -> str:
        """Record a new run as ``running``; return its id.

        Runs left ``running`` by a dead process are marked ``abandoned`` first. ``owned``: this process
        runs the whole run (CLI); an Airflow run spans several workers and is judged by its heartbeat.
        """
        try:
            with self._ledger_transaction() as conn:
                now = self.clock.now()
                for run_id in owner.mark_abandoned(conn, self.runs, "run_id", now=now):
                    log.warning("run %s was left running by a process that is gone: recorded as abandoned", run_id)
                return ledger.insert_run(
                    conn,
                    self.runs,
                    trigger=trigger,
                    accounts=accounts,
                    now=now,
                    owner=owner.this_process() if owned else None,
                )
        except DRIVER_ERRORS as exc:
            raise translate(exc, "recording a run start", self.engine) from exc

    def record_account_run(
        self, run_id: str, account: Account, chunk: ChunkResult, *, report: str | None = None
    ) -> int:
        """Record what one account's range did (a ``metaads_account_runs`` row); return the ledger row id.

        ``report``: the extra report (INSIGHTS_REPORTS) the row is about; None: the default report.
        """
        try:
            with self._ledger_transaction() as conn:
                return self.record_chunk(conn, run_id, account, chunk, report=report)
        except DRIVER_ERRORS as exc:
            raise translate(exc, f"recording the run of {account.table}", self.engine) from exc

    def history(self, account: Account, *, since: date) -> list[LedgerEntry]:
        """The account's loaded and failed ranges ending on or after ``since`` (planning reads them)."""
        try:
            with self.engine.connect() as conn:
                return account_history(conn, self.account_runs, account.id, since=since)
        except DRIVER_ERRORS as exc:
            raise translate(exc, f"reading the run ledger of {account.table}", self.engine) from exc

    def finish_run(self, run_id: str, status: RunStatus | str, accounts_failed: int) -> None:
        """Close a run with its final status (``success`` | ``partial`` | ``failed``)."""
        try:
            final = RunStatus(status)
        except ValueError:
            raise ValueError(f"unknown run status {status!r}") from None
        try:
            with self._ledger_transaction() as conn:
                found = ledger.update_run(
                    conn, self.runs, run_id, status=final, accounts_failed=accounts_failed, now=self.clock.now()
                )
        except DRIVER_ERRORS as exc:
            raise translate(exc, "recording a run end", self.engine) from exc
        if not found:
            raise WarehouseError(f"no run {run_id!r} in the ledger")
