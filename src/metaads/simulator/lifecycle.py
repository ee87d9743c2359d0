"""Status changes over time: a few live campaigns, ad sets and ads get paused, archived or deleted.

Each live object (``status`` ACTIVE, delivering) is picked with probability ``status_change_rate`` from a
hash of the seed and its id, and changes once, at a fixed moment within ``status_change_days`` after the
world's start (00:00 UTC the day after the anchor, so no change is retroactive: before that moment every
endpoint answers as the world was built). The consequences follow Meta's documented statuses:

- Pausing an object sets its ``status`` (and ``effective_status``) to PAUSED; its children keep their own
  ``status`` and their ``effective_status`` becomes CAMPAIGN_PAUSED / ADSET_PAUSED (the closest paused
  parent). Children are not written, so their ``updated_time`` does not move (**unverified**: Meta
  computes ``effective_status``; an ``updated_time``-based incremental listing then misses the children's
  new ``effective_status``; ``SimulatorConfig.pause_touches_children=True`` writes them instead).
- Archiving or deleting an object archives or deletes everything below it (``status`` and
  ``effective_status``, a write of each, as the world generator lays archived campaigns out); DELETED
  wins over ARCHIVED, and a deleted object changes no more.
- The changed objects (the object and the children it wrote) get ``updated_time`` = the moment; scheduled
  edits (budgets) stop at the object's first change; and an ad whose ``effective_status`` leaves ACTIVE
  delivers nothing after the local day of that moment. That day keeps its figures and every earlier day
  is untouched: the ad's ``last_day`` is set when the world is built, and the days it removes are still in
  the clock's future until the change happens (``metaads.simulator.world``).

Every change is a :class:`StatusChange` on the object (``obj.changes``, in time order); the functions
below give the state as of a moment, which is what every endpoint shows (nodes, edges, ``filtering``,
insights).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from metaads.simulator.world import Ad, AdSet, Campaign

ARCHIVED_STATES = frozenset({"ARCHIVED", "DELETED"})
#: Effective statuses of an object still running (delivering, and edited on its schedule).
LIVE_STATES = frozenset({"ACTIVE", "WITH_ISSUES", "IN_PROCESS"})
#: What a picked object becomes, and with which probability (cumulative bounds of one uniform draw).
_NEW_STATUSES = (("PAUSED", 0.5), ("ARCHIVED", 0.7), ("DELETED", 1.0))
_RANK = {"ARCHIVED": 1, "DELETED": 2}


@dataclass(frozen=True, slots=True)
class StatusChange:
    """The object's state from ``at`` on."""

    at: datetime
    status: str
    effective_status: str
    written: bool  # the object itself was written: its ``updated_time`` moves to ``at``


class Changing(Protocol):
    """What the as-of functions read: the state the world was built with, and the changes after it."""

    @property
    def status(self) -> str: ...
    @property
    def effective_status(self) -> str: ...
    @property
    def changes(self) -> tuple[StatusChange, ...]: ...


# --------------------------------------------------------------------------- the state as of a moment


def state_at(obj: Changing, now: datetime) -> tuple[str, str]:
    """(``status``, ``effective_status``) of ``obj`` as of ``now``."""
    status, effective = obj.status, obj.effective_status
    for change in obj.changes:
        if change.at > now:
            break
        status, effective = change.status, change.effective_status
    return status, effective


def status_at(obj: Changing, now: datetime) -> str:
    """The configured ``status`` as of ``now``."""
    return state_at(obj, now)[0]


def effective_status_at(obj: Changing, now: datetime) -> str:
    """``effective_status`` as of ``now``."""
    return state_at(obj, now)[1]


def running_until(obj: Changing) -> datetime | None:
    """When the object stops running (its first change: every change leaves a live state), or None."""
    return obj.changes[0].at if obj.changes else None


def last_written(obj: Changing, now: datetime) -> datetime | None:
    """The latest change by ``now`` that wrote the object (moved its ``updated_time``), or None."""
    found = None
    for change in obj.changes:
        if change.at > now:
            break
        if change.written:
            found = change.at
    return found


