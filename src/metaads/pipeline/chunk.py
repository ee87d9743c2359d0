"""Fetching, reconciling and loading one chunk (an account's date range), recorded in the same transaction.

``RECONCILE`` (docs/reconciliation.md):

- ``off``: fetch the ad rows, replace the range.
- ``warn``: also ask Meta for the account-level daily totals of the range and compare them with the
  ad rows' sums (taken while the rows are staged). A mismatch is loaded and recorded as
  ``mismatch``; only days the answer leaves empty while rows are stored and Meta's totals are not empty
  keep their rows.
- ``strict``: on a mismatch re-fetch once; if it still differs, replace only the days where the new
  answer is at least as close to Meta's totals as the stored rows (no day gets worse), record
  ``mismatch`` and fail the account.

In every mode the chunk's ledger row (and, when reconciling, its per-day totals) is written inside the
load's transaction: data and record commit together or not at all.

:meth:`ChunkLoader.prepare` makes every API call of a chunk (fetch, reconciliation) and writes nothing;
:meth:`ChunkLoader.write` loads and records it. The job runs a chunk's ``prepare`` while the previous
chunk's ``write`` waits for the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import sqlalchemy as sa

from metaads.accounts import Account
from metaads.clock import Clock
from metaads.dates import DateRange
from metaads.graph import GraphClient
from metaads.outcomes import ChunkResult
from metaads.pipeline.results import LOADED, MISMATCH, ProgressListener
from metaads.reconcile.compare import (
    OFF,
    STRICT,
    ChunkCheck,
    Tolerance,
    check_days,
    days_not_confirmed_empty,
    days_to_replace,
    merged,
)
from metaads.reconcile.fetch import account_totals
from metaads.reconcile.totals import EMPTY, DayTotals, TotalsByDay
from metaads.transform import to_actions_rows, to_ads_rows
from metaads.warehouse import Warehouse
from metaads.warehouse.load import LoadResult
from metaads.warehouse.staging import Staging

log = logging.getLogger("metaads.pipeline")

#: Completes the chunk's record at record time with what the chunk cost so far (API calls, time).
Costed = Callable[[ChunkResult], ChunkResult]


@dataclass
class _Fetched:
    staged: Staging
    sums: TotalsByDay


@dataclass
class PreparedChunk:
    """A chunk fetched (and reconciled) with every API call it needs, its rows staged, nothing written:
    :meth:`ChunkLoader.write` loads it. Holds the staged rows until then (:meth:`close` frees them)."""

    account: Account
    chunk: DateRange
    fetched: _Fetched
    #: The result before the load's counts: loaded, or a mismatch to record.
    base: ChunkResult
    stack: ExitStack
    choice: _Choice | None = None
    #: (days, Meta's totals, tolerance) when reconciling.
    reconcile: tuple[list[date], dict[date, DayTotals], Tolerance] | None = None
    #: The reconciliation of the load, filled when it records.
    outcome: list[ChunkCheck] = field(default_factory=list)

    def close(self) -> None:
        self.stack.close()


def chunk_days(chunk: DateRange) -> list[date]:
    return [chunk.since + timedelta(days=i) for i in range(chunk.days)]


class ChunkLoader:
    """Loads chunks of one run with one reconciliation mode and tolerance."""

    def __init__(
        self,
        client: GraphClient,
        warehouse: Warehouse,
        clock: Clock,
        *,
        mode: str,
        relative_tolerance: str = "0.001",
        load_slots: AbstractContextManager[object] | None = None,
    ) -> None:
        self.client = client
        #: Held around each load: loads of different accounts run ``ACCOUNT_GROUP_SIZE`` at once.
        self.load_slots: AbstractContextManager[object] = load_slots or nullcontext()
        self.warehouse = warehouse
        self.clock = clock
        self.mode = mode
        self.relative_tolerance = relative_tolerance

    def _fetch(
        self,
        stack: ExitStack,
        account: Account,
        chunk: DateRange,
        listener: ProgressListener,
        statuses: dict[str, str],
        currency: str | None,
    ) -> _Fetched:
        # Each page is transformed and staged in the load's format as it arrives, so the load only
        # streams bytes (metaads.warehouse.staging); the rows carry the time their fetch began.
        staged = stack.enter_context(self.warehouse.stage(account, chunk.since, chunk.until))
        sums = TotalsByDay()
        loaded_at = self.clock.now()
        listener.stage(account, f"fetching {chunk}")
        for page in self.client.insights(account, chunk.since, chunk.until):
            sums.add_all(page)
            staged.ads.add(to_ads_rows(page, campaign_status=statuses, currency=currency, loaded_at=loaded_at))
            staged.actions.add(to_actions_rows(page, loaded_at=loaded_at))
            listener.rows_fetched(account, len(page))
            del page  # not held while the next page is fetched (memory: one page per account)
        return _Fetched(staged, sums)

    def prepare(
        self,
        account: Account,
        chunk: DateRange,
        statuses: dict[str, str],
        currency: str | None,
        listener: ProgressListener,
    ) -> PreparedChunk:
        """Fetch the chunk (and reconcile it): every API call of the chunk, nothing written yet.

        The result holds the staged rows until :meth:`write` (or its ``close``) frees them.

        Raises:
            MetaAdsError: a fetch failed; nothing is held.
        """
        # The staged rows outlive this method only when it succeeds: pop_all() hands them to the result.
        with ExitStack() as stack:
            fetched = self._fetch(stack, account, chunk, listener, statuses, currency)
            if self.mode == OFF:
                return PreparedChunk(account, chunk, fetched, ChunkResult(chunk, LOADED), stack.pop_all())
            days = chunk_days(chunk)
            tolerance = Tolerance.for_currency(currency, self.relative_tolerance)
            listener.stage(account, "reconciling")
            api = account_totals(self.client, account, chunk.since, chunk.until)
            first = check_days(days, api, fetched.sums.days, tolerance)
            again = None
            if not first.ok and self.mode == STRICT:
                again = f"ad rows differ from Meta's account totals ({first.summary()})"
            elif first.ok and self._would_empty(account, chunk, days, fetched.sums.days):
                # Both levels answered "nothing" for days that have rows; an empty answer can be a fault at
                # either level, so deleting stored rows takes a second answer saying the same.
                again = "Meta's answers are empty for days with stored rows"
            if again is not None:
                log.warning("account %s %s: %s; fetching again", account.display_name, chunk, again)
                fetched = self._fetch(stack, account, chunk, listener, statuses, currency)
                api = account_totals(self.client, account, chunk.since, chunk.until)
                first = check_days(days, api, fetched.sums.days, tolerance)
            new = fetched.sums.days
            if first.ok:

                def choose(stored: dict[date, DayTotals]) -> set[date] | None:
                    return None
            elif self.mode == STRICT:

                def choose(stored: dict[date, DayTotals]) -> set[date] | None:
                    return days_to_replace(days, api, new, stored, tolerance)
            else:

                def choose(stored: dict[date, DayTotals]) -> set[date] | None:
                    return set(days) - days_not_confirmed_empty(days, api, new, stored)

            if first.ok:
                base = ChunkResult(chunk, LOADED)
            else:
                blocking = self.mode == STRICT  # fetched twice already: retrying now gives the same answer
                base = ChunkResult(
                    chunk,
                    MISMATCH,
                    mismatch_days=len(first.bad_days),
                    blocking=blocking,
                    retryable=not blocking,
                    error=f"reconciliation: ad-level rows differ from Meta's account totals: {first.summary()}",
                )
            return PreparedChunk(
                account, chunk, fetched, base, stack.pop_all(), _Choice(choose), (days, api, tolerance)
            )

    def write(self, prepared: PreparedChunk, listener: ProgressListener, run_id: str, costed: Costed) -> ChunkResult:
        """Load a prepared chunk and record it in the same transaction; frees its staged rows.

        Raises:
            MetaAdsError: the load failed; nothing of the chunk was written or recorded.
        """
        account, base = prepared.account, prepared.base
        with prepared.stack:
            listener.stage(account, "loading")
            load = self._write(prepared, run_id, costed)
        result = replace(base, ads_rows=load.ads_rows, actions_rows=load.actions_rows)
        if prepared.reconcile is None:
            return result
        listener.stage(account, "reconciled" if base.status == LOADED else "mismatch")
        if base.status == LOADED:
            return result
        kept = [d.day.isoformat() for d in prepared.outcome[0].days if not d.replaced]
        if kept:
            shown = ", ".join(kept[:5]) + ("..." if len(kept) > 5 else "")
            result = replace(result, error=f"{result.error} (stored rows kept on {len(kept)} days: {shown})")
        log.warning("account %s %s: %s", account.display_name, prepared.chunk, result.error)
        return result

    def _would_empty(self, account: Account, chunk: DateRange, days: list[date], new: dict[date, DayTotals]) -> bool:
        """Whether loading ``new`` would delete stored rows (days without rows in the answer that have some)."""
        empty = [day for day in days if new.get(day, EMPTY).rows == 0]
        if not empty:
            return False
        stored = self.warehouse.stored_totals(account, chunk.since, chunk.until)
        return any(stored.get(day, EMPTY).rows > 0 for day in empty)

    def _write(self, prepared: PreparedChunk, run_id: str, costed: Costed) -> LoadResult:
        account, chunk, fetched, choice = prepared.account, prepared.chunk, prepared.fetched, prepared.choice

        def record(conn: sa.Connection, load: LoadResult) -> int:
            check = None
            if prepared.reconcile is not None and choice is not None:
                days, api, tolerance = prepared.reconcile
                replaced = set(days) if load.replaced_days is None else set(load.replaced_days)
                after = merged(days, replaced, fetched.sums.days, choice.stored)
                check = check_days(days, api, after, tolerance, replaced, answer=fetched.sums.days)
                prepared.outcome.append(check)
            entry = costed(replace(prepared.base, ads_rows=load.ads_rows, actions_rows=load.actions_rows))
            return self.warehouse.record_chunk(conn, run_id, account, entry, check)

        with self.load_slots:
            return self.warehouse.replace_range(
                account,
                chunk.since,
                chunk.until,
                fetched.staged.ads,
                fetched.staged.actions,
                choose_days=choice,
                record=record,
            )


class _Choice:
    """The day chooser handed to the warehouse; keeps the stored sums it was shown for the record."""

    def __init__(self, choose: Callable[[dict[date, DayTotals]], set[date] | None]) -> None:
        self._choose = choose
        self.stored: dict[date, DayTotals] = {}

    def __call__(self, stored: dict[date, DayTotals]) -> set[date] | None:
        self.stored = stored
        return self._choose(stored)
