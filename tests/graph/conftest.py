"""Fixtures for the Graph API client tests: a simulator on a shared fake clock, clients, fault scripts."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

import httpx
import pytest

from metaads.accounts import Account
from metaads.clock import FakeClock
from metaads.graph import DEFAULT_INSIGHTS_FIELDS, ClientPolicy, GraphClient, TokenPool
from metaads.simulator import ALL_STATUSES, Simulator, SimulatorConfig

VERSION = "v25.0"
# Policies used by tests: the defaults, but jitter-free back-off bounds stay as in production.
FAST = ClientPolicy()


def accounts_of(sim: Simulator) -> list[Account]:
    """The simulator's accounts as the configuration would list them (account i -> token i mod T)."""
    return [
        Account(id=account_id, table=f"bm_{i + 1:02d}", label=None, index=i)
        for i, account_id in enumerate(sim.account_ids)
    ]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> Simulator:
    return Simulator(SimulatorConfig(seed=7, n_accounts=4, ads_per_account=40), clock=clock)


@pytest.fixture
def accounts(sim: Simulator) -> list[Account]:
    return accounts_of(sim)


@dataclass
class Scripted:
    """Answer up to ``times`` requests matching ``match`` with this response instead of the simulator."""

    status: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    match: Callable[[httpx.Request], bool] = lambda request: True


class ScriptedTransport(httpx.BaseTransport):
    """The simulator's transport with scripted Graph error responses in front (fault injection).

    Only for faults the simulator cannot produce on demand; everything else is the simulator answering.
    Records every request's path and the token it carried, so tests can see what the client did.
    """

    def __init__(self, inner: httpx.BaseTransport, script: list[Scripted] | None = None) -> None:
        self.inner = inner
        self.script = list(script or [])
        self.requests: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            self.requests.append((request.method, request.url.path, token))
            for item in self.script:
                if item.times > 0 and item.match(request):
                    item.times -= 1
                    return httpx.Response(item.status, json=item.body, headers=item.headers)
        return self.inner.handle_request(request)


ClientFactory = Callable[..., GraphClient]


@pytest.fixture
def make_client(sim: Simulator, clock: FakeClock) -> Iterator[ClientFactory]:
    """Build clients on the simulator's in-process transport (or any given transport / base URL)."""
    made: list[GraphClient] = []

    def factory(
        *,
        policy: ClientPolicy | None = None,
        tokens: TokenPool | list[str] | None = None,
        transport: httpx.BaseTransport | None = None,
        base_url: str = "https://graph.facebook.com",
        version: str = VERSION,
    ) -> GraphClient:
        client = GraphClient(
            base_url=base_url,
            version=version,
            tokens=tokens if tokens is not None else list(sim.tokens),
            policy=policy or FAST,
            clock=clock,
            transport=transport if transport is not None or base_url.startswith("http://127") else sim.transport(),
        )
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


def all_rows(pages: Iterator[list[dict[str, object]]]) -> list[dict[str, object]]:
    return [row for page in pages for row in page]


def row_key(row: dict[str, object]) -> tuple[str, ...]:
    return tuple(str(row.get(k, "")) for k in ("date_start", "campaign_id", "adset_id", "ad_id"))


def by_key(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return sorted(rows, key=row_key)


# Every ad status: what the client asks for by default, so archived and deleted ads (real spend) count.
ALL_ADS = [{"field": "ad.effective_status", "operator": "IN", "value": list(ALL_STATUSES)}]


def truth(sim: Simulator, account: Account, since: date, until: date, **kwargs: object) -> list[dict[str, object]]:
    """The simulator's ground truth for the client's default insights request, in a stable order."""
    return by_key(
        sim.ground_truth(
            account.id, since, until, level="ad", fields=DEFAULT_INSIGHTS_FIELDS, filtering=ALL_ADS, **kwargs
        )
    )  # type: ignore[arg-type]
