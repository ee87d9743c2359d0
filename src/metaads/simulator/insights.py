"""``/act_{id}/insights``: parse a request into an :class:`InsightsQuery` and produce its rows lazily.

Rows come in a fixed order (period, then object id, then breakdown bucket), and every row has a
position ``(period, object, bucket)``; paging cursors are positions, so a page costs only its own rows
however deep into a 300 000-row result it starts.

``filtering`` takes ``{ad,adset,campaign}.effective_status`` and ``.id`` (IN, NOT_IN, EQUAL, NOT_EQUAL) and
``.updated_time`` (unix seconds: GREATER_THAN, LESS_THAN, IN_RANGE ``[from, to]`` and the rest of
:data:`metaads.simulator.filtering.NUMBER_OPERATORS`), through the same code as the object edges. Statuses
and ``updated_time`` are the objects' as of the moment the answer describes (a report run: its completion),
so an object paused, archived or deleted since (:mod:`metaads.simulator.lifecycle`) is filtered, and
hidden at ad / ad set / campaign level, by its new status; its rows of the days it delivered stay.
"""

from __future__ import annotations

import bisect
import calendar
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import orjson

from metaads.simulator import action_breakdowns, breakdowns, catalog, errors, lifecycle
from metaads.simulator.breakdowns import bucket_weights, buckets
from metaads.simulator.fields import RowFigures, render_row
from metaads.simulator.filtering import NUMBER_OPERATORS, SET_OPERATORS, Filter, parse_filtering, value_of
from metaads.simulator.metrics import (
    Record,
    ad_day,
    at_conversion_time,
    dropped,
    is_empty,
    split_record,
    sum_records,
)
from metaads.simulator.objects import updated_time
from metaads.simulator.protocol import json_list
from metaads.simulator.world import AD_STATUSES, Ad, AdAccount, AdSet, Campaign, graph_time

LEVELS = ("ad", "adset", "campaign", "account")
VALID_FIELDS = frozenset(catalog.INSIGHTS_FIELDS)
DEFAULT_FIELDS = ("account_id", "impressions", "spend")
#: ``filtering``: the nodes a field may name, and each attribute's operators.
_FILTER_NODES = ("ad", "adset", "campaign")
_FILTER_FIELDS = {"effective_status": SET_OPERATORS, "id": SET_OPERATORS, "updated_time": NUMBER_OPERATORS}
ALL_STATUSES = AD_STATUSES

Position = tuple[int, int, int]


