"""One account's entity load: campaigns, ad sets, ads and creatives, full the first time, then incremental.

Campaigns, ad sets and ads: the first load lists every object (all effective statuses); later loads ask
only for those with ``updated_time`` after the last successful load's start, less :data:`OVERLAP` (an
edit committed while that listing ran, or a clock a little off between Meta and us, is caught by the
next one). Each kind's watermark is its own, so a failed kind is retried from where it last succeeded.

Creatives have no ``updated_time`` filter, and Meta does not let an ad's creative be edited in place (a
new creative is made and the ad, whose ``updated_time`` moves, points at it). So an incremental load
fetches the creatives the ads updated since the last load reference, and the first load of each UTC day
lists them all (renames, and creatives no updated ad points at).
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from metaads.accounts import Account
from metaads.clock import Clock
from metaads.errors import MetaAdsError
from metaads.graph import GraphClient
from metaads.graph.entities import list_objects
from metaads.pipeline.spool import RowSpool
from metaads.redact import redact_text
from metaads.transform.entities import ADS, CREATIVES, ENTITY_KINDS, EntityKind, creative_ids, to_entity_rows
from metaads.warehouse.entities import FAILED, FULL, INCREMENTAL, LOADED, EntityLoad, EntityStore

log = logging.getLogger("metaads.pipeline")

OVERLAP = timedelta(minutes=15)


@dataclass
class EntityResult:
    """What one account's entity load did: rows upserted per kind, the kinds that failed."""

    rows: dict[str, int] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    api_calls: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def load_entities(
    client: GraphClient,
    store: EntityStore,
    account: Account,
    *,
    run_id: str,
    clock: Clock,
    full: bool = False,
    load_slot: AbstractContextManager[Any] | None = None,
) -> EntityResult:
    """Load the account's four entity tables; failures are recorded per kind, never raised.

    ``load_slot`` is held around each upsert (the pipeline's bound on concurrent warehouse loads).
    """
    slot: AbstractContextManager[Any] = load_slot if load_slot is not None else nullcontext()
    result = EntityResult()
    referenced: set[str] | None = None  # creative ids of the ads this load listed (None: ads not listed)
    for kind in ENTITY_KINDS:
        started_at, started = clock.now(), clock.monotonic()
        calls_before = client.stats(account).api_calls
        mode, updated_after, ids = _plan(store, account, kind, full=full, now=started_at, referenced=referenced)
        try:
            # Objects wait in a spool, not a list: an account's thousands of ads (tracking specs,
            # targeting) would otherwise sit in memory, once per account thread.
            listed: set[str] = set()
            with RowSpool() as objects:
                if ids is None or ids:
                    for page in list_objects(
                        client, account, kind.edge, kind.node, kind.api_fields, updated_after=updated_after, ids=ids
                    ):
                        objects.extend(page)
                        if kind is ADS:
                            listed |= creative_ids(page)
                        del page
                with slot:
                    rows = store.upsert(
                        account,
                        kind,
                        to_entity_rows(kind, objects.rows(), account_id=account.id, loaded_at=clock.now()),
                    )
            status, error = LOADED, None
            if kind is ADS:
                referenced = listed
        except MetaAdsError as exc:
            rows, status, error = 0, FAILED, redact_text(str(exc))
            result.errors[kind.name] = error
            log.error("account %s: %s load failed: %s", account.display_name, kind.name, error)
            if kind is ADS:
                referenced = None
        calls = client.stats(account).api_calls - calls_before
        result.api_calls += calls
        result.rows[kind.name], result.modes[kind.name] = rows, mode
        try:
            store.record(
                EntityLoad(
                    run_id,
                    account,
                    kind,
                    mode,
                    status,
                    started_at,
                    updated_after,
                    rows,
                    calls,
                    clock.monotonic() - started,
                    error,
                )
            )
        except MetaAdsError as exc:  # bookkeeping: the next load is then a wider one, never a narrower one
            log.error("account %s: could not record the %s load: %s", account.display_name, kind.name, exc)
    log.info(
        "account %s entities: %s",
        account.display_name,
        ", ".join(f"{name} {result.rows[name]} ({result.modes[name]})" for name in result.rows),
    )
    return result


def _plan(
    store: EntityStore, account: Account, kind: EntityKind, *, full: bool, now: datetime, referenced: set[str] | None
) -> tuple[str, datetime | None, list[str] | None]:
    """(mode, updated_after, ids) of this kind's listing."""
    if full:
        return FULL, None, None
    if kind is CREATIVES:
        last_full = store.last_loaded(account, kind, mode=FULL)
        if last_full is None or last_full.date() < now.date() or referenced is None:
            return FULL, None, None
        return INCREMENTAL, None, sorted(referenced)
    last = store.last_loaded(account, kind)
    if last is None:
        return FULL, None, None
    return INCREMENTAL, last - OVERLAP, None
