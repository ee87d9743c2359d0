"""Insights extraction strategy: synchronous or async report, splitting and clamping date ranges.

- Small ranges are read synchronously (``GET /act_{id}/insights``, paged).
- Ranges longer than ``async_threshold_days`` (or whose days x ads estimate exceeds
  ``async_threshold_cells``) use an async report run. A job that fails or is skipped is resubmitted
  ``async_job_retries`` times, then its range is split in halves; a job that times out is split at once.
- "Reduce the amount of data" first halves ``limit`` (in :mod:`metaads.graph.paging`), then splits the
  date range. Error 3018 (beyond the 37-month history) clamps the start date.

Splits and clamps only happen before a range has yielded any row, so no row is ever yielded twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

import orjson

from metaads.accounts import Account
from metaads.dates import oldest_available_day
from metaads.errors import AsyncJobFailedError, AsyncJobTimeoutError, DataTooLargeError, DateRangeTooOldError
from metaads.graph.async_reports import run_report
from metaads.graph.paging import iter_pages
from metaads.graph.session import GraphSession

logger = logging.getLogger(__name__)

Page = list[dict[str, object]]
Mode = Literal["auto", "sync", "async"]

DEFAULT_INSIGHTS_FIELDS: tuple[str, ...] = (
    "account_id",
    "account_name",
    "campaign_id",
    "campaign_name",
    "adset_id",
    "adset_name",
    "ad_id",
    "ad_name",
    "objective",
    "spend",
    "clicks",
    "inline_link_clicks",
    "impressions",
    "reach",
    "actions",
    "action_values",
    "date_start",
    "date_stop",
)
LEVELS = ("ad", "adset", "campaign", "account")
# Every effective_status per level. The insights edge omits ARCHIVED and DELETED objects unless the
# request filters on their effective_status, yet their past spend is real: ask for all of them.
_CAMPAIGN_STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED", "DELETED", "IN_PROCESS", "WITH_ISSUES")
_ADSET_STATUSES = (*_CAMPAIGN_STATUSES, "CAMPAIGN_PAUSED")
_AD_STATUSES = (
    *_ADSET_STATUSES,
    "ADSET_PAUSED",
    "DISAPPROVED",
    "PENDING_REVIEW",
    "PREAPPROVED",
    "PENDING_BILLING_INFO",
)
ALL_EFFECTIVE_STATUSES = {"ad": _AD_STATUSES, "adset": _ADSET_STATUSES, "campaign": _CAMPAIGN_STATUSES}


@dataclass(frozen=True)
class InsightsQuery:
    """What to ask the insights edge for, apart from the date range. Daily rows (``time_increment=1``)."""

    level: str = "ad"
    fields: tuple[str, ...] = DEFAULT_INSIGHTS_FIELDS
    breakdowns: tuple[str, ...] = ()
    action_attribution_windows: tuple[str, ...] = ()
    filtering: tuple[Mapping[str, object], ...] = field(default=())
    action_breakdowns: tuple[str, ...] = ()
    action_report_time: str | None = None
    time_increment: int = 1
    # Add a filter on ``<level>.effective_status`` listing every status, so archived and deleted
    # objects are included (unless ``filtering`` already filters on an effective status).
    include_archived: bool = True

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, not {self.level!r}")
        if not self.fields:
            raise ValueError("at least one insights field is required")

    def effective_filtering(self) -> list[dict[str, object]]:
        """The ``filtering`` sent: the caller's, plus the include-archived status filter."""
        filters = [dict(f) for f in self.filtering]
        status_filtered = any(str(f.get("field", "")).endswith("effective_status") for f in filters)
        if self.include_archived and self.level != "account" and not status_filtered:
            filters.append(
                {
                    "field": f"{self.level}.effective_status",
                    "operator": "IN",
                    "value": list(ALL_EFFECTIVE_STATUSES[self.level]),
                }
            )
        return filters

    def params(self, since: date, until: date) -> dict[str, str]:
        """Request parameters; lists and objects JSON-encoded without spaces, as the API expects."""
        params = {
            "level": self.level,
            "fields": ",".join(self.fields),
            "time_range": _json({"since": since.isoformat(), "until": until.isoformat()}),
            "time_increment": str(self.time_increment),
        }
        if self.breakdowns:
            params["breakdowns"] = ",".join(self.breakdowns)
        if self.action_attribution_windows:
            params["action_attribution_windows"] = _json(list(self.action_attribution_windows))
        if self.action_breakdowns:
            params["action_breakdowns"] = ",".join(self.action_breakdowns)
        if self.action_report_time is not None:
            params["action_report_time"] = self.action_report_time
        filtering = self.effective_filtering()
        if filtering:
            params["filtering"] = _json(filtering)
        return params


