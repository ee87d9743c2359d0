"""A plain snapshot of what one run did, per account: the input of every metrics exporter.

It holds values only (no clients, engines or clocks), so whatever produces them (the CLI after
``metaads run``, Airflow, a reconciliation job, a token check) can fill in its part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

ADS_REPORT = "ads"
ACTIONS_REPORT = "actions"


@dataclass(frozen=True)
class AccountSnapshot:
    """One account in one run."""

    account: str  #: ``act_<id>``
    table: str  #: the ads table (``bm_01``)
    actions_table: str  #: the actions table (``bm_01_actions``)
    ads_rows: int = 0
    actions_rows: int = 0
    api_calls: int = 0
    throttled_s: float = 0.0
    ok: bool = True
    #: The last time this account loaded completely (this run, or earlier from the ledger).
    last_success: datetime | None = None
    #: The latest quota usage Meta reported for the account (percent, may exceed 100), when known.
    usage_percent: float | None = None


@dataclass(frozen=True)
class ReconcileDifference:
    """Warehouse total minus the API's total of one metric for one account (0 means they agree)."""

    account: str
    metric: str
    difference: float


@dataclass(frozen=True)
class RunSnapshot:
    """A whole run: its accounts, duration, and the optional parts other jobs fill in."""

    finished_at: datetime
    duration_s: float
    accounts: tuple[AccountSnapshot, ...] = ()
    reconcile: tuple[ReconcileDifference, ...] = ()
    #: Token fingerprint (never the token) -> when Meta says it expires.
    token_expiries: Mapping[str, datetime] = field(default_factory=dict)

    @property
    def failed_accounts(self) -> int:
        return sum(1 for a in self.accounts if not a.ok)
