"""``/act_{id}/insights``: parse a request into an :class:`InsightsQuery` and produce its rows lazily.

Rows come in a fixed order (period, then object id, then breakdown bucket), and every row has a
position ``(period, object, bucket)``; paging cursors are positions, so a page costs only its own rows
however deep into a 300 000-row result it starts.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import orjson

from metaads.simulator import errors
from metaads.simulator.breakdowns import BREAKDOWNS, bucket_weights, buckets
from metaads.simulator.metrics import (
    ACTIONS,
    CLICKS,
    IMPRESSIONS,
    INLINE,
    OUTBOUND,
    REACH,
    SPEND,
    VALUES,
    WINDOWS,
    Record,
    action_list,
    action_total,
    ad_day,
    dropped,
    is_empty,
    money,
    ratio,
    split_record,
    sum_records,
    tenths,
)
from metaads.simulator.world import AD_STATUSES, ARCHIVED_STATES, Ad, AdAccount, AdSet, Campaign

LEVELS = ("ad", "adset", "campaign", "account")
_LEVEL_FIELDS = {
    "account": ("account_id", "account_name", "account_currency"),
    "campaign": ("campaign_id", "campaign_name", "objective", "buying_type"),
    "adset": ("adset_id", "adset_name", "optimization_goal"),
    "ad": ("ad_id", "ad_name"),
}
_LEVEL_DEPTH = {"account": 0, "campaign": 1, "adset": 2, "ad": 3}
_FIELD_DEPTH = {f: _LEVEL_DEPTH[level] for level, fs in _LEVEL_FIELDS.items() for f in fs}
METRIC_FIELDS = (
    "impressions",
    "reach",
    "frequency",
    "clicks",
    "inline_link_clicks",
    "spend",
    "ctr",
    "cpc",
    "cpm",
    "cpp",
    "inline_link_click_ctr",
    "cost_per_inline_link_click",
    "actions",
    "action_values",
    "cost_per_action_type",
    "outbound_clicks",
    "purchase_roas",
    "date_start",
    "date_stop",
)
VALID_FIELDS = frozenset(_FIELD_DEPTH) | frozenset(METRIC_FIELDS)
DEFAULT_FIELDS = ("account_id", "impressions", "spend")
_FILTER_FIELDS = (
    "ad.effective_status",
    "adset.effective_status",
    "campaign.effective_status",
    "ad.id",
    "adset.id",
    "campaign.id",
)
_OPERATORS = ("IN", "NOT_IN", "EQUAL", "NOT_EQUAL")
_EXTRA_WINDOWS = ("default", "dda", "1d_ev", "skan_click", "skan_view")
ALL_STATUSES = AD_STATUSES

Position = tuple[int, int, int]


@dataclass(frozen=True)
class Filter:
    field: str
    operator: str
    values: frozenset[str]

    def accepts(self, value: str) -> bool:
        inside = value in self.values
        return inside if self.operator in ("IN", "EQUAL") else not inside


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

    @property
    def ad_days(self) -> int:
        return self.until.toordinal() - self.since.toordinal() + 1


def json_list(params: Mapping[str, str], name: str) -> list[Any]:
    raw = params.get(name)
    if raw is None or raw == "":
        return []
    text = raw.strip()
    if text.startswith("["):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise errors.invalid_param(f"param {name} must be a JSON array") from None
        if not isinstance(value, list):
            raise errors.invalid_param(f"param {name} must be an array")
        return value
    return [part.strip() for part in text.split(",") if part.strip()]


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
            raise errors.invalid_param(
                "param time_range must be a JSON object with since and until"
            ) from None
        if not isinstance(value, dict) or "since" not in value or "until" not in value:
            raise errors.invalid_param("param time_range must be a JSON object with since and until")
        since, until = _parse_day(value["since"], "since"), _parse_day(value["until"], "until")
        if since > until:
            raise errors.invalid_param("param time_range: since must be on or before until")
        return since, until
    preset = params.get("date_preset", "last_30d")
    last = {
        "today": 0,
        "yesterday": 1,
        "last_3d": 3,
        "last_7d": 7,
        "last_14d": 14,
        "last_28d": 28,
        "last_30d": 30,
        "last_90d": 90,
    }
    if preset == "today":
        return today, today
    if preset in last:
        days = last[preset]
        return today - timedelta(days=days), today - timedelta(days=1)
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if preset == "maximum":
        return add_months(today, -history_months), today
    raise errors.invalid_param(
        f"param date_preset must be one of {sorted([*last, 'this_month', 'last_month', 'maximum'])}"
    )


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


def parse_query(
    params: Mapping[str, str], *, today: date, history_months: int, default_limit: int
) -> InsightsQuery:
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
    breakdowns = tuple(str(b) for b in json_list(params, "breakdowns"))
    for position, name in enumerate(breakdowns):
        if name not in BREAKDOWNS:
            raise errors.invalid_param(
                f"breakdowns[{position}] must be one of the following values: {', '.join(BREAKDOWNS)}"
            )
    windows = tuple(str(w) for w in json_list(params, "action_attribution_windows"))
    for position, name in enumerate(windows):
        if name not in WINDOWS and name not in _EXTRA_WINDOWS:
            raise errors.invalid_param(
                f"action_attribution_windows[{position}] must be one of the following "
                f"values: {', '.join((*WINDOWS, *_EXTRA_WINDOWS))}"
            )
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
        breakdowns=breakdowns,
        windows=windows,
        filters=parse_filters(params),
        limit=limit,
    )


def parse_filters(params: Mapping[str, str], allowed: Sequence[str] = _FILTER_FIELDS) -> tuple[Filter, ...]:
    """The ``filtering`` parameter: ``[{"field": ..., "operator": "IN", "value": [...]}, ...]``."""
    filters = []
    for position, item in enumerate(json_list(params, "filtering")):
        if not isinstance(item, dict) or not {"field", "operator", "value"} <= set(item):
            raise errors.invalid_param(f"filtering[{position}] must be an object with field, operator, value")
        field, operator = str(item["field"]), str(item["operator"]).upper()
        if field not in allowed:
            raise errors.invalid_param(f"Filtering field '{field}' is invalid")
        if operator not in _OPERATORS:
            raise errors.invalid_param(
                f"filtering[{position}][operator] must be one of {', '.join(_OPERATORS)}"
            )
        raw = item["value"]
        values = frozenset(str(v) for v in (raw if isinstance(raw, list) else [raw]))
        if field.endswith("effective_status"):
            unknown = sorted(values - set(ALL_STATUSES))
            if unknown:
                raise errors.invalid_param(
                    f"Filtering field '{field}' with operation '{operator.lower()}' has "
                    f"invalid value '{unknown[0]}'"
                )
        filters.append(Filter(field, operator, values))
    return tuple(filters)


# --------------------------------------------------------------------------- the row engine


@dataclass(frozen=True)
class _Group:
    """One object at the query's level, its ads, and its id/name fields as the rows show them."""

    ads: tuple[Ad, ...]
    entity: dict[str, str]


