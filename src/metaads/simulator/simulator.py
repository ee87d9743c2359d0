"""The :class:`Simulator` facade: world, tokens, quotas, jobs and faults, served in-process or over HTTP."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import httpx

from metaads.clock import Clock, SystemClock
from metaads.simulator import errors
from metaads.simulator.app import GraphApp
from metaads.simulator.auth import TokenRegistry, appsecret_proof
from metaads.simulator.config import Faults, SimulatorConfig
from metaads.simulator.insights import iter_rows, parse_query
from metaads.simulator.jobs import ReportRuns
from metaads.simulator.ratelimit import RateLimiter
from metaads.simulator.server import SimulatorServer
from metaads.simulator.stats import SimulatorStats
from metaads.simulator.transport import SimulatorTransport
from metaads.simulator.world import AdAccount, World, build_world


class Simulator:
    """A deterministic Graph API world. See the package docstring for the whole API."""

    def __init__(self, config: SimulatorConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.clock: Clock = clock or SystemClock()
        anchor = self.config.anchor_date or self.clock.now().date()
        self.world: World = build_world(self.config, anchor)
        # A private copy: faults are mutable while the simulator runs, the config stays as given.
        self.faults: Faults = copy.deepcopy(self.config.faults)
        self.stats = SimulatorStats()
        self._tokens = TokenRegistry(self.config)
        self._limiter = RateLimiter(self.config)
        self._jobs = ReportRuns(self.config.seed)
        self.app = GraphApp(
            self.world,
            self.config,
            self.clock,
            self.faults,
            self._tokens,
            self._limiter,
            self._jobs,
            self.stats,
        )

    # ------------------------------------------------------------------ the world

    @property
    def account_ids(self) -> list[str]:
        """Ad account ids, digits only (no ``act_``), in world order."""
        return [account.id for account in self.world.accounts]

    def account(self, account_id: str) -> AdAccount:
        found = self.world.account(account_id.removeprefix("act_"))
        if found is None:
            raise KeyError(f"no ad account {account_id!r} in this world")
        return found

    def account_timezone(self, account_id: str) -> str:
        return self.account(account_id).timezone_name

    def account_currency(self, account_id: str) -> str:
        return self.account(account_id).currency

    def account_today(self, account_id: str) -> date:
        """The account's local date now (insights dates are in the account's time zone)."""
        return self.clock.now().astimezone(self.account(account_id).zone).date()

    def meta_accounts_env(self) -> str:
        """``META_ACCOUNTS`` for this world: ``act_<id>:bm_01:<name>,...``."""
        entries = []
        for position, account in enumerate(self.world.accounts):
            label = account.name.replace(",", " ").replace(":", " ").strip()
            entries.append(f"act_{account.id}:bm_{position + 1:02d}:{label}")
        return ",".join(entries)

    # ------------------------------------------------------------------ tokens and apps

    @property
    def tokens(self) -> list[str]:
        """The world's initial valid tokens, round-robin over at least two apps."""
        return list(self._tokens.initial)

    @property
    def app_ids(self) -> list[str]:
        return [app.id for app in self._tokens.apps]

    def token_app(self, token: str) -> str:
        """The app a token belongs to."""
        info = self._tokens.lookup(token)
        if info is None:
            raise KeyError("unknown token")
        return info.app_id

    def add_token(
        self,
        token: str | None = None,
        *,
        app_id: str | None = None,
        valid: bool = True,
        expired: bool = False,
        accounts: Iterable[str] | None = None,
        expires_at: datetime | None = None,
        scopes: Iterable[str] | None = None,
    ) -> str:
        """Register a token; ``accounts`` limits it to those accounts (others answer code 200).

        ``expires_at`` makes it a user token that expires (code 190/463 afterwards); ``scopes``
        replaces the default permissions (``debug_token`` reports them).
        """
        return self._tokens.add(
            token,
            app_id=app_id,
            valid=valid,
            expired=expired,
            accounts=accounts,
            expires_at=expires_at,
            scopes=scopes,
        )

    def invalidate_token(self, token: str, subcode: int = 463) -> None:
        """Make a token fail with 190/``subcode`` from now on (463 expired, 467 invalid, 460, ...)."""
        self._tokens.invalidate(token, subcode)

    def appsecret_proof(self, token: str) -> str:
        """The proof a client must send when ``config.app_secret`` is set."""
        if self.config.app_secret is None:
            raise ValueError("this simulator has no app secret")
        return appsecret_proof(token, self.config.app_secret)

    # ------------------------------------------------------------------ serving

    def transport(self) -> httpx.BaseTransport:
        """An in-process ``httpx`` transport (no latency faults): ``httpx.Client(transport=...)``."""
        return SimulatorTransport(self.app)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> SimulatorServer:
        """A real HTTP server on ``host:port`` (0 = a free port); use as a context manager."""
        return SimulatorServer(self.app, host, port)

    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        *,
        base_url: str = "http://simulator.local",
    ) -> Any:
        """Serve one request directly (no HTTP); returns a :class:`~metaads.simulator.protocol.Response`."""
        return self.app.handle(method, path, query or {}, headers or {}, body, base_url=base_url)

    # ------------------------------------------------------------------ ground truth

    def ground_truth(
        self,
        account_id: str,
        since: date,
        until: date,
        *,
        level: str = "ad",
        fields: Sequence[str] | None = None,
        breakdowns: Sequence[str] = (),
        filtering: Sequence[Mapping[str, Any]] | None = None,
        time_increment: str | int = 1,
        action_attribution_windows: Sequence[str] = (),
        action_breakdowns: Sequence[str] = (),
        action_report_time: str | None = None,
        apply_faults: bool = True,
    ) -> list[dict[str, Any]]:
        """Exactly the rows ``/act_{id}/insights`` would return now for these parameters, in API order.

        Same generator as the endpoint; ``filtering`` takes the API's list of ``{field, operator, value}``
        (pass every status in ``ad.effective_status`` to include archived and deleted ads).
        ``apply_faults=False`` gives the complete data, without ``Faults.missing_rows_rate`` (the
        per-request ``empty_answer_*`` faults are never applied here; an account's creation day always is).
        """
        account = self.account(account_id)
        params: dict[str, str] = {
            "level": level,
            "time_range": json.dumps({"since": since.isoformat(), "until": until.isoformat()}),
            "time_increment": str(time_increment),
        }
        if fields is not None:
            params["fields"] = ",".join(fields)
        if breakdowns:
            params["breakdowns"] = json.dumps(list(breakdowns))
        if filtering:
            params["filtering"] = json.dumps(list(filtering))
        if action_attribution_windows:
            params["action_attribution_windows"] = json.dumps(list(action_attribution_windows))
        if action_breakdowns:
            params["action_breakdowns"] = json.dumps(list(action_breakdowns))
        if action_report_time:
            params["action_report_time"] = action_report_time
        today = self.account_today(account.id)
        try:
            query = parse_query(
                params,
                today=today,
                history_months=self.config.history_months,
                default_limit=self.config.default_page_size,
            )
        except errors.GraphError as exc:
            raise ValueError(f"the API would refuse this request: {exc.message}") from None
        view = self.app.view(account, self.clock.now(), self.config.insights_hide_archived, faults=apply_faults)
        return [row for _, row in iter_rows(account, query, view, cache=self.app.groups_cache)]