def change_times(objects: Sequence[Changing]) -> tuple[datetime, ...]:
    """Every change moment of ``objects``, sorted: the state of an account moves only at these."""
    return tuple(sorted(change.at for obj in objects for change in obj.changes))


# --------------------------------------------------------------------------- planning, when the world is built


def _uniforms(seed: int, object_id: str) -> tuple[float, float, float]:
    """Three independent uniforms in [0, 1) for one object (its id hashed with the seed)."""
    digest = hashlib.blake2b(f"metaads-status-{seed}-{object_id}".encode(), digest_size=12).digest()
    pick, when, what = (int.from_bytes(digest[i : i + 4], "big") / 2**32 for i in (0, 4, 8))
    return pick, when, what


def plan_changes(
    campaigns: Sequence[Campaign],
    adsets: Sequence[AdSet],
    ads: Sequence[Ad],
    *,
    seed: int,
    start: datetime,
    days: int,
    rate: float,
    zone: ZoneInfo,
    pause_touches_children: bool = False,
) -> tuple[list[Campaign], list[AdSet], list[Ad]]:
    """One account's objects with their :class:`StatusChange` lists, ads' ``last_day`` cut at their stop."""
    kind_of: dict[str, str] = {}
    state: dict[str, tuple[str, str]] = {}
    events: list[tuple[datetime, str, str]] = []
    for kind, objects in (("campaign", campaigns), ("adset", adsets), ("ad", ads)):
        for obj in objects:
            kind_of[obj.id] = kind
            state[obj.id] = (obj.status, obj.effective_status)
            if obj.status != "ACTIVE" or obj.effective_status not in LIVE_STATES or rate <= 0:
                continue
            pick, when, what = _uniforms(seed, obj.id)
            if pick >= rate:
                continue
            at = (start + timedelta(seconds=int(when * days * 86400))).astimezone(zone)
            events.append((at, obj.id, next(status for status, bound in _NEW_STATUSES if what < bound)))
    if not events:
        return list(campaigns), list(adsets), list(ads)
    below: dict[str, list[str]] = {}
    for adset in adsets:
        below.setdefault(adset.campaign_id, []).append(adset.id)
    for ad in ads:
        below.setdefault(ad.adset_id, []).append(ad.id)
        below.setdefault(ad.campaign_id, []).append(ad.id)
    timeline: dict[str, list[StatusChange]] = {}

    def move(object_id: str, at: datetime, status: str, effective: str, written: bool) -> None:
        state[object_id] = (status, effective)
        timeline.setdefault(object_id, []).append(StatusChange(at, status, effective, written))

    for at, object_id, new in sorted(events):
        status, _ = state[object_id]
        if status in _RANK and _RANK.get(new, 0) <= _RANK[status]:
            continue  # archived or deleted (by a parent) before its own change came
        move(object_id, at, new, new, True)
        paused_by = "CAMPAIGN_PAUSED" if kind_of[object_id] == "campaign" else "ADSET_PAUSED"
        for child in below.get(object_id, ()):
            child_status, child_effective = state[child]
            if new in _RANK:
                if _RANK[new] > _RANK.get(child_status, 0):
                    move(child, at, new, new, True)
            elif child_effective in LIVE_STATES:
                move(child, at, child_status, paused_by, pause_touches_children)

    def changed(obj: Campaign | AdSet | Ad) -> tuple[StatusChange, ...]:
        return tuple(timeline.get(obj.id, ()))

    new_ads = []
    for ad in ads:
        changes = changed(ad)
        if changes:
            # Every change takes an ad out of delivery: nothing after the local day it happens.
            stop = changes[0].at.astimezone(zone).date().toordinal()
            ad = replace(ad, changes=changes, last_day=stop if ad.last_day is None else min(ad.last_day, stop))
        new_ads.append(ad)
    return (
        [replace(c, changes=changed(c)) if c.id in timeline else c for c in campaigns],
        [replace(s, changes=changed(s)) if s.id in timeline else s for s in adsets],
        new_ads,
    )