def _group(
    account: AdAccount, campaign: Campaign | None, adset: AdSet | None, ad: Ad | None, ads: tuple[Ad, ...]
) -> _Group:
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
    if ad is not None:
        entity.update(ad_id=ad.id, ad_name=ad.name)
    return _Group(ads, entity)


def _groups(account: AdAccount, query: InsightsQuery, hide_archived: bool) -> list[_Group]:
    """The objects at the query's level that pass its filters, in id order."""
    campaigns = {c.id: c for c in account.campaigns}
    adsets = {s.id: s for s in account.adsets}
    filters = query.filters
    status_filtered = any(f.field.endswith("effective_status") for f in filters)
    level = query.level
    selected: list[Ad] = []
    for ad in account.ads:
        campaign, adset = campaigns[ad.campaign_id], adsets[ad.adset_id]
        ok = True
        for f in filters:
            kind, attr = f.field.split(".")
            obj: Any = ad if kind == "ad" else adset if kind == "adset" else campaign
            if not f.accepts(getattr(obj, attr)):
                ok = False
                break
        if ok and hide_archived and not status_filtered and level != "account":
            own = ad if level == "ad" else adset if level == "adset" else campaign
            ok = own.effective_status not in ARCHIVED_STATES
        if ok:
            selected.append(ad)
    if level == "ad":
        return [_group(account, campaigns[a.campaign_id], adsets[a.adset_id], a, (a,)) for a in selected]
    if level == "account":
        return [_group(account, None, None, None, tuple(selected))] if selected else []
    key = "adset_id" if level == "adset" else "campaign_id"
    by_parent: dict[str, list[Ad]] = {}
    for ad in selected:
        by_parent.setdefault(getattr(ad, key), []).append(ad)
    groups = []
    for parent_id in sorted(by_parent, key=int):
        members = tuple(by_parent[parent_id])
        if level == "adset":
            adset = adsets[parent_id]
            groups.append(_group(account, campaigns[adset.campaign_id], adset, None, members))
        else:
            groups.append(_group(account, campaigns[parent_id], None, None, members))
    return groups


