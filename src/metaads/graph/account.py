"""Ad account facts from ``GET /act_{id}``, and the account-local dates they imply.

Insights days are in the ad account's time zone, so "today" and the look-back window are per account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)

ACCOUNT_FIELDS = (
    "id",
    "account_id",
    "name",
    "currency",
    "timezone_name",
    "timezone_offset_hours_utc",
    "account_status",
    "created_time",
)


@dataclass(frozen=True)
class AccountInfo:
    """What the API says about an ad account. ``id`` is numeric (no ``act_``)."""

    id: str
    name: str
    currency: str
    timezone_name: str
    account_status: int
    timezone_offset_hours_utc: float | None = None
    #: When the account was created: it has no insights before that day.
    created_time: datetime | None = None

    @classmethod
    def from_api(cls, body: dict[str, object]) -> AccountInfo:
        """Build from a ``GET /act_{id}`` response body."""
        raw_id = str(body.get("account_id") or body.get("id") or "")
        offset = body.get("timezone_offset_hours_utc")
        status = body.get("account_status")
        return cls(
            id=raw_id.removeprefix("act_"),
            name=str(body.get("name") or ""),
            currency=str(body.get("currency") or ""),
            timezone_name=str(body.get("timezone_name") or "UTC"),
            account_status=int(status) if isinstance(status, (int, str)) and str(status).isdigit() else 0,
            timezone_offset_hours_utc=float(offset) if isinstance(offset, (int, float)) else None,
            created_time=_graph_time(body.get("created_time")),
        )

    def zone(self) -> ZoneInfo:
        """The account's time zone (UTC when Meta names one this machine does not know)."""
        try:
            return ZoneInfo(self.timezone_name)
        except (ZoneInfoNotFoundError, ValueError):
            logger.warning("account %s: unknown time zone %r, using UTC", self.id, self.timezone_name)
            return ZoneInfo("UTC")

    def local_today(self, now: datetime) -> date:
        """The account's current date at instant ``now`` (timezone-aware)."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return now.astimezone(self.zone()).date()

    def created_day(self) -> date | None:
        """The account's first day (in its time zone), when the API said when it was created."""
        return None if self.created_time is None else self.created_time.astimezone(self.zone()).date()


def _graph_time(value: object) -> datetime | None:
    """Meta's ``2024-03-12T15:02:47-0700``; None when absent or unreadable (it only narrows a range)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
