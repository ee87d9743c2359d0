"""Extraction benchmark: the demo accounts from the simulator over real HTTP, with real latency.

The simulator serves 10 ad accounts (60 ads each) on a loopback port and sleeps ``--latency`` seconds
(100 ms by default) before every response, like a far-away API. The client extracts each account as the
pipeline does (account info, campaigns, ad-level daily insights for the look-back window), accounts in
parallel on a thread pool of ``--concurrency`` workers sharing one ``GraphClient``.

Ideal time = calls x latency / concurrency (at most one worker per account): what perfect packing of
the calls onto the workers would take if nothing but latency cost time. The target: wall time within
1.5x of it.

Concurrency defaults to 5, the default ``ACCOUNT_GROUP_SIZE``: the original design runs groups of 5
accounts in parallel, which keeps at most 5 requests in flight per run (spread over the tokens) - far
below Meta's per-app limits - and suits a 2-core worker; more workers mostly add contention for the GIL
once latency is hidden.

    .venv/bin/python -m bench.scenario_extract [--concurrency 5] [--latency 0.1] [--days 15] [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from metaads import Account, Simulator, SimulatorConfig
from metaads.config.accounts import parse_accounts
from metaads.dates import resolve_range
from metaads.graph import CallStats, ClientPolicy, GraphClient, TokenPool

DEFAULT_CONCURRENCY = 5


@dataclass
class AccountResult:
    account: Account
    rows: int
    campaigns: int
    seconds: float


def _extract(client: GraphClient, account: Account, days: int) -> AccountResult:
    started = time.perf_counter()
    window = resolve_range(client.local_today(account), lookback_days=days)
    since, until = window.since, window.until
    campaigns = sum(1 for _ in client.campaigns(account))
    rows = sum(len(page) for page in client.insights(account, since, until))
    return AccountResult(account, rows, campaigns, time.perf_counter() - started)


def run(
    quick: bool = False,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    latency_s: float = 0.1,
    days: int = 15,
    n_accounts: int = 10,
    ads_per_account: int = 60,
) -> dict[str, Any]:
    """Run the benchmark once and return its numbers (``quick``: 4 accounts x 5 days)."""
    if quick:
        n_accounts, days = 4, 5
    sim = Simulator(SimulatorConfig(seed=1, n_accounts=n_accounts, ads_per_account=ads_per_account))
    sim.faults.latency_s = latency_s
    accounts = parse_accounts(sim.meta_accounts_env())
    pool = TokenPool(sim.tokens, app_ids=[sim.token_app(t) for t in sim.tokens])
    policy = ClientPolicy(max_connections=max(concurrency, 1) * 2)
    with sim.serve(port=0) as server, GraphClient(base_url=server.base_url, tokens=pool, policy=policy) as client:
        server_calls_before = sim.stats.calls
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as workers:
            results = list(workers.map(lambda a: _extract(client, a, days), accounts))
        wall = time.perf_counter() - started
        total = client.total_stats()
        server_calls = sim.stats.calls - server_calls_before
    calls = total.api_calls
    # Workers beyond the number of accounts would idle: they do not make the ideal any faster.
    parallel = min(concurrency, len(accounts))
    ideal = calls * latency_s / parallel
    per_account = [CallStats.combine([client.stats(r.account)]) for r in results]
    return {
        "accounts": len(accounts),
        "days": days,
        "ads_per_account": ads_per_account,
        "concurrency": parallel,
        "latency_s": latency_s,
        "calls": calls,
        "server_calls": server_calls,
        "rows": sum(r.rows for r in results),
        "campaigns": sum(r.campaigns for r in results),
        "pages": total.pages,
        "wall_s": round(wall, 3),
        "ideal_s": round(ideal, 3),
        "ratio": round(wall / ideal, 3) if ideal else None,
        "throttled_errors": total.throttled_errors,
        "throttled_s": round(total.throttled_s, 3),
        "retries": total.retries,
        "max_calls_per_account": max(s.api_calls for s in per_account),
        "slowest_account_s": round(max(r.seconds for r in results), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every response")
    parser.add_argument("--days", type=int, default=15)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="4 accounts x 5 days")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON only")
    args = parser.parse_args()
    numbers = run(
        args.quick, concurrency=args.concurrency, latency_s=args.latency, days=args.days, n_accounts=args.accounts
    )
    if args.json:
        print(json.dumps(numbers, indent=2))
        return
    print(
        f"extracted {numbers['accounts']} accounts x {numbers['days']} days "
        f"({numbers['ads_per_account']} ads each) over HTTP with {numbers['latency_s'] * 1000:.0f} ms "
        f"latency, {numbers['concurrency']} accounts at a time"
    )
    print(f"  calls made      {numbers['calls']} (server saw {numbers['server_calls']})")
    print(f"  rows            {numbers['rows']} in {numbers['pages']} pages; {numbers['campaigns']} campaigns")
    print(f"  wall time       {numbers['wall_s']:.3f} s")
    print(f"  ideal time      {numbers['ideal_s']:.3f} s  (calls x latency / concurrency)")
    print(f"  wall / ideal    {numbers['ratio']}  (target <= 1.5)")
    print(
        f"  throttled       {numbers['throttled_errors']} errors, {numbers['throttled_s']} s waited; "
        f"retries {numbers['retries']}"
    )


if __name__ == "__main__":
    main()