class InsightsFetcher:
    """Runs insights requests for a client; ``today_for`` gives an account's local date (for 3018)."""

    def __init__(self, session: GraphSession, today_for: Callable[[Account], date]) -> None:
        self.session = session
        self.today_for = today_for

    def use_async(self, since: date, until: date, estimated_ads: int | None) -> bool:
        """Whether the range is big enough for an async report run."""
        policy = self.session.policy
        days = (until - since).days + 1
        if days > policy.async_threshold_days:
            return True
        return estimated_ads is not None and days * estimated_ads > policy.async_threshold_cells

    def fetch(
        self,
        account: Account,
        since: date,
        until: date,
        query: InsightsQuery,
        *,
        page_size: int,
        mode: Mode = "auto",
        estimated_ads: int | None = None,
    ) -> Iterator[Page]:
        """Pages of insights rows of ``account`` for ``since``..``until`` (inclusive), lazily fetched."""
        if since > until:
            raise ValueError(f"since {since} is after until {until}")
        if mode == "async" or (mode == "auto" and self.use_async(since, until, estimated_ads)):
            return self._async(account, since, until, query, page_size)
        return self._sync(account, since, until, query, page_size)

    def _sync(self, account: Account, since: date, until: date, query: InsightsQuery, page_size: int) -> Iterator[Page]:
        yielded = False
        try:
            for page in iter_pages(
                self.session,
                f"{account.act_id}/insights",
                query.params(since, until),
                account=account,
                page_size=page_size,
            ):
                yielded = True
                yield page
                del page  # not held while the next page is fetched
        except DataTooLargeError:
            if yielded or since == until:
                raise
            for half_since, half_until in self._halves(account, since, until, "response too large"):
                yield from self._sync(account, half_since, half_until, query, page_size)
        except DateRangeTooOldError:
            if yielded or since >= self._oldest(account):
                raise
            clamped = self._clamped(account, since, until)
            if clamped is not None:
                yield from self._sync(account, clamped, until, query, page_size)

    def _async(
        self, account: Account, since: date, until: date, query: InsightsQuery, page_size: int
    ) -> Iterator[Page]:
        params = query.params(since, until)
        failures = 0
        while True:
            try:
                run_id = run_report(self.session, account, params)
                break
            except AsyncJobFailedError as exc:
                failures += 1
                if failures <= self.session.policy.async_job_retries:
                    self.session.stats.add(account.id, async_retries=1)
                    logger.warning("account %s: %s; resubmitting", account.id, exc.message)
                    continue
                if since == until:
                    raise
                reason = f"async job {exc.async_status} {failures} times"
            except AsyncJobTimeoutError as exc:
                if since == until:
                    raise
                reason = exc.message
            except DateRangeTooOldError:
                if since >= self._oldest(account):
                    raise
                clamped = self._clamped(account, since, until)
                if clamped is not None:
                    yield from self._async(account, clamped, until, query, page_size)
                return
            for half_since, half_until in self._halves(account, since, until, reason):
                yield from self._async(account, half_since, half_until, query, page_size)
            return
        yield from iter_pages(self.session, f"{run_id}/insights", {}, account=account, page_size=page_size)

    def _halves(self, account: Account, since: date, until: date, reason: str) -> Sequence[tuple[date, date]]:
        days = (until - since).days + 1
        middle = since + timedelta(days=days // 2 - 1)
        self.session.stats.add(account.id, range_splits=1)
        logger.warning("account %s: %s; splitting %s..%s into halves", account.id, reason, since, until)
        return [(since, middle), (middle + timedelta(days=1), until)]

    def _oldest(self, account: Account) -> date:
        return oldest_available_day(self.today_for(account))

    def _clamped(self, account: Account, since: date, until: date) -> date | None:
        """The start date moved inside the history window; None when nothing of the range is left."""
        oldest = self._oldest(account)
        self.session.stats.add(account.id, range_clamps=1)
        if oldest > until:
            logger.warning(
                "account %s: %s..%s is entirely beyond the 37-month history; nothing to fetch", account.id, since, until
            )
            return None
        logger.warning(
            "account %s: start date %s is beyond the 37-month history; fetching from %s", account.id, since, oldest
        )
        return oldest


def _json(value: object) -> str:
    return orjson.dumps(value).decode()
