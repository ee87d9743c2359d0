"""``sync_analytics``: copy the warehouse views into the analytics database, slice by slice, in parallel.

Steps: lock the target (syncs to one target queue up), record a ``running`` sync, create or check the
target tables, plan the slices (incremental from the run ledger, or the whole retention window),
replace them with ``threads`` workers, prune rows older than the window, record the outcome.

A failed slice is rolled back; the other workers stop before their next batch and roll back too,
and no new slice starts. Slices committed before the failure stay (each one is consistent) and the
watermark does not move, so the next sync replaces all of this sync's slices again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from datetime import date
from typing import Literal

import sqlalchemy as sa

from metaads.clock import Clock, SystemClock
from metaads.database import (
    DRIVER_ERRORS,
    IDENTIFIER_PATTERN,
    describe_url,
    driver_message,
    failure_message,
    is_identifier,
)
from metaads.errors import SyncAborted, SyncError
from metaads.redact import redact_text
from metaads.sync import ledger
from metaads.sync.options import SyncOptions
from metaads.sync.plan import (
    FULL,
    INCREMENTAL,
    Plan,
    Slice,
    accounts_in,
    build_plan,
    ledger_slices,
    max_account_run_id,
    window_start,
)
from metaads.sync.result import SyncResult, TableSync
from metaads.sync.targets import (
    TargetPair,
    analytics_tables,
    ensure_targets,
    existing_columns,
    report_targets,
    schema_for,
)
from metaads.sync.transfer import SliceCounts, SliceJob, replace_slice, source_view
from metaads.sync.writers import (
    MYSQL_LOAD,
    PG_COPY,
    PG_PIPE,
    PIPES,
    WRITERS,
    choose_method,
    mysql_local_infile,
)
from metaads.transform.report_spec import ReportSpec, layout
from metaads.warehouse.locking import lock_ledger
from metaads.warehouse.owner import mark_abandoned, this_process
from metaads.warehouse.registry import retired_account_ids
from metaads.warehouse.schema import ledger_tables

log = logging.getLogger("metaads.sync")
METHODS = (*PIPES, *WRITERS)


@contextmanager
def _translated(action: str, engine: sa.Engine) -> Iterator[None]:
    """Driver errors become :class:`SyncError` naming the action and the database (no password)."""
    try:
        yield
    except DRIVER_ERRORS as exc:
        raise SyncError(failure_message(exc, action, engine)) from exc


def _check_arguments(
    warehouse_schema: str | None,
    analytics_schema: str | None,
    retention_days: int,
    threads: int,
    batch_rows: int,
    slice_days: int,
) -> None:
    for name, value in (("warehouse_schema", warehouse_schema), ("analytics_schema", analytics_schema)):
        if value is not None and not is_identifier(value):
            raise SyncError(f"{name} {value!r} must match {IDENTIFIER_PATTERN}")
    for name, number in (
        ("retention_days", retention_days),
        ("threads", threads),
        ("batch_rows", batch_rows),
        ("slice_days", slice_days),
    ):
        if number < 1:
            raise SyncError(f"{name} must be at least 1, got {number}")


def _method_for(warehouse: sa.Engine, target: sa.Connection, wanted: str | None) -> str:
    method = wanted or choose_method(warehouse.dialect, target)
    psycopg = ("postgresql", "psycopg")
    source_driver = (warehouse.dialect.name, warehouse.dialect.driver)
    target_driver = (target.dialect.name, target.dialect.driver)
    if method in PIPES and source_driver != psycopg:
        raise SyncError(f"write method {method} needs a PostgreSQL (psycopg 3) warehouse")
    if method in (PG_PIPE, PG_COPY) and target_driver != psycopg:
        raise SyncError(f"write method {method} needs a PostgreSQL (psycopg 3) analytics database")
    if method == MYSQL_LOAD and not mysql_local_infile(target):
        raise SyncError(
            "write method mysql_load needs MariaDB/MySQL through pymysql with local_infile=1 "
            "in ANALYTICS_URL and local_infile enabled on the server"
        )
    return method


def _plan(
    control: sa.Connection,
    warehouse: sa.Engine,
    warehouse_schema: str | None,
    analytics: sa.Engine,
    pairs: Sequence[TargetPair],
    account_runs: sa.Table,
    *,
    mode: str,
    previous: int | None,
    start: date,
    today: date,
    slice_days: int,
    report: str | None | Literal[False] = False,
) -> Plan:
    with _translated("reading the run ledger", warehouse):
        # Under the ledger lock: every id up to the watermark is committed (loads hold the lock from
        # their ledger insert to their commit), so no committed range can fall below it later.
        lock_ledger(control, account_runs.schema)
        watermark = max_account_run_id(control, account_runs)
        ranges = ledger_slices(control, account_runs, previous, watermark, report) if previous is not None else []
        control.commit()
    if mode == INCREMENTAL:
        return build_plan(INCREMENTAL, start, watermark, incremental=ranges, slice_days=slice_days, today=today)
    accounts: set[str] = set()
    with _translated("listing the warehouse accounts", warehouse), warehouse.connect() as conn:
        for pair in pairs:
            accounts |= accounts_in(conn, source_view(pair, warehouse_schema), start)
        retired = retired_account_ids(conn, warehouse_schema)
    target_only: set[str] = set()
    with _translated("listing the analytics accounts", analytics), analytics.connect() as conn:
        for pair in pairs:
            target_only |= accounts_in(conn, pair.table, start) - accounts
    # Only accounts retired in the registry (`metaads accounts retire`) leave the target: an account
    # merely absent from the configuration that ran last keeps its rows (issue 10).
    kept = sorted(target_only - retired)
    if kept:
        log.warning(
            "accounts %s are in the analytics tables but not in the warehouse views and not retired: "
            "their rows are kept",
            ", ".join(kept),
        )
    return build_plan(
        FULL, start, watermark, accounts=accounts | (target_only & retired), slice_days=slice_days, today=today
    )


def _run_slices(job: SliceJob, slices: Sequence[Slice], threads: int) -> SliceCounts:
    totals = SliceCounts()
    first_error: BaseException | None = None
    source, target = describe_url(job.source), describe_url(job.target)

    def run(item: Slice) -> SliceCounts:
        try:
            return replace_slice(job, item)
        except DRIVER_ERRORS as exc:
            raise SyncError(
                redact_text(f"replacing slice {item} ({source} -> {target}) failed: {driver_message(exc)}")
            ) from exc
        except SyncError as exc:
            raise SyncError(f"replacing slice {item} ({source} -> {target}) failed: {exc}") from exc

    if not slices:
        return totals
    with ThreadPoolExecutor(max_workers=min(threads, len(slices)), thread_name_prefix="metaads-sync") as pool:
        futures: dict[Future[SliceCounts], Slice] = {pool.submit(run, item): item for item in slices}
        for future in as_completed(futures):
            if future.cancelled():
                continue
            error = future.exception()
            if error is None:
                totals.add(future.result())
                log.debug("slice %s replaced: %s", futures[future], future.result().inserted)
            elif not isinstance(error, SyncAborted) and first_error is None:
                first_error = error
                job.abort.set()
                for other in futures:
                    other.cancel()
    if first_error is not None:
        raise first_error
    return totals


def _prune(analytics: sa.Engine, pairs: Sequence[TargetPair], start: date) -> dict[str, int]:
    with _translated("pruning rows older than the retention window", analytics), analytics.begin() as conn:
        return {
            pair.table.name: conn.execute(sa.delete(pair.table).where(pair.table.c.date < start)).rowcount
            for pair in pairs
        }


def sync_analytics(
    warehouse_engine: sa.Engine,
    warehouse_schema: str | None,
    analytics_engine: sa.Engine,
    analytics_schema: str | None,
    options: SyncOptions | None = None,
    *,
    clock: Clock | None = None,
) -> SyncResult:
    """Copy ``vw_graph_ads``/``vw_graph_ads_actions`` into ``graph_ads``/``graph_ads_actions``.

    Each extra report (``options.reports``) is copied the same way, ``vw_graph_<report>`` (and ``_lists``) into
    ``graph_<report>`` (and ``_lists``), its slices planned from its own ledger rows.

    Args:
        warehouse_engine: the warehouse (PostgreSQL or SQLite) holding the views and the run ledger.
        warehouse_schema: its schema (ignored on SQLite).
        analytics_engine: the target database (SQL Server, PostgreSQL, MariaDB, SQLite, ...).
        analytics_schema: the target schema (created when missing; ignored on SQLite).
        options: what to copy and how (:class:`SyncOptions`; its defaults when None).
        clock: time source (``options.today`` defaults to its UTC date).

    Raises:
        SchemaMismatchError: a target table lacks columns and ``evolve`` is False.
        SyncError: a database failed; the slice being replaced is unchanged.
    """
    options = options or SyncOptions()
    full, evolve, write_method = options.full, options.evolve, options.write_method
    retention_days, threads, batch_rows = options.retention_days, options.threads, options.batch_rows
    slice_days, before_commit, reports = options.slice_days, options.before_commit, options.reports
    _check_arguments(warehouse_schema, analytics_schema, retention_days, threads, batch_rows, slice_days)
    clock = clock or SystemClock()
    started = clock.monotonic()
    today = options.today or clock.now().date()
    start = window_start(today, retention_days)
    source_schema = schema_for(warehouse_engine, warehouse_schema)
    target_schema = schema_for(analytics_engine, analytics_schema)
    metadata = sa.MetaData()
    pairs = analytics_tables(metadata, schema=target_schema)
    # The default report first (its counts are the ledger's ads_rows/actions_rows), then each extra report.
    groups: list[tuple[str | None, tuple[TargetPair, ...]]] = [(None, tuple(pairs))]
    groups += [
        (spec.name, report_targets(metadata, layout(spec), schema=target_schema, retained=kept, lists_retained=lists))
        for spec, kept, lists in _loaded_reports(warehouse_engine, source_schema, reports)
    ]
    all_pairs = [pair for _, group in groups for pair in group]
    _, account_runs, syncs = ledger_tables(sa.MetaData(), schema=source_schema)
    target = ledger.describe_target(analytics_engine, target_schema)
    if write_method is not None and write_method not in METHODS:
        raise SyncError(f"unknown write method {write_method!r} (one of {', '.join(METHODS)})")
    # SQLite has a single writer: parallel slices would only queue on its lock.
    workers = 1 if analytics_engine.dialect.name == "sqlite" else threads

    with _translated("connecting to the warehouse", warehouse_engine):
        control = warehouse_engine.connect()
    with control:
        with _translated("reading the run ledger", warehouse_engine):
            ledger.check_ledger(control, (account_runs, syncs))
            control.commit()
        with ledger.sync_lock(control, target):
            mode = FULL if full else INCREMENTAL
            with _translated("recording the sync start", warehouse_engine):
                for dead in mark_abandoned(control, syncs, "id", now=clock.now()):
                    log.warning("sync %s was left running by a process that is gone: recorded as abandoned", dead)
                sync_id = ledger.insert_sync(
                    control, syncs, mode=mode, target=target, now=clock.now(), owner=this_process()
                )
                previous = None if full else ledger.last_watermark(control, syncs, target)
                control.commit()
            try:
                with (
                    _translated("creating or checking the analytics tables", analytics_engine),
                    analytics_engine.begin() as conn,
                ):
                    created = {pair.table.name for pair in all_pairs if not existing_columns(conn, pair.table)}
                    added = ensure_targets(conn, all_pairs, evolve=evolve)
                    method = _method_for(warehouse_engine, conn, write_method)
                if previous is None or added:
                    mode = FULL
                with _translated("reading the run ledger", warehouse_engine):
                    # Ledgers written before extra reports existed have no report column: every row is
                    # the default report's.
                    by_report = "report" in {
                        c["name"]
                        for c in sa.inspect(control).get_columns(account_runs.name, schema=account_runs.schema)
                    }
                    control.commit()
                totals = SliceCounts()
                plans: list[Plan] = []
                for report, group in groups:
                    # A report whose target table is new gets its whole window (its rows predate the table).
                    group_mode = FULL if mode == FULL or any(p.table.name in created for p in group) else mode
                    group_plan = _plan(
                        control,
                        warehouse_engine,
                        source_schema,
                        analytics_engine,
                        group,
                        account_runs,
                        mode=group_mode,
                        previous=previous,
                        start=start,
                        today=today,
                        slice_days=slice_days,
                        report=report if by_report else False,
                    )
                    plans.append(group_plan)
                    log.info(
                        "sync to %s%s: %s, %d slices, window from %s, %s x %d",
                        target,
                        f" (report {report})" if report else "",
                        group_plan.mode,
                        len(group_plan.slices),
                        start,
                        method,
                        workers,
                    )
                    job = SliceJob(
                        source=warehouse_engine,
                        source_schema=source_schema,
                        target=analytics_engine,
                        pairs=group,
                        method=method,
                        batch_rows=batch_rows,
                        clock=clock,
                        abort=threading.Event(),
                        before_commit=before_commit,
                    )
                    totals.add(_run_slices(job, group_plan.slices, workers))
                plan = Plan(
                    mode=plans[0].mode,
                    window_start=start,
                    watermark=plans[0].watermark,
                    slices=tuple(item for p in plans for item in p.slices),
                )
                pruned = _prune(analytics_engine, all_pairs, start)
            except BaseException as exc:
                _record_failure(control, syncs, sync_id, mode, clock, started, exc)
                raise
            tables = tuple(
                TableSync(
                    name=name,
                    rows=totals.inserted.get(name, 0),
                    deleted=totals.deleted.get(name, 0),
                    pruned=pruned[name],
                    copy_s=totals.seconds.get(name, 0.0),
                )
                for name in (pair.table.name for pair in all_pairs)
            )
            duration = clock.monotonic() - started
            with _translated("recording the sync result", warehouse_engine):
                ledger.finish_sync(
                    control,
                    syncs,
                    sync_id,
                    status=ledger.SUCCESS,
                    mode=plan.mode,
                    now=clock.now(),
                    duration_s=duration,
                    watermark=plan.watermark,
                    ads_rows=tables[0].rows,
                    actions_rows=tables[1].rows,
                )
                control.commit()
    result = SyncResult(
        sync_id=sync_id,
        mode=plan.mode,
        target=target,
        method=method,
        window_start=start,
        watermark=plan.watermark,
        slices=plan.slices,
        tables=tables,
        duration_s=duration,
        threads=min(workers, max(1, len(plan.slices))),
        columns_added=tuple(added),
    )
    log.info("sync to %s done: %s", target, result.summary())
    return result


def _loaded_reports(
    warehouse: sa.Engine, schema: str | None, reports: Sequence[ReportSpec]
) -> list[tuple[ReportSpec, list[str], list[str]]]:
    """The reports whose warehouse views exist, each with the extra columns of its two views (fields it no
    longer requests, kept in its tables); one configured since the last run is synced after the next."""
    if not reports:
        return []
    found = []
    with _translated("listing the warehouse views", warehouse), warehouse.connect() as conn:
        inspector = sa.inspect(conn)
        views = set(inspector.get_view_names(schema=schema))
        for spec in reports:
            if spec.view not in views or spec.lists_view not in views:
                log.warning(
                    "report %s: no view %s in the warehouse yet (run `metaads run` or `metaads init-db` first): "
                    "not synced",
                    spec.name,
                    spec.view,
                )
                continue
            item = layout(spec)
            extra = [
                [str(c["name"]) for c in inspector.get_columns(view, schema=schema) if c["name"] not in names]
                for view, names in (
                    (spec.view, set(item.column_names)),
                    (spec.lists_view, set(item.list_column_names)),
                )
            ]
            found.append((spec, extra[0], extra[1]))
    return found


def _record_failure(
    control: sa.Connection, syncs: sa.Table, sync_id: int, mode: str, clock: Clock, started: float, exc: BaseException
) -> None:
    """Mark the sync failed; a failure to record is logged, never hides the original error."""
    try:
        control.rollback()
        ledger.finish_sync(
            control,
            syncs,
            sync_id,
            status=ledger.FAILED,
            mode=mode,
            now=clock.now(),
            duration_s=clock.monotonic() - started,
            error=f"{type(exc).__name__}: {exc}",
        )
        control.commit()
    except DRIVER_ERRORS as record_exc:
        log.error("could not record the failure of sync %d: %s", sync_id, driver_message(record_exc))
