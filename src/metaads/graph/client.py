"""The Graph API client: account info, campaigns and insights of ad accounts, shared across threads.

A :class:`GraphClient` owns an httpx connection pool, a :class:`~metaads.graph.tokens.TokenPool` and
the throttle state; the pipeline calls it from several threads at once (one account per thread). Time
comes from the injected :class:`~metaads.clock.Clock`, so tests share a ``FakeClock`` with the simulator.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from types import TracebackType

import httpx
import orjson

from metaads.accounts import Account
from metaads.clock import Clock, SystemClock
from metaads.graph.account import ACCOUNT_FIELDS, AccountInfo
from metaads.graph.gate import GatedTransport
from metaads.graph.insights import DEFAULT_INSIGHTS_FIELDS, InsightsFetcher, InsightsQuery, Mode, Page
from metaads.graph.paging import iter_pages
from metaads.graph.policy import ClientPolicy
from metaads.graph.session import GraphSession
from metaads.graph.stats import CallStats, StatsBook
from metaads.graph.throttle import InMemoryThrottleStore, Throttle, ThrottleStore
from metaads.graph.tokens import TokenPool
from metaads.graph_api import DEFAULT_BASE_URL, DEFAULT_VERSION
from metaads.redact import RedactingFilter

logger = logging.getLogger(__name__)

CAMPAIGN_FIELDS: tuple[str, ...] = ("id", "name", "status", "effective_status", "objective", "start_time")
# Deleted and archived campaigns are only listed when asked for by status (their spend still counts).
ALL_CAMPAIGN_STATUSES: tuple[str, ...] = ("ACTIVE", "PAUSED", "DELETED", "ARCHIVED", "IN_PROCESS", "WITH_ISSUES")

_filter_lock = threading.Lock()


class GraphClient:
    """Reads ad accounts from the Graph API. Thread-safe; use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        version: str = DEFAULT_VERSION,
        tokens: TokenPool | Sequence[str],
        policy: ClientPolicy | None = None,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        http: httpx.Client | None = None,
        throttle_store: ThrottleStore | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Args:
        base_url: scheme and host (the simulator's in tests).
        version: Graph API version, e.g. ``v27.0`` (the default).
        tokens: a :class:`TokenPool` or the tokens in configuration order.
        policy: retry / throttle / async numbers.
        clock: time and sleeping (a ``FakeClock`` in tests).
        transport: httpx transport for a client built here (ignored when ``http`` is given).
        http: an httpx client to use as is; the caller closes it.
        throttle_store: shared rate-limit state (in memory by default).
        rng: randomness for back-off jitter.
        """
        self.policy = policy or ClientPolicy()
        self.clock: Clock = clock or SystemClock()
        self.pool = tokens if isinstance(tokens, TokenPool) else TokenPool(list(tokens))
        self._owns_http = http is None
        if http is None:
            limits = httpx.Limits(
                max_connections=self.policy.max_connections, max_keepalive_connections=self.policy.max_connections
            )
            if self.policy.max_concurrent_calls > 0:
                transport = GatedTransport(
                    transport or httpx.HTTPTransport(limits=limits), self.policy.max_concurrent_calls, clock=self.clock
                )
            http = httpx.Client(
                transport=transport,
                timeout=httpx.Timeout(self.policy.timeout_s, connect=self.policy.connect_timeout_s),
                limits=limits,
                headers={"User-Agent": "metaads"},
            )
        self._http = http
        self._stats = StatsBook()
        self.throttle_store: ThrottleStore = throttle_store or InMemoryThrottleStore()
        self.session = GraphSession(
            base_url=base_url,
            version=version,
            http=http,
            pool=self.pool,
            policy=self.policy,
            clock=self.clock,
            throttle=Throttle(self.throttle_store, self.policy, self.clock),
            stats=self._stats,
            rng=rng or random.Random(),  # noqa: S311 - jitter, not cryptography
        )
        self._insights = InsightsFetcher(self.session, self._today_for)
        self._infos: dict[str, AccountInfo] = {}
        self._infos_lock = threading.Lock()
        _redact_http_logs()

    def __repr__(self) -> str:
        return (
            f"GraphClient(base_url={self.session.base_url!r}, version={self.session.version!r}, tokens={self.pool!r})"
        )

    # ------------------------------------------------------------------ account

    def account_info(self, account: Account, *, refresh: bool = False) -> AccountInfo:
        """The account's name, currency, time zone and status (cached per client)."""
        with self._infos_lock:
            cached = self._infos.get(account.id)
        if cached is not None and not refresh:
            return cached
        body = self.session.call("GET", account.act_id, {"fields": ",".join(ACCOUNT_FIELDS)}, account=account)
        info = AccountInfo.from_api(body)
        with self._infos_lock:
            self._infos[account.id] = info
        return info

    def local_today(self, account: Account) -> date:
        """The account's current date in its own time zone."""
        return self.account_info(account).local_today(self.clock.now())

    # ------------------------------------------------------------------ campaigns

    def campaigns(
        self,
        account: Account,
        *,
        fields: Sequence[str] = CAMPAIGN_FIELDS,
        statuses: Sequence[str] = ALL_CAMPAIGN_STATUSES,
        page_size: int | None = None,
    ) -> Iterator[dict[str, object]]:
        """The account's campaigns, archived and deleted ones included (by ``statuses``), all pages."""
        params = {"fields": ",".join(fields), "effective_status": _json(list(statuses))}
        for page in iter_pages(
            self.session,
            f"{account.act_id}/campaigns",
            params,
            account=account,
            page_size=page_size or self.policy.page_size,
        ):
            yield from page

    # ------------------------------------------------------------------ insights

    def insights(
        self,
        account: Account,
        since: date,
        until: date,
        *,
        level: str = "ad",
        fields: Sequence[str] = DEFAULT_INSIGHTS_FIELDS,
        breakdowns: Sequence[str] = (),
        action_attribution_windows: Sequence[str] = (),
        filtering: Sequence[Mapping[str, object]] = (),
        include_archived: bool = True,
        page_size: int | None = None,
        mode: Mode = "auto",
        estimated_ads: int | None = None,
        action_breakdowns: Sequence[str] = (),
        action_report_time: str | None = None,
        time_increment: int = 1,
    ) -> Iterator[Page]:
        """Yield pages of daily insights rows of ``account`` for ``since``..``until`` (account time zone).

        Archived and deleted objects are included (their past spend is real) unless
        ``include_archived`` is false. ``mode="auto"`` reads small ranges synchronously and large
        ones (see :class:`ClientPolicy` ``async_threshold_days`` / ``async_threshold_cells`` with
        ``estimated_ads``) via an async report.

        Raises:
            GraphAPIError: a subclass from :mod:`metaads.errors` (e.g. PermissionDeniedError to skip
                the account, NoUsableTokenError, RateLimitedError after too many throttling errors).
        """
        query = InsightsQuery(
            level=level,
            fields=tuple(fields),
            breakdowns=tuple(breakdowns),
            action_attribution_windows=tuple(action_attribution_windows),
            filtering=tuple(filtering),
            include_archived=include_archived,
            action_breakdowns=tuple(action_breakdowns),
            action_report_time=action_report_time,
            time_increment=time_increment,
        )
        return self._insights.fetch(
            account,
            since,
            until,
            query,
            page_size=page_size or self.policy.page_size,
            mode=mode,
            estimated_ads=estimated_ads,
        )

    # ------------------------------------------------------------------ tokens

    def discover_token_apps(self) -> list[str | None]:
        """Ask ``/debug_token`` which app each token belongs to (one call per token of unknown app).

        Tokens of one app share its app-level quota, so knowing the apps lets the pool switch to a token
        of *another* app on code 4 instead of one that is blocked too. The client asks by itself, once,
        on the first app-level block; calling this earlier only moves that moment.
        """
        return self.session.discover_token_apps()

    # ------------------------------------------------------------------ bookkeeping

    def stats(self, account: Account | str) -> CallStats:
        """Counters of one account's calls so far."""
        account_id = account.id if isinstance(account, Account) else account.removeprefix("act_")
        counters = self._stats.get(account_id)
        failovers = len(self.pool.failovers(account_id))
        return CallStats(**{**counters.as_dict(), "token_failovers": failovers})  # type: ignore[arg-type]

    def total_stats(self) -> CallStats:
        """Counters of all calls so far, every account together."""
        return CallStats.combine([self.stats(a) for a in self._stats.accounts()])

    def close(self) -> None:
        """Close the connection pool (unless it was passed in)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _today_for(self, account: Account) -> date:
        with self._infos_lock:
            info = self._infos.get(account.id)
        if info is not None:
            return info.local_today(self.clock.now())
        # Unknown time zone: the latest date any zone may have (UTC+14) keeps the 3018 clamp safe.
        return (self.clock.now() + timedelta(hours=14)).date()


def _redact_http_logs() -> None:
    """httpx logs request URLs at INFO; ours carry ``appsecret_proof``, so mask it there too."""
    with _filter_lock:
        for name in ("httpx", "httpcore"):
            target = logging.getLogger(name)
            if not any(isinstance(f, RedactingFilter) for f in target.filters):
                target.addFilter(RedactingFilter())


def _json(value: object) -> str:
    return orjson.dumps(value).decode()
