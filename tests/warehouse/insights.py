"""Insights rows in the Graph API's JSON shape, and reading warehouse tables back comparably."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from metaads.accounts import Account
from metaads.transform import ACTIONS_COLUMNS, ADS_COLUMNS, to_actions_rows, to_ads_rows
from metaads.warehouse import LoadResult, Warehouse

LOADED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
DAY = date(2026, 10, 1)


def insight(
    account: Account,
    ad: int,
    day: date,
    *,
    spend: str = "10.00",
    clicks: str = "5",
    actions: Sequence[tuple[str, str]] = (("link_click", "3"), ("purchase", "1")),
    values: Sequence[tuple[str, str]] = (("purchase", "25.50"),),
    name: str | None = None,
) -> dict[str, Any]:
    """One ad-day as the API sends it (every metric a string)."""
    row: dict[str, Any] = {
        "account_id": account.id,
        "account_name": f"Account {account.table}",
        "campaign_id": f"2385{ad % 3:013d}",
        "campaign_name": "Spring 🌸",
        "adset_id": f"2386{ad % 5:013d}",
        "adset_name": "FR 18-34",
        "ad_id": f"2387{ad:013d}",
        "ad_name": name if name is not None else f"Ad {ad}",
        "objective": "OUTCOME_SALES",
        "spend": spend,
        "clicks": clicks,
        "inline_link_clicks": "2",
        "impressions": "100",
        "date_start": day.isoformat(),
        "date_stop": day.isoformat(),
    }
    if actions:
        row["actions"] = [{"action_type": t, "value": v} for t, v in actions]
    if values:
        row["action_values"] = [{"action_type": t, "value": v} for t, v in values]
    return row


def days(since: date, count: int) -> list[date]:
    return [since + timedelta(days=i) for i in range(count)]


def grid(account: Account, ads: int, dates: Iterable[date], **kwargs: Any) -> list[dict[str, Any]]:
    """Every ad on every day."""
    return [insight(account, ad, day, **kwargs) for day in dates for ad in range(ads)]


def load(
    wh: Warehouse, account: Account, since: date, until: date, rows: list[dict[str, Any]], **kwargs: Any
) -> LoadResult:
    """Transform and replace the range, as the pipeline does."""
    return wh.replace_range(
        account,
        since,
        until,
        to_ads_rows(rows, campaign_status={}, currency="EUR", loaded_at=LOADED_AT),
        to_actions_rows(rows, loaded_at=LOADED_AT),
        **kwargs,
    )


def _normal(value: Any) -> Any:
    # PostgreSQL returns Decimal/date/aware datetime; SQLite REAL/text. Compare by value.
    if isinstance(value, (Decimal, float)) and not isinstance(value, bool):
        return Decimal(str(value)).normalize()
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and len(value) == 26 and value[10] == " ":  # SQLite DATETIME text
        return datetime.fromisoformat(value).isoformat(sep=" ")
    return value


def read(wh: Warehouse, name: str, columns: Sequence[str] | None = None) -> list[tuple[Any, ...]]:
    """A table's or view's rows, normalized and sorted (raw SQL: no type processing on SQLite)."""
    if columns is None:
        columns = ACTIONS_COLUMNS if name.endswith("actions") else ADS_COLUMNS
    preparer = wh.engine.dialect.identifier_preparer
    target = preparer.quote(name)
    if wh.schema:
        target = f"{preparer.quote_schema(wh.schema)}.{target}"
    with wh.engine.connect() as conn:
        result = conn.exec_driver_sql(f"SELECT {', '.join(preparer.quote(c) for c in columns)} FROM {target}")
        rows = [tuple(_normal(v) for v in row) for row in result]
    return sorted(rows, key=repr)


def table_names(wh: Warehouse) -> set[str]:
    return set(sa.inspect(wh.engine).get_table_names(schema=wh.schema))
