"""One account's entity load: campaigns, ad sets, ads and creatives, full the first time, then incremental.

Campaigns, ad sets and ads: the first load lists every object (all effective statuses); later loads ask
only for those with ``updated_time`` after the last successful load's start, less :data:`OVERLAP` (an
edit committed while that listing ran, or a clock a little off between Meta and us, is caught by the
next one). Each kind's watermark is its own, so a failed kind is retried from where it last succeeded.

Pausing, archiving or deleting a campaign or an ad set changes its children's ``effective_status``
(CAMPAIGN_PAUSED, ADSET_PAUSED, ...) without always changing their ``updated_time``: their own settings
did not change (Meta computes the status). So an incremental ad set load also lists the ad sets of every
campaign updated since its watermark (``campaign.id IN``), and an incremental ad load the ads of those
campaigns and of every ad set updated since: by ad set (``adset.id IN``: the updated campaigns' ad sets,
from their table, and the updated ad sets), or, when that takes more requests, by campaign and then by
the other updated ad sets. 50 ids per request, every effective status. Which field of a parent changed
cannot be told, so any update re-lists its children; a run with no updated parent costs no extra call,
a typical one one or two per account. The updated parents come from the parents' tables, just loaded:
so an ad set or ad watermark only counts runs whose parents all loaded before it (from the first
parent's start), and after a run whose campaigns failed, the next one re-lists from the run before. An
object listed twice in one load keeps its later listing and counts once.

Creatives have no ``updated_time`` filter, and Meta does not let an ad's creative be edited in place (a
new creative is made and the ad, whose ``updated_time`` moves, points at it). So an incremental load
fetches the creatives the ads updated since the last load reference, and the first load of each UTC day
lists them all (renames, and creatives no updated ad points at).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from metaads.accounts import Account
from metaads.clock import Clock
from metaads.errors import MetaAdsError
from metaads.graph import GraphClient
from metaads.graph.entities import IDS_PER_REQUEST, list_objects
from metaads.pipeline.spool import RowSpool
from metaads.redact import redact_text
from metaads.transform.entities import (
    ADS,
    ADSETS,
    CAMPAIGNS,
    CREATIVES,
    ENTITY_KINDS,
    EntityKind,
    creative_ids,
    to_entity_rows,
)
from metaads.warehouse.entities import FAILED, FULL, INCREMENTAL, LOADED, EntityLoad, EntityStore

log = logging.getLogger("metaads.pipeline")

OVERLAP = timedelta(minutes=15)
#: A kind's parents, outermost first: their status changes move the kind's ``effective_status``.
PARENTS: dict[str, tuple[EntityKind, ...]] = {ADSETS.name: (CAMPAIGNS,), ADS.name: (CAMPAIGNS, ADSETS)}


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
                for listing in _listings(store, account, kind, mode, updated_after, ids):
                    for page in list_objects(
                        client,
                        account,
                        kind.edge,
                        kind.node,
                        kind.api_fields,
                        updated_after=listing.updated_after,
                        ids=listing.ids,
                        ids_of=listing.ids_of,
                    ):
                        # An object in two listings is spooled twice: the upsert keeps the later (fresher)
                        # row and counts it once.
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
    last = store.last_loaded_with_parents(account, kind, PARENTS.get(kind.name, ()))
    if last is None:
        return FULL, None, None
    return INCREMENTAL, last - OVERLAP, None


@dataclass(frozen=True)
class _Listing:
    """One listing of a kind's edge: ``updated_after`` and ``ids`` as :func:`list_objects` takes them."""

    updated_after: datetime | None = None
    ids: list[str] | None = None
    ids_of: str | None = None  # the parent node ``ids`` name (None: the kind's own)


def _listings(
    store: EntityStore,
    account: Account,
    kind: EntityKind,
    mode: str,
    updated_after: datetime | None,
    ids: list[str] | None,
) -> list[_Listing]:
    """The listings of one kind's load: the planned one, and in an incremental load its re-listing by parent.

    Ad sets: those of the campaigns updated after ``updated_after``. Ads: those of the updated campaigns and of
    the updated ad sets, in as few requests as the ids allow: by ad set (the updated campaigns' ad sets, from
    their table, and the updated ad sets), one ``adset.id IN`` where two listings (``campaign.id IN``, then
    ``adset.id IN`` for the ad sets outside those campaigns) would cost more. The updated parents are read
    from their tables, loaded just before. No updated parent, no extra listing.
    """
    listings = [_Listing(updated_after, ids)] if ids is None or ids else []
    if mode != INCREMENTAL or updated_after is None or kind not in (ADSETS, ADS):
        return listings
    campaigns = [object_id for object_id, _ in store.updated_since(account, CAMPAIGNS, updated_after)]
    by_parent: list[_Listing] = []
    if kind is ADSETS:
        by_parent.append(_Listing(ids=campaigns, ids_of=CAMPAIGNS.node))
    else:
        covered = set(campaigns)
        adsets = [i for i, campaign in store.updated_since(account, ADSETS, updated_after) if campaign not in covered]
        by_adset = sorted({*store.ids_with_campaign(account, ADSETS, campaigns), *adsets})
        if _requests(by_adset) <= _requests(campaigns) + _requests(adsets):
            by_parent.append(_Listing(ids=by_adset, ids_of=ADSETS.node))
        else:  # campaigns with many ad sets each: fewer requests by campaign
            by_parent += [_Listing(ids=campaigns, ids_of=CAMPAIGNS.node), _Listing(ids=adsets, ids_of=ADSETS.node)]
    by_parent = [listing for listing in by_parent if listing.ids]
    if by_parent:
        log.debug(
            "account %s: %s of updated parents re-listed: %s",
            account.display_name,
            kind.name,
            ", ".join(f"{len(listing.ids or ())} {listing.ids_of}s" for listing in by_parent),
        )
    return listings + by_parent


def _requests(ids: Sequence[str]) -> int:
    """Requests an ``IN`` listing of ``ids`` takes (pages aside)."""
    return -(-len(ids) // IDS_PER_REQUEST)
