"""The request handler: one pure function from an HTTP request to a :class:`Response`.

Order of checks, as Meta applies them: API version (2635), token (104/190), app secret proof, the
object and the token's permission on it (100/33, 200), rate limits (4, 17/613, 80000/80004), injected
transient faults (1/99, 2), then the endpoint itself (100, 3018, code 1 "reduce the amount of data").
"""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from typing import Any

import orjson

from metaads.clock import Clock
from metaads.simulator import catalog, errors, listing, objects
from metaads.simulator.activities import activities
from metaads.simulator.assets import Assets, Creative, CustomAudience, CustomConversion, Video
from metaads.simulator.auth import TokenInfo, TokenRegistry
from metaads.simulator.config import Faults, SimulatorConfig
from metaads.simulator.insights import InsightsQuery, View, iter_rows, json_list, parse_query
from metaads.simulator.jobs import COMPLETED, FAILED, SKIPPED, ReportRun, ReportRuns
from metaads.simulator.metrics import SPEND, ad_day, mix
from metaads.simulator.paging import decode_cursor, encode_cursor, next_url, page
from metaads.simulator.protocol import Response, bearer_token, dumps, merge_params, split_version
from metaads.simulator.ratelimit import INSIGHTS, MANAGEMENT, RateLimiter
from metaads.simulator.stats import SimulatorStats
from metaads.simulator.world import Ad, AdAccount, AdSet, Business, Campaign, World

_TRACE_ALPHABET = string.ascii_letters + string.digits + "_-"
_ACCOUNT_LIST_DEFAULT = ("id",)
#: Object edges below a node (``/{campaign_id}/ads``, ``/{ad_id}/adcreatives``, ...).
_CHILD_EDGES = {"Campaign": ("adsets", "ads"), "AdSet": ("ads", "adcreatives"), "Ad": ("adcreatives",)}


@dataclass
class Call:
    """One request being served (after parameter parsing)."""

    method: str
    path: str
    version: str | None
    segments: list[str]
    params: dict[str, str]
    token: str | None
    base_url: str


@dataclass
class Route:
    name: str
    account: AdAccount | None
    use_case: str | None
    run: Callable[[], Any]


