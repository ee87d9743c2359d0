"""Per-day sums of what the warehouse holds, and the ``metaads_chunk_days`` reconciliation records.

Both run on the load's own connection: the stored sums are read under the account's write lock (no
other load changes them meanwhile), and the records commit with the rows they describe.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from metaads.reconcile.compare import ChunkCheck
from metaads.reconcile.totals import METRICS, DayTotals


def stored_totals(
    conn: sa.Connection,
    ads: sa.Table | sa.TableClause,
    account_id: str,
    since: date,
    until: date,
    *,
    metrics: Sequence[str] = METRICS,
) -> dict[date, DayTotals]:
    """Spend, impressions, clicks, link clicks and row count per day of ``since``..``until``.

    ``metrics``: the ones summed (an extra report's table has only those it requests); the others are 0.
    """

    def total(metric: str) -> sa.ColumnElement[Any]:
        return sa.func.sum(ads.c[metric]) if metric in metrics else sa.literal(0)

    query = (
        sa.select(ads.c.date, *(total(metric) for metric in METRICS), sa.func.count())
        .where(ads.c.account_id == account_id, ads.c.date.between(since, until))
        .group_by(ads.c.date)
    )
    out = {}
    for row in conn.execute(query):
        day, spend, impressions, clicks, link_clicks, rows = tuple(row)
        if isinstance(day, str):  # SQLite views return ISO strings
            day = date.fromisoformat(day)
        out[day] = DayTotals(_money(spend), int(impressions or 0), int(clicks or 0), int(link_clicks or 0), int(rows))
    return out


def _money(value: object) -> Decimal:
    # SQLite stores money as REAL: go through str() and round to the column's 6 decimals.
    return Decimal(str(value or 0)).quantize(Decimal("0.000001")).normalize()


def insert_chunk_days(conn: sa.Connection, table: sa.Table, ledger_id: int, account_id: str, check: ChunkCheck) -> int:
    """One ``metaads_chunk_days`` row per day of ``check``; returns the count."""
    rows = [
        {
            "ledger_id": ledger_id,
            "date": day.day,
            "account_id": account_id,
            "api_spend": day.api.spend,
            "api_impressions": day.api.impressions,
            "api_clicks": day.api.clicks,
            "api_inline_link_clicks": day.api.inline_link_clicks,
            "answer_spend": day.answered.spend,
            "answer_impressions": day.answered.impressions,
            "answer_clicks": day.answered.clicks,
            "answer_inline_link_clicks": day.answered.inline_link_clicks,
            "answer_rows": day.answered.rows,
            "loaded_spend": day.loaded.spend,
            "loaded_impressions": day.loaded.impressions,
            "loaded_clicks": day.loaded.clicks,
            "loaded_inline_link_clicks": day.loaded.inline_link_clicks,
            "loaded_rows": day.loaded.rows,
            "replaced": day.replaced,
            "matches": day.ok,
        }
        for day in check.days
    ]
    if rows:
        conn.execute(table.insert(), rows)
    return len(rows)
