"""The look-back window tests ask for, computed the way the pipeline does (one date-window path)."""

from __future__ import annotations

from datetime import date

from metaads.config.accounts import Account
from metaads.dates import resolve_range
from metaads.graph import GraphClient


def lookback(client: GraphClient, account: Account, days: int) -> tuple[date, date]:
    """The last ``days`` days of ``account`` up to its today, clamped to the 37-month history."""
    window = resolve_range(client.local_today(account), lookback_days=days)
    return window.since, window.until