@dataclass(frozen=True)
class InsightsQuery:
    """A validated insights request for one account."""

    level: str
    fields: tuple[str, ...]
    since: date
    until: date
    periods: tuple[tuple[int, int], ...]
    breakdowns: tuple[str, ...]
    windows: tuple[str, ...]
    filters: tuple[Filter, ...]
    limit: int
    action_breakdowns: tuple[str, ...] = ()
    action_report_time: str = "impression"

    @property
    def ad_days(self) -> int:
        return self.until.toordinal() - self.since.toordinal() + 1


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _parse_day(value: Any, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise errors.invalid_param(
            f"param time_range[{name}] must be a date in the format YYYY-MM-DD, got {value!r}"
        ) from None


def _date_range(params: Mapping[str, str], today: date, history_months: int) -> tuple[date, date]:
    raw = params.get("time_range")
    if raw:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise errors.invalid_param("param time_range must be a JSON object with since and until") from None
        if not isinstance(value, dict) or "since" not in value or "until" not in value:
            raise errors.invalid_param("param time_range must be a JSON object with since and until")
        since, until = _parse_day(value["since"], "since"), _parse_day(value["until"], "until")
        if since > until:
            raise errors.invalid_param("param time_range: since must be on or before until")
        return since, until
    return preset_range(params.get("date_preset", "last_30d"), today, history_months)


def preset_range(preset: str, today: date, history_months: int) -> tuple[date, date]:
    """The days of a ``date_preset`` (the SDK's ``DatePreset`` list), in the account's time zone."""
    last = {"yesterday": 1, "last_3d": 3, "last_7d": 7, "last_14d": 14, "last_28d": 28, "last_30d": 30, "last_90d": 90}
    if preset == "today":
        return today, today
    if preset in last:
        return today - timedelta(days=last[preset]), today - timedelta(days=1)
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    monday = today - timedelta(days=today.weekday())
    sunday = today - timedelta(days=(today.weekday() + 1) % 7)
    ranges = {
        "this_month": (today.replace(day=1), today),
        "last_month": (add_months(today.replace(day=1), -1), today.replace(day=1) - timedelta(days=1)),
        "this_quarter": (quarter_start, today),
        "last_quarter": (add_months(quarter_start, -3), quarter_start - timedelta(days=1)),
        "this_year": (date(today.year, 1, 1), today),
        "last_year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        "this_week_mon_today": (monday, today),
        "this_week_sun_today": (sunday, today),
        "last_week_mon_sun": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "last_week_sun_sat": (sunday - timedelta(days=7), sunday - timedelta(days=1)),
        "maximum": (add_months(today, -history_months), today),
        "data_maximum": (add_months(today, -history_months), today),
    }
    if preset in ranges:
        return ranges[preset]
    raise errors.invalid_param(f"param date_preset must be one of {{{', '.join(catalog.DATE_PRESETS)}}}")


def _periods(since: date, until: date, increment: str) -> tuple[tuple[int, int], ...]:
    first, last = since.toordinal(), until.toordinal()
    if increment in ("", "all_days"):
        return ((first, last),)
    if increment == "monthly":
        periods = []
        day = since
        while day <= until:
            month_end = date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
            periods.append((day.toordinal(), min(month_end, until).toordinal()))
            day = month_end + timedelta(days=1)
        return tuple(periods)
    try:
        step = int(increment)
    except ValueError:
        step = 0
    if not 1 <= step <= 90:
        raise errors.invalid_param("param time_increment must be 'monthly', 'all_days' or an integer 1-90")
    return tuple((d, min(d + step - 1, last)) for d in range(first, last + 1, step))


def parse_query(params: Mapping[str, str], *, today: date, history_months: int, default_limit: int) -> InsightsQuery:
    """Validate insights parameters as the API does (errors 100 and 3018)."""
    level = params.get("level", "account")
    if level not in LEVELS:
        raise errors.invalid_param(f"param level must be one of {{{', '.join(LEVELS)}}}")
    fields = tuple(str(f) for f in json_list(params, "fields")) or DEFAULT_FIELDS
    for name in fields:
        if name not in VALID_FIELDS:
            raise errors.invalid_field(name)
    since, until = _date_range(params, today, history_months)
    if since < add_months(today, -history_months):
        raise errors.beyond_37_months(history_months)
    wanted_breakdowns = tuple(str(b) for b in json_list(params, "breakdowns"))
    wanted_actions = tuple(str(b) for b in json_list(params, "action_breakdowns"))
    windows = tuple(str(w) for w in json_list(params, "action_attribution_windows"))
    report_time = params.get("action_report_time") or None
    action_breakdowns.validate(wanted_actions, windows, report_time)
    breakdowns.validate(wanted_breakdowns, wanted_actions)
    try:
        limit = int(params.get("limit", default_limit))
    except ValueError:
        raise errors.invalid_param("param limit must be an integer") from None
    if limit < 1:
        raise errors.invalid_param("param limit must be a positive integer")
    return InsightsQuery(
        level=level,
        fields=fields,
        since=since,
        until=until,
        periods=_periods(since, until, params.get("time_increment", "all_days").strip()),
        breakdowns=wanted_breakdowns,
        windows=windows,
        filters=parse_filters(params),
        limit=limit,
        action_breakdowns=wanted_actions,
        action_report_time=report_time or "impression",
    )


def parse_filters(params: Mapping[str, str]) -> tuple[Filter, ...]:
    """The ``filtering`` parameter: ``[{"field": "ad.effective_status", "operator": "IN", "value": [...]}, ...]``."""
    filters = parse_filtering(
        params, prefixes=_FILTER_NODES, fields=_FILTER_FIELDS, statuses=lambda owner: ALL_STATUSES, bare=False
    )
    return tuple(filters)


# --------------------------------------------------------------------------- the row engine


@dataclass(frozen=True)
class _Group:
    """One object at the query's level, its ads, and its id/name fields as the rows show them."""

    ads: tuple[Ad, ...]
    entity: dict[str, str]


def _group(
    account: AdAccount,
    campaign: Campaign | None,
    adset: AdSet | None,
    ad: Ad | None,
    ads: tuple[Ad, ...],
    updated_as_of: datetime | None,
) -> _Group:
    """``updated_as_of``: the moment whose ``updated_time`` the rows show (None: the field is not asked for)."""
    entity = {"account_id": account.id, "account_name": account.name, "account_currency": account.currency}
    if campaign is not None:
        entity.update(
            campaign_id=campaign.id,
            campaign_name=campaign.name,
            objective=campaign.objective,
            buying_type="AUCTION",
        )
    if adset is not None:
        entity.update(adset_id=adset.id, adset_name=adset.name, optimization_goal=adset.optimization_goal)
        entity.update(adset_start=graph_time(adset.start_time), attribution_setting="7d_click_1d_view")
        if adset.end_time is not None:
            entity["adset_end"] = graph_time(adset.end_time)
    if ad is not None:
        entity.update(ad_id=ad.id, ad_name=ad.name, creative_media_type="VIDEO" if ad.video else "IMAGE")
    own = ad or adset or campaign
    if own is not None:
        # The row's own object: its creation and last update dates (insights send dates, not times).
        entity["created_time"] = own.created_time.date().isoformat()
        if updated_as_of is not None:
            entity["updated_time"] = updated_time(own, updated_as_of).date().isoformat()
    return _Group(ads, entity)


def _groups(account: AdAccount, query: InsightsQuery, hide_archived: bool, as_of: datetime) -> list[_Group]:
    """The objects at the query's level that pass its filters as of ``as_of``, in id order."""
    campaigns = {c.id: c for c in account.campaigns}
    adsets = {s.id: s for s in account.adsets}
    filters = query.filters
    status_filtered = any(f.attr == "effective_status" for f in filters)
    level = query.level
    stamp = as_of if "updated_time" in query.fields else None
    selected: list[Ad] = []
    for ad in account.ads:
        campaign, adset = campaigns[ad.campaign_id], adsets[ad.adset_id]
        ok = True
        for f in filters:
            obj: Any = ad if f.owner == "ad" else adset if f.owner == "adset" else campaign
            if not f.accepts(value_of(obj, f.attr, as_of)):
                ok = False
                break
        if ok and hide_archived and not status_filtered and level != "account":
            own = ad if level == "ad" else adset if level == "adset" else campaign
            ok = lifecycle.effective_status_at(own, as_of) not in lifecycle.ARCHIVED_STATES
        if ok:
            selected.append(ad)
    if level == "ad":
        return [_group(account, campaigns[a.campaign_id], adsets[a.adset_id], a, (a,), stamp) for a in selected]
    if level == "account":
        return [_group(account, None, None, None, tuple(selected), stamp)] if selected else []
    key = "adset_id" if level == "adset" else "campaign_id"
    by_parent: dict[str, list[Ad]] = {}
    for ad in selected:
        by_parent.setdefault(getattr(ad, key), []).append(ad)
    groups = []
    for parent_id in sorted(by_parent, key=int):
        members = tuple(by_parent[parent_id])
        if level == "adset":
            adset = adsets[parent_id]
            groups.append(_group(account, campaigns[adset.campaign_id], adset, None, members, stamp))
        else:
            groups.append(_group(account, campaigns[parent_id], None, None, members, stamp))
    return groups


@dataclass(frozen=True)
class View:
    """How the data looks to one request: its moment and the account's local day, restatement, data faults."""

    as_of: datetime  # the moment the answer describes: objects' statuses and updated_time as of then
    today: int  # the account's local day ordinal at ``as_of``
    restatement_days: int = 28
    restatement_scale: float = 1.0
    hide_archived: bool = True
    missing_rows_rate: float = 0.0  # ad-days missing below account level (Faults.missing_rows_rate)
    first_day: int | None = None  # the account's first day with data (Faults.account_created_days_ago)


def iter_rows(
    account: AdAccount,
    query: InsightsQuery,
    view: View,
    *,
    start: Position = (0, 0, 0),
    cache: dict[Any, list[Any]] | None = None,
) -> Iterator[tuple[Position, dict[str, Any]]]:
    """Rows of ``query`` as seen through ``view``, from position ``start`` on.

    ``cache`` (any dict kept by the caller) saves re-selecting the objects for every page.
    """
    today = view.today
    key = (account.id, query.level, query.filters, view.hide_archived, _state_key(account, query, view.as_of))
    groups = cache.get(key) if cache is not None else None
    if groups is None:
        groups = _groups(account, query, view.hide_archived, view.as_of)
        if cache is not None:
            if len(cache) > 256:
                cache.clear()
            cache[key] = groups
    combos = buckets(account, query.breakdowns) if query.breakdowns else None
    windows = bool(query.windows)
    drop = view.missing_rows_rate if query.level != "account" else 0.0
    shifted = query.action_report_time in ("conversion", "mixed")
    range_first = query.since.toordinal() if view.first_day is None else max(query.since.toordinal(), view.first_day)
    range_last = min(query.until.toordinal(), today)

    def live(ad: Ad, day: int) -> bool:
        return ad.first_day <= day and (ad.last_day is None or day <= ad.last_day)

    def figures(ad: Ad, day: int) -> Record | None:
        rec = ad_day(ad, day, today - day, view.restatement_days, view.restatement_scale)
        if not shifted:
            return rec
        # action_report_time=conversion: conversions move to the day they happened, within the range.
        moves_in = day - 1 >= range_first and live(ad, day - 1)
        previous = ad_day(ad, day - 1, today - day + 1, view.restatement_days, view.restatement_scale)
        moves_out = day + 1 <= range_last and live(ad, day + 1)
        return at_conversion_time(ad, day, rec, previous, moves_out=moves_out, moves_in=moves_in)

    p0, o0, b0 = start
    for p_index in range(p0, len(query.periods)):
        first, last = query.periods[p_index]
        if first > today:
            return
        last_delivery = min(last, today)
        first_delivery = first if view.first_day is None else max(first, view.first_day)
        start_iso, stop_iso = date.fromordinal(first).isoformat(), date.fromordinal(last).isoformat()
        for o_index in range(o0 if p_index == p0 else 0, len(groups)):
            group = groups[o_index]
            records: list[Record] = []
            for day in range(first_delivery, last_delivery + 1):
                for ad in group.ads:
                    if live(ad, day):
                        if drop and dropped(ad, day, drop):
                            continue
                        rec = figures(ad, day)
                        if rec is not None:
                            records.append(rec)
                            if combos is not None:
                                rec.append(ad)
            if not records:
                continue
            skip = b0 if (p_index == p0 and o_index == o0) else 0
            if combos is None:
                if skip:
                    continue
                row = _row(account, group, sum_records(records, windows=windows), query, start_iso, stop_iso, None)
                yield (p_index, o_index, 0), row
                continue
            for b_index, (labels, rec) in enumerate(_bucketed(account, records, combos, windows)):
                if b_index < skip or rec is None:
                    continue
                yield (
                    (p_index, o_index, b_index),
                    _row(account, group, rec, query, start_iso, stop_iso, labels),
                )


def _state_key(account: AdAccount, query: InsightsQuery, as_of: datetime) -> Any:
    """What the selected objects depend on besides the query: the status changes so far, or the moment itself
    when ``updated_time`` is filtered on or shown (scheduled edits move it at any time)."""
    if "updated_time" in query.fields or any(f.attr == "updated_time" for f in query.filters):
        return as_of
    return bisect.bisect_right(account.status_change_times, as_of)


def _bucketed(
    account: AdAccount, records: list[Record], combos: list[dict[str, str]], windows: bool
) -> Iterator[tuple[dict[str, str], Record | None]]:
    dims = tuple(combos[0])
    per_bucket: list[list[Record]] = [[] for _ in combos]
    for rec in records:
        ad = rec.pop()
        for i, part in enumerate(split_record(rec, bucket_weights(account, ad, dims))):
            if not is_empty(part):
                per_bucket[i].append(part)
    for labels, parts in zip(combos, per_bucket, strict=True):
        yield labels, (sum_records(parts, windows=windows) if parts else None)


def _row(
    account: AdAccount,
    group: _Group,
    rec: Record,
    query: InsightsQuery,
    start_iso: str,
    stop_iso: str,
    labels: dict[str, str] | None,
) -> dict[str, Any]:
    figures = RowFigures(
        rec,
        exponent=account.exponent,
        account_id=account.id,
        windows=query.windows,
        action_breakdowns=query.action_breakdowns,
    )
    return render_row(figures, query.fields, group.entity, start_iso, stop_iso, labels)