@dataclass(frozen=True)
class View:
    """How the data looks to one request: the account's local day, restatement and data faults."""

    today: int  # the account's local day ordinal "now"
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
    key = (account.id, query.level, query.filters, view.hide_archived)
    groups = cache.get(key) if cache is not None else None
    if groups is None:
        groups = _groups(account, query, view.hide_archived)
        if cache is not None:
            if len(cache) > 256:
                cache.clear()
            cache[key] = groups
    combos = buckets(account, query.breakdowns) if query.breakdowns else None
    windows = bool(query.windows)
    drop = view.missing_rows_rate if query.level != "account" else 0.0
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
                age = today - day
                for ad in group.ads:
                    if ad.first_day <= day and (ad.last_day is None or day <= ad.last_day):
                        if drop and dropped(ad, day, drop):
                            continue
                        rec = ad_day(ad, day, age, view.restatement_days, view.restatement_scale)
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
                row = _row(account, group, sum_records(records, windows=windows), query, start_iso, stop_iso)
                yield (p_index, o_index, 0), row
                continue
            for b_index, (labels, rec) in enumerate(_bucketed(account, records, combos, windows)):
                if b_index < skip or rec is None:
                    continue
                yield (
                    (p_index, o_index, b_index),
                    _row(account, group, rec, query, start_iso, stop_iso, labels),
                )


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
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    exp = account.exponent
    scale = 10**exp
    entity = group.entity
    impressions, reach, clicks, inline, spend = (
        rec[IMPRESSIONS],
        rec[REACH],
        rec[CLICKS],
        rec[INLINE],
        rec[SPEND],
    )
    actions, values = rec[ACTIONS], rec[VALUES]
    row: dict[str, Any] = {}
    for name in query.fields:
        label = entity.get(name)
        if label is not None:
            row[name] = label
        elif name in _FIELD_DEPTH:
            continue  # an id or name finer than the level (ad_name at campaign level): not sent
        elif name == "impressions":
            row[name] = str(impressions)
        elif name == "reach":
            row[name] = str(reach)
        elif name == "clicks":
            row[name] = str(clicks)
        elif name == "inline_link_clicks":
            row[name] = str(inline)
        elif name == "spend":
            row[name] = money(spend, exp)
        elif name == "frequency":
            row[name] = ratio(impressions / reach)
        elif name == "ctr":
            row[name] = ratio(clicks * 100 / impressions)
        elif name == "inline_link_click_ctr":
            row[name] = ratio(inline * 100 / impressions)
        elif name == "cpm":
            row[name] = ratio(spend / scale * 1000 / impressions)
        elif name == "cpp":
            row[name] = ratio(spend / scale * 1000 / reach)
        elif name == "cpc" and clicks:
            row[name] = ratio(spend / scale / clicks)
        elif name == "cost_per_inline_link_click" and inline:
            row[name] = ratio(spend / scale / inline)
        elif name == "actions" and actions:
            row[name] = action_list(actions, tenths, query.windows)
        elif name == "action_values" and values:
            row[name] = action_list(values, lambda v: money(v, exp), query.windows)
        elif name == "cost_per_action_type" and actions and spend:
            row[name] = [
                {"action_type": kind, "value": ratio(spend / scale / (action_total(actions, kind) / 10))}
                for kind in actions
            ]
        elif name == "outbound_clicks" and rec[OUTBOUND]:
            row[name] = [{"action_type": "outbound_click", "value": str(rec[OUTBOUND])}]
        elif name == "purchase_roas" and values and spend and "omni_purchase" in values:
            row[name] = [
                {
                    "action_type": "omni_purchase",
                    "value": ratio(action_total(values, "omni_purchase") / spend),
                }
            ]
    row["date_start"] = start_iso
    row["date_stop"] = stop_iso
    if labels:
        row.update(labels)
    return row
