"""Asking Meta for an account's daily totals: ``level=account``, ``time_increment=1``.

Same attribution settings as the ad-level request (the client's defaults), and no status filter: the
account level always counts archived and deleted ads. One row per day, so one call per chunk
(synchronous even for long ranges: a year is 366 rows).
"""

from __future__ import annotations

from datetime import date

from metaads.accounts import Account
from metaads.graph import GraphClient
from metaads.reconcile.totals import DayTotals, TotalsByDay

ACCOUNT_FIELDS: tuple[str, ...] = (
    "account_id",
    "spend",
    "impressions",
    "clicks",
    "inline_link_clicks",
    "date_start",
    "date_stop",
)


def account_totals(client: GraphClient, account: Account, since: date, until: date) -> dict[date, DayTotals]:
    """Meta's account-level totals per day of ``since``..``until`` (days without delivery are absent).

    Raises:
        GraphAPIError: as :meth:`GraphClient.insights`.
    """
    totals = TotalsByDay()
    for page in client.insights(
        account, since, until, level="account", fields=ACCOUNT_FIELDS, include_archived=False, mode="sync"
    ):
        totals.add_all(page)
    # The account-level row is one total, not an ad row: its rounding allowance is that of its summands.
    return {day: DayTotals(t.spend, t.impressions, t.clicks, t.inline_link_clicks, 0) for day, t in totals.days.items()}
