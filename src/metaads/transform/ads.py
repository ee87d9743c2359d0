"""Insights rows (the API's JSON shape) to ads rows; :class:`AdsRow` is the ads-table contract the warehouse follows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from metaads.transform.keys import breakdown_suffix, key_id, required_id, row_day
from metaads.transform.numbers import parse_count, parse_decimal, parse_optional_count


class AdsRow(NamedTuple):
    """One ad-day (per breakdown combination), fields in :data:`ADS_COLUMNS` order."""

    unique_id: str
    account_id: str
    account_name: str | None
    campaign_id: str | None
    campaign_name: str | None
    campaign_status: str | None
    adset_id: str | None
    adset_name: str | None
    ad_id: str
    ad_name: str | None
    objective: str | None
    spend: Decimal
    clicks: int
    inline_link_clicks: int
    impressions: int
    reach: int | None
    currency: str | None
    date: dt.date
    loaded_at: dt.datetime


#: The ads tables' columns, in row order (:mod:`metaads.warehouse.schema` checks its tables against it).
ADS_COLUMNS: tuple[str, ...] = AdsRow._fields


def _text(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


def to_ads_rows(
    insight_rows: Iterable[Mapping[str, Any]],
    *,
    campaign_status: Mapping[str, str],
    currency: str | None,
    loaded_at: dt.datetime,
    breakdowns: Sequence[str] = (),
) -> Iterator[AdsRow]:
    """Yield one :class:`AdsRow` per insights row.

    ``campaign_status`` maps campaign ids to their status (see :func:`campaign_status_map`); a campaign
    it lacks (deleted ones are not listed by default) gets None. ``currency`` is the account's,
    used when the row has no ``account_currency``. ``breakdowns`` are the requested breakdown
    fields: their values join the natural key.

    Raises:
        InsightRowError: a row lacks its ids or date, or a metric is not a number.
    """
    if loaded_at.tzinfo is None:
        raise ValueError("loaded_at must be timezone-aware")
    # Hot loop (a million rows per backfill): tuple.__new__ is AdsRow._make without its Python frame.
    new = tuple.__new__
    for row in insight_rows:
        get = row.get
        account_id = required_id(row, "account_id")
        ad_id = required_id(row, "ad_id")
        day, iso_day = row_day(row)
        if breakdowns:
            unique_id = key_id(account_id, ad_id, iso_day, *breakdown_suffix(row, breakdowns))
        else:
            unique_id = key_id(account_id, ad_id, iso_day)
        campaign_id = _text(get("campaign_id"))
        yield new(
            AdsRow,
            (
                unique_id,
                account_id,
                get("account_name"),
                campaign_id,
                get("campaign_name"),
                None if campaign_id is None else campaign_status.get(campaign_id),
                _text(get("adset_id")),
                get("adset_name"),
                ad_id,
                get("ad_name"),
                get("objective"),
                parse_decimal(get("spend"), "spend"),
                parse_count(get("clicks"), "clicks"),
                parse_count(get("inline_link_clicks"), "inline_link_clicks"),
                parse_count(get("impressions"), "impressions"),
                parse_optional_count(get("reach"), "reach"),
                get("account_currency") or currency,
                day,
                loaded_at,
            ),
        )