class GraphApp:
    """Serves the Graph API of one simulated world."""

    def __init__(
        self,
        world: World,
        config: SimulatorConfig,
        clock: Clock,
        faults: Faults,
        tokens: TokenRegistry,
        limiter: RateLimiter,
        jobs: ReportRuns,
        stats: SimulatorStats,
    ) -> None:
        self.world = world
        self.config = config
        self.clock = clock
        self.faults = faults
        self.tokens = tokens
        self.limiter = limiter
        self.jobs = jobs
        self.stats = stats
        self._rng = random.Random(f"metaads-faults-{config.seed}")
        self._rng_lock = threading.Lock()
        self._objects: dict[str, tuple[str, AdAccount, Campaign | AdSet | Ad]] = {}
        for account in world.accounts:
            for campaign in account.campaigns:
                self._objects[campaign.id] = ("campaign", account, campaign)
            for adset in account.adsets:
                self._objects[adset.id] = ("adset", account, adset)
            for ad in account.ads:
                self._objects[ad.id] = ("ad", account, ad)
        self._active_ads = {account.id: account.active_ads for account in world.accounts}
        self._businesses = {b.id: b for b in world.businesses}
        self.assets = Assets()
        self._derived: dict[str, tuple[AdAccount, Any]] | None = None
        self._maps: dict[str, tuple[dict[str, Campaign], dict[str, AdSet]]] = {}
        self._spent: dict[tuple[str, int, int | None], int] = {}
        self.groups_cache: dict[Any, list[Any]] = {}

    # ------------------------------------------------------------------ entry points

    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
        *,
        base_url: str,
    ) -> Response:
        """Serve one HTTP request. ``base_url`` (``http://host:port``) is used for ``paging.next``."""
        lowered = {k.lower(): v for k, v in headers.items()}
        params = merge_params(query, body, lowered.get("content-type"))
        token = params.get("access_token") or bearer_token(lowered)
        version, segments = split_version(path)
        call = Call(
            method=method.upper(),
            path=path,
            version=version,
            segments=segments,
            params=params,
            token=token,
            base_url=base_url.rstrip("/"),
        )
        if call.method == "POST" and not segments and "batch" in params:
            from metaads.simulator.batch import serve_batch

            return serve_batch(self, call)
        return self.serve(call)

    def serve(self, call: Call) -> Response:
        """Serve one (non-batch) call: checks, rate limits, faults, endpoint, headers, stats."""
        trace = self.trace_id()
        now = self.clock.now()
        app_id: str | None = None
        route: Route | None = None
        error_code: int | None = None
        try:
            self._check_version(call.version)
            info = self.tokens.authenticate(call.token, call.params.get("appsecret_proof"), now)
            app_id = info.app_id
            route = self._route(call, info, now)
            account_id = route.account.id if route.account else None
            active = self._active_ads.get(account_id, 0) if account_id else 0
            self.limiter.admit(app_id, account_id, route.use_case, active, now.timestamp())
            self._inject_transient()
            status, payload = 200, route.run()
        except errors.GraphError as exc:
            status, payload, error_code = exc.status, exc.body(trace), exc.code
        account = route.account if route else None
        self.stats.record(
            app_id=app_id,
            account_id=account.id if account else None,
            endpoint=f"{call.method} {route.name if route else '?'}",
            error_code=error_code,
        )
        headers = [
            ("Content-Type", "application/json; charset=UTF-8"),
            ("x-fb-trace-id", trace),
            ("x-fb-rev", "1016253457"),
            ("facebook-api-version", call.version or f"v{self.config.latest_version}.0"),
            ("Cache-Control", "private, no-cache, no-store, must-revalidate"),
        ]
        if app_id is not None:
            account_id = account.id if account else None
            usage = self.limiter.headers(
                app_id, account_id, self._active_ads.get(account_id or "", 0), self.clock.now().timestamp()
            )
            headers.extend(usage.items())
        return Response(
            status=status, headers=headers, body=dumps(payload), delay_s=self._delay(), error_code=error_code
        )

    # ------------------------------------------------------------------ checks and faults

    def _check_version(self, version: str | None) -> None:
        if version is None:
            return
        major = int(version[1:].split(".")[0])
        if major < self.config.min_version or version in self.faults.deprecated_versions:
            raise errors.deprecated_version(version, f"v{self.config.latest_version}.0")

    def draw(self) -> float:
        with self._rng_lock:
            return self._rng.random()

    def _inject_transient(self) -> None:
        faults = self.faults
        if faults.error_500_rate and self.draw() < faults.error_500_rate:
            raise errors.unknown_error()
        if faults.transient_code2_rate and self.draw() < faults.transient_code2_rate:
            raise errors.service_unavailable()

    def _delay(self) -> float:
        faults = self.faults
        delay = faults.latency_s
        if faults.slow_rate and self.draw() < faults.slow_rate:
            delay += faults.slow_s
        return delay

    def trace_id(self) -> str:
        with self._rng_lock:
            return "".join(self._rng.choice(_TRACE_ALPHABET) for _ in range(11))

    # ------------------------------------------------------------------ routing

    def _account(self, segment: str, info: TokenInfo) -> AdAccount:
        account = self.world.account(segment.removeprefix("act_"))
        if account is None or not segment.removeprefix("act_").isdigit():
            raise errors.no_such_object(segment)
        self.tokens.check_account(info, account.id)
        return account

    def _route(self, call: Call, info: TokenInfo, now: datetime) -> Route:
        seg, method = call.segments, call.method
        if not seg:
            raise errors.invalid_param("Unsupported request: no node given")
        head = seg[0]
        if method not in ("GET", "POST"):
            raise errors.no_such_object(head)
        if head == "me":
            return self._route_me(call, info, now)
        if head == "debug_token" and len(seg) == 1:
            return Route("debug_token", None, None, lambda: self._debug_token(call, now))
        if head.startswith("act_"):
            account = self._account(head, info)
            if len(seg) == 1:
                fields = objects.requested_fields(call.params, ("id", "account_id"))
                return Route("act", account, MANAGEMENT, lambda: self._render_account(account, fields, now))
            edge = seg[1]
            if len(seg) == 2 and edge == "insights":
                return Route("act/insights", account, INSIGHTS, lambda: self._insights(call, account, now))
            if len(seg) == 2 and edge == "activities" and method == "GET":
                return Route("act/activities", account, MANAGEMENT, lambda: self._activities(call, account, now))
            if len(seg) == 2 and edge in listing.EDGES and method == "GET":
                return Route(f"act/{edge}", account, MANAGEMENT, lambda: self._object_list(call, account, edge, now))
            raise errors.unknown_path("AdAccount", "/".join(seg[1:]))
        if head.isdigit():
            return self._route_numeric(call, info, now)
        raise errors.unknown_alias(head)

    def _visible_accounts(self, info: TokenInfo) -> list[AdAccount]:
        return [a for a in self.world.accounts if info.accounts is None or a.id in info.accounts]

    def _route_me(self, call: Call, info: TokenInfo, now: datetime) -> Route:
        seg = call.segments
        if len(seg) == 1:
            return Route("me", None, None, lambda: {"id": info.user_id, "name": "Simulated System User"})
        edge = "/".join(seg[1:])
        visible = self._visible_accounts(info)
        if edge == "adaccounts":
            fields = objects.requested_fields(call.params, _ACCOUNT_LIST_DEFAULT)
            return Route(
                "me/adaccounts",
                None,
                None,
                lambda: self._paged(call, [self._render_account(a, fields, now) for a in visible]),
            )
        businesses = list({a.business.id: a.business for a in visible}.values())
        businesses.sort(key=lambda b: int(b.id))
        if edge == "businesses":
            return Route("me/businesses", None, None, lambda: self._render_list(call, businesses, now, ("id", "name")))
        if edge == "business_users":
            users = [self._business_user(b, info) for b in businesses]
            return Route("me/business_users", None, None, lambda: self._render_list(call, users, now, ("id", "name")))
        raise errors.unknown_path("User", edge)

    def _business_user(self, business: Business, info: TokenInfo) -> objects.BusinessUser:
        user_id = str(10**15 + mix(int(business.id) ^ int(info.user_id)) % (9 * 10**15))
        return objects.BusinessUser(user_id, business, info.user_id)

    def _route_numeric(self, call: Call, info: TokenInfo, now: datetime) -> Route:
        seg = call.segments
        job = self.jobs.get(seg[0])
        if job is not None:
            account = self._account(job.account_id, info)
            if len(seg) == 1:
                return Route("report_run", account, INSIGHTS, lambda: self._job_status(call, job, now))
            if len(seg) == 2 and seg[1] == "insights":
                return Route("report_run/insights", account, INSIGHTS, lambda: self._job_results(call, job))
            raise errors.unknown_path("AdReportRun", "/".join(seg[1:]))
        found = self._lookup(seg[0])
        if found is not None:
            account, obj = found
            self.tokens.check_account(info, account.id)
            node_type = objects.NODE_TYPE_OF[type(obj)]
            kind = {"Campaign": "campaign", "AdSet": "adset", "Ad": "ad"}.get(node_type)
            name = kind or node_type.lower()
            if len(seg) == 1:
                fields = objects.requested_fields(call.params, ("id",))
                return Route(name, account, MANAGEMENT, lambda: objects.render(obj, fields, self._ctx(account, now)))
            edge = seg[1]
            if len(seg) == 2 and edge == "insights" and kind is not None:
                return Route(
                    f"{kind}/insights",
                    account,
                    INSIGHTS,
                    lambda: self._insights(call, account, now, scope=(kind, obj.id)),
                )
            if len(seg) == 2 and call.method == "GET" and edge in _CHILD_EDGES.get(node_type, ()):
                return Route(
                    f"{name}/{edge}", account, MANAGEMENT, lambda: self._object_list(call, account, edge, now, obj)
                )
            raise errors.unknown_path(node_type, "/".join(seg[1:]))
        business = self._businesses.get(seg[0])
        if business is not None:
            if len(seg) == 1:
                fields = objects.requested_fields(call.params, ("id", "name"))
                return Route("business", None, None, lambda: objects.render(business, fields, self._ctx(None, now)))
            if len(seg) == 2 and seg[1] in ("owned_ad_accounts", "client_ad_accounts"):
                owned = seg[1] == "owned_ad_accounts"
                visible = [a for a in self._visible_accounts(info) if owned and a.business.id == business.id]
                fields = objects.requested_fields(call.params, _ACCOUNT_LIST_DEFAULT)
                return Route(
                    f"business/{seg[1]}",
                    None,
                    None,
                    lambda: self._paged(call, [self._render_account(a, fields, now) for a in visible]),
                )
            if len(seg) == 2 and seg[1] == "business_users":
                users = [self._business_user(business, info)]
                return Route(
                    "business/business_users", None, None, lambda: self._render_list(call, users, now, ("id", "name"))
                )
            raise errors.unknown_path("Business", "/".join(seg[1:]))
        raise errors.no_such_object(seg[0])

    def _lookup(self, object_id: str) -> tuple[AdAccount, Any] | None:
        """A campaign, ad set, ad, creative, video, custom conversion or audience by id."""
        found = self._objects.get(object_id)
        if found is not None:
            return found[1], found[2]
        with self._rng_lock:
            if self._derived is None:
                # Built on first use: every account's assets (creatives, videos, ...) by id.
                derived: dict[str, tuple[AdAccount, Any]] = {}
                for account in self.world.accounts:
                    held = self.assets.of(account)
                    items: list[Creative | Video | CustomConversion | CustomAudience] = [
                        *held.creatives,
                        *held.videos,
                        *held.custom_conversions,
                        *held.custom_audiences,
                    ]
                    for item in items:
                        derived[item.id] = (account, item)
                self._derived = derived
            return self._derived.get(object_id)

    def _ctx(self, account: AdAccount | None, now: datetime) -> objects.Context:
        """The rendering context of ``account`` (any account for account-less nodes such as businesses)."""
        account = account or self.world.accounts[0]
        maps = self._maps.get(account.id)
        if maps is None:
            maps = self._maps[account.id] = (
                {c.id: c for c in account.campaigns},
                {s.id: s for s in account.adsets},
            )
        created = self._created_days_ago(account)
        created_time = None
        if created is not None:
            day = date.fromordinal(self.world.anchor.toordinal() - created)
            created_time = datetime.combine(day, account.created_time.timetz())
        return objects.Context(
            account=account,
            assets=self.assets.of(account),
            now=now,
            campaigns=maps[0],
            adsets=maps[1],
            created_time=created_time,
            amount_spent=lambda: self._amount_spent(account, now),
        )

    def _amount_spent(self, account: AdAccount, now: datetime) -> int:
        """Lifetime spend in minor units as of ``now`` (``amount_spent``), cached per account and day."""
        view = self.view(account, now, False, faults=False)
        key = (account.id, view.today, view.first_day)
        total = self._spent.get(key)
        if total is None:
            total = 0
            for ad in account.ads:
                first = ad.first_day if view.first_day is None else max(ad.first_day, view.first_day)
                last = view.today if ad.last_day is None else min(ad.last_day, view.today)
                for day in range(first, last + 1):
                    rec = ad_day(ad, day, view.today - day, view.restatement_days, view.restatement_scale)
                    if rec is not None:
                        total += rec[SPEND]
            self._spent[key] = total
        return total

    def _render_list(self, call: Call, items: list[Any], now: datetime, default: tuple[str, ...]) -> dict[str, Any]:
        fields = objects.requested_fields(call.params, default)
        ctx = self._ctx(None, now)
        return self._paged(call, items, lambda item: objects.render(item, fields, ctx))

    # ------------------------------------------------------------------ endpoints

    def _today(self, account: AdAccount, moment: datetime) -> date:
        return moment.astimezone(account.zone).date()

    def _parse(self, call: Call, account: AdAccount, now: datetime) -> InsightsQuery:
        query = parse_query(
            call.params,
            today=self._today(account, now),
            history_months=self.config.history_months,
            default_limit=self.config.default_page_size,
        )
        return query

    def view(self, account: AdAccount, as_of: datetime, hide_archived: bool, *, faults: bool = True) -> View:
        """How ``account``'s data looks at ``as_of``: restatement, its creation day, missing-row faults."""
        created = self._created_days_ago(account)
        return View(
            today=self._today(account, as_of).toordinal(),
            restatement_days=self.config.restatement_days,
            restatement_scale=self.config.restatement_scale,
            hide_archived=hide_archived,
            missing_rows_rate=self.faults.missing_rows_rate if faults else 0.0,
            first_day=None if created is None else self.world.anchor.toordinal() - created,
        )

    def _insights(
        self, call: Call, account: AdAccount, now: datetime, scope: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        """``GET|POST /{act_id|campaign_id|adset_id|ad_id}/insights``: a page, or a report run (POST)."""
        params = call.params
        hide = self.config.insights_hide_archived
        if scope is not None:
            # /{object_id}/insights: the account edge scoped to the object (default level: the object's
            # own), and it works even for archived and deleted objects (Meta's documented way to get them).
            kind, object_id = scope
            params = dict(params)
            params.setdefault("level", kind)
            own = {"field": f"{kind}.id", "operator": "IN", "value": [object_id]}
            scoped = [*json_list(params, "filtering"), own]
            params["filtering"] = orjson.dumps(scoped).decode()
            hide = False
        query = self._parse(replace(call, params=params), account, now)
        if call.method == "POST":
            return self._submit_job(account, params, query, now, hide)
        empty = "after" not in call.params and self._empty_answer()
        return self._insights_page(call, account, query, now, hide_archived=hide, empty=empty)

    def _created_days_ago(self, account: AdAccount) -> int | None:
        """``Faults.account_created_days_ago`` for the account (keys with or without ``act_``)."""
        ages = self.faults.account_created_days_ago
        return ages.get(account.id, ages.get(f"act_{account.id}"))

    def _empty_answer(self) -> bool:
        """Whether this answer is one of the ``Faults.empty_answer_rate`` share answered empty."""
        rate = self.faults.empty_answer_rate
        return bool(rate) and self.draw() < rate

    def _render_account(self, account: AdAccount, fields: list[str], now: datetime) -> dict[str, Any]:
        return objects.render_account(account, fields, self._ctx(account, now))

    def _check_size(self, query: InsightsQuery) -> None:
        faults = self.faults
        if faults.max_rows_per_response is not None and query.limit > faults.max_rows_per_response:
            raise errors.reduce_data()
        cells = query.limit * (len(query.fields) + 2)
        if faults.max_cells_per_response is not None and cells > faults.max_cells_per_response:
            raise errors.reduce_data()

    def _insights_page(
        self,
        call: Call,
        account: AdAccount,
        query: InsightsQuery,
        as_of: datetime,
        *,
        hide_archived: bool | None = None,
        empty: bool = False,
    ) -> dict[str, Any]:
        self._check_size(query)
        broken = self.faults.empty_answer_accounts
        if empty or account.id in broken or f"act_{account.id}" in broken:
            return {"data": []}  # the data fault: an answer empty although the range has spend
        after = call.params.get("after")
        start = decode_cursor(after, 3) if after else (0, 0, 0)
        position = (start[0], start[1], start[2])
        hide = self.config.insights_hide_archived if hide_archived is None else hide_archived
        rows: list[dict[str, Any]] = []
        first_pos = last_pos = next_pos = None
        for pos, row in iter_rows(
            account, query, self.view(account, as_of, hide), start=position, cache=self.groups_cache
        ):
            if len(rows) == query.limit:
                next_pos = pos
                break
            if first_pos is None:
                first_pos = pos
            last_pos = pos
            rows.append(row)
        if first_pos is None or last_pos is None:
            return {"data": []}
        if self.faults.empty_page_rate and self.draw() < self.faults.empty_page_rate:
            # An empty page that still has ``next``: the cursor moves (a nonce) but the position does not.
            cursor = encode_cursor(*position, int(self.draw() * 10**9))
            return page([], before=cursor, after=cursor, next_link=self._next(call, cursor))
        after_pos = next_pos or (last_pos[0], last_pos[1], last_pos[2] + 1)
        after_cursor = encode_cursor(*after_pos)
        return page(
            rows,
            before=encode_cursor(*first_pos),
            after=after_cursor,
            next_link=self._next(call, after_cursor) if next_pos else None,
        )

    def _next(self, call: Call, cursor: str) -> str:
        params = dict(call.params)
        if call.token and "access_token" not in params:
            params["access_token"] = call.token  # the real ``next`` always carries the token
        return next_url(call.base_url, call.path, params, cursor)

    def _paged(
        self, call: Call, items: Sequence[Any], render: Callable[[Any], dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Offset paging for object lists (campaigns, ad sets, ads, accounts).

        With ``render``, ``items`` are objects and only the page's own are rendered (listing thousands
        of ads page by page must not render them all for every page).
        """
        limit = self._limit(call)
        after = call.params.get("after")
        offset = decode_cursor(after, 1)[0] if after else 0
        chunk = items[offset : offset + limit]
        if render is not None:
            chunk = [render(item) for item in chunk]
        body: dict[str, Any]
        if not chunk:
            body = {"data": []}
        else:
            end = offset + len(chunk)
            after_cursor = encode_cursor(end)
            more = end < len(items)
            body = page(
                chunk,
                before=encode_cursor(offset),
                after=after_cursor,
                next_link=self._next(call, after_cursor) if more else None,
            )
        if call.params.get("summary") in ("true", "1", "True"):
            body["summary"] = {"total_count": len(items)}
        return body

    def _activities(self, call: Call, account: AdAccount, now: datetime) -> dict[str, Any]:
        fields = objects.requested_fields(call.params, ("event_type", "event_time", "object_id"))
        known = catalog.NODE_FIELDS["AdActivity"]
        for name in fields:
            if name not in known:
                raise errors.unknown_path("AdActivity", name)
        entries = activities(call.params, self._ctx(account, now))
        return self._paged(call, [{k: e[k] for k in fields if k in e} for e in entries])

    def _object_list(
        self, call: Call, account: AdAccount, edge: str, now: datetime, parent: Any = None
    ) -> dict[str, Any]:
        node_type = listing.EDGES[edge][0]
        default = ("hash", "id") if edge == "adimages" else ("id",)
        fields = objects.requested_fields(call.params, default)
        ctx = self._ctx(account, now)
        items = listing.list_objects(edge, call.params, ctx, parent)
        return self._paged(call, items, lambda obj: objects.render(obj, fields, ctx, node_type))

    def _submit_job(
        self, account: AdAccount, params: Mapping[str, str], query: InsightsQuery, now: datetime, hide: bool
    ) -> dict[str, Any]:
        size = len(account.ads) * query.ad_days
        duration = self.config.async_base_s + self.config.async_s_per_1000_ad_days * size / 1000.0
        outcome = COMPLETED
        draw = self.draw()
        if draw < self.faults.async_fail_rate:
            outcome = FAILED
        elif draw < self.faults.async_fail_rate + self.faults.async_skip_rate:
            outcome = SKIPPED
        job = self.jobs.submit(
            account.id,
            params,
            query,
            now=now.timestamp(),
            duration=duration,
            outcome=outcome,
            hide_archived=hide,
            empty=self._empty_answer(),
        )
        return {"report_run_id": job.id}

    def _job_status(self, call: Call, job: ReportRun, now: datetime) -> dict[str, Any]:
        body = job.describe(now.timestamp())
        if call.params.get("fields"):
            wanted = objects.requested_fields(call.params, ("id",))
            known = catalog.NODE_FIELDS["AdReportRun"]
            for name in wanted:
                if name not in known:
                    raise errors.unknown_path("AdReportRun", name)
            body = {k: v for k, v in body.items() if k in {*wanted, "id"}}
        return body

    def _job_results(self, call: Call, job: ReportRun) -> dict[str, Any]:
        status, percent = job.status(self.clock.now().timestamp())
        if status != COMPLETED or percent != 100:
            raise errors.report_not_ready(job.id)
        account = self.world.account(job.account_id)
        assert account is not None
        # The results are paged with the GET's own ``limit``; everything else is the submitted query.
        query = replace(job.query, limit=self._limit(call))
        completed = datetime.fromtimestamp(job.completed_at, tz=timezone.utc)
        return self._insights_page(call, account, query, completed, hide_archived=job.hide_archived, empty=job.empty)

    def _limit(self, call: Call) -> int:
        try:
            limit = int(call.params.get("limit", self.config.default_page_size))
        except ValueError:
            raise errors.invalid_param("param limit must be an integer") from None
        if limit < 1:
            raise errors.invalid_param("param limit must be a positive integer")
        return limit

    def _debug_token(self, call: Call, now: datetime) -> dict[str, Any]:
        target = call.params.get("input_token")
        if not target:
            raise errors.invalid_param("The parameter input_token is required")
        info = self.tokens.lookup(target)
        if info is None:
            return {
                "data": {
                    "error": {
                        "code": 190,
                        "message": "Invalid OAuth access token - Cannot parse access token",
                    },
                    "is_valid": False,
                    "scopes": [],
                }
            }
        expires = int(info.expires_at.timestamp()) if info.expires_at else 0
        data: dict[str, Any] = {
            "app_id": info.app_id,
            "type": info.type,
            "application": next((a.name for a in self.tokens.apps if a.id == info.app_id), ""),
            "data_access_expires_at": int(now.timestamp()) + 90 * 86400 if info.valid else 0,
            "expires_at": expires,
            "is_valid": info.valid,
            "scopes": list(info.scopes),
            "user_id": info.user_id,
        }
        if not info.valid:
            data["error"] = {"code": 190, "message": "Error validating access token", "subcode": info.subcode}
        return {"data": data}
