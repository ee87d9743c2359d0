"""Extra insights reports benchmark: the default report alone, default + 2 reports in one run, and the
same three reports run one after another.

The simulator is the e2e scenario's (:mod:`bench.scenario_e2e`: development-tier quotas, 100 ms latency,
compressed time); the reports are the ones people pull most: ``age_gender`` (ad level, age x gender,
with actions) and ``country`` (ad level, by country, with actions). Variants, each on a fresh simulator
(same seed: the same world) and a fresh warehouse schema in PostgreSQL:

- **default**: ``Pipeline.run()`` without ``INSIGHTS_REPORTS``;
- **combined**: ``INSIGHTS_REPORTS`` = age_gender + country: one run, each account fetching its three
  reports in turn, ``ACCOUNT_GROUP_SIZE`` accounts at a time;
- **sequential**: the default run, then one run per extra report (every account again, the same
  concurrency), as three separately scheduled jobs would.

Durations are in simulated seconds (see :mod:`bench.timescale`).

    .venv/bin/python -m bench.scenario_reports [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from typing import Any

import sqlalchemy as sa

from bench.scenario_e2e import DEFAULT_PG_URL, PROFILES, START, E2EConfig, pg_url
from bench.timescale import LatencyFloorApp, ScaledClock
from metaads import Simulator, SimulatorConfig, SimulatorServer
from metaads.config.settings import settings_from_mapping
from metaads.dates import local_today
from metaads.pipeline import Pipeline
from metaads.pipeline.reports import ReportLoader, load_reports

REPORTS = [
    {
        "name": "age_gender",
        "level": "ad",
        "fields": ["spend", "impressions", "clicks", "reach", "actions"],
        "breakdowns": ["age", "gender"],
    },
    {
        "name": "country",
        "level": "ad",
        "fields": ["spend", "impressions", "clicks", "actions"],
        "breakdowns": ["country"],
    },
]
VARIANTS = ("default", "combined", "sequential")
# The e2e scenario's shapes; smoke (the suite's test run) smaller still, without quota waits: breakdowns
# multiply the calls by ~20, and the smoke run only shows that every variant still runs.
REPORT_PROFILES = {**PROFILES, "smoke": replace(PROFILES["smoke"], ads_per_account=40, days=2, quota_scale=1.0)}


def _settings(
    cfg: E2EConfig, server: SimulatorServer, sim: Simulator, url: str, schema: str, reports: list[dict[str, Any]]
) -> Any:
    return settings_from_mapping(
        {
            "META_ACCOUNTS": sim.meta_accounts_env(),
            "GRAPH_API_TOKENS": ",".join(sim.tokens[: cfg.tokens]),
            "GRAPH_API_BASE_URL": server.base_url,
            "GRAPH_API_PAGE_SIZE": str(cfg.page_size),
            "LOOKBACK_DAYS": str(cfg.days),
            "ACCOUNT_GROUP_SIZE": str(cfg.concurrency),
            "WAREHOUSE_URL": url,
            "WAREHOUSE_SCHEMA": schema,
            "INSIGHTS_REPORTS": json.dumps(reports),
        }
    )


def _rows(summary: Any) -> dict[str, int]:
    rows = {"default": summary.ads_rows, "default_actions": summary.actions_rows}
    for result in summary.results:
        for chunk in result.reports:
            rows[chunk.report] = rows.get(chunk.report, 0) + chunk.rows
            rows[f"{chunk.report}_lists"] = rows.get(f"{chunk.report}_lists", 0) + chunk.list_rows
    return rows


def _report_only(pipeline: Pipeline, clock: ScaledClock, run_id: str) -> dict[str, int]:
    """One extra report for every account, as its own job (account info, then the report's chunks)."""
    settings = pipeline.settings
    pipeline.init_warehouse()

    def one(account: Any) -> list[Any]:
        info = pipeline.client.account_info(account)
        loader = ReportLoader(
            pipeline.client,
            pipeline.warehouse,
            clock,
            reconcile=settings.reconcile,
            relative_tolerance=settings.reconcile_tolerance,
        )
        return load_reports(
            loader,
            account,
            settings.reports,
            today=local_today(clock.now(), info.timezone_name),
            currency=info.currency,
            default_lookback=settings.lookback_days,
            chunk_days=settings.backfill_chunk_days,
            since=None,
            until=None,
            run_id=run_id,
        )

    with ThreadPoolExecutor(max_workers=settings.account_group_size) as pool:
        chunks = [c for done in pool.map(one, settings.accounts) for c in done]
    failed = [c.error for c in chunks if not c.ok]
    if failed:
        raise RuntimeError(f"report run failed: {failed[0]}")
    name = chunks[0].report
    return {name: sum(c.rows for c in chunks), f"{name}_lists": sum(c.list_rows for c in chunks)}


def run_variant(variant: str, cfg: E2EConfig, url: str) -> dict[str, Any]:
    """One variant on a fresh simulator and warehouse schema."""
    clock = ScaledClock(cfg.time_factor, START)
    sim = Simulator(
        SimulatorConfig(
            seed=cfg.seed,
            n_accounts=cfg.accounts,
            ads_per_account=cfg.ads_per_account,
            tier=cfg.tier,
            n_apps=cfg.tokens,
            tokens_per_app=1,  # type: ignore[arg-type]
            quota_scale=cfg.quota_scale,
        ),
        clock=clock,
    )
    sim.faults.latency_s = 0.0
    schema = f"bench_reports_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    server = SimulatorServer(
        LatencyFloorApp(sim.app, cfg.latency_s / cfg.time_factor),  # type: ignore[arg-type]
        "127.0.0.1",
        0,
    )
    rows: dict[str, int] = {}
    try:
        with server:
            started, started_real = clock.monotonic(), time.perf_counter()
            reports = REPORTS if variant == "combined" else []
            with Pipeline.from_settings(_settings(cfg, server, sim, url, schema, reports), clock=clock) as pipeline:
                summary = pipeline.run(trigger="bench")
                if not summary.ok:
                    raise RuntimeError(f"{variant}: {[r.error for r in summary.failed][:2]}")
                rows.update(_rows(summary))
                run_id = summary.run_id
            if variant == "sequential":
                for report in REPORTS:
                    settings = _settings(cfg, server, sim, url, schema, [report])
                    with Pipeline.from_settings(settings, clock=clock) as pipeline:
                        rows.update(_report_only(pipeline, clock, run_id))
            wall, wall_real = clock.monotonic() - started, time.perf_counter() - started_real
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()
    return {
        "wall_s": round(wall, 1),
        "wall_real_s": round(wall_real, 1),
        "api_calls": sim.stats.calls,
        "throttled": sim.stats.throttled,
        "rows": rows,
    }


def run(quick: bool = False, *, profile: str | None = None, url: str | None = None) -> dict[str, Any]:
    """Every variant; the figures (durations in simulated seconds)."""
    cfg = REPORT_PROFILES[profile or ("quick" if quick else "full")]
    results: dict[str, Any] = {"config": asdict(cfg), "reports": [r["name"] for r in REPORTS]}
    for variant in VARIANTS:
        results[variant] = run_variant(variant, cfg, url or pg_url())
    return results


def report(results: dict[str, Any]) -> str:
    cfg = results["config"]
    names = ["default", "default_actions", *(n for r in results["reports"] for n in (r, f"{r}_lists"))]
    lines = [
        f"{cfg['accounts']} accounts x {cfg['days']} days, {cfg['ads_per_account']:,} ads each, "
        f"{cfg['tokens']} tokens, {cfg['latency_s'] * 1000:.0f} ms latency, {cfg['tier']} tier, "
        f"{cfg['concurrency']} accounts at a time; time x{cfg['time_factor']:g} (simulated seconds); "
        f"reports: default + {', '.join(results['reports'])}",
        "",
        "| variant | wall (s) | real wall (s) | API calls | throttling errors | "
        + " | ".join(f"{n} rows" for n in names)
        + " |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(names),
    ]
    for variant in VARIANTS:
        r = results[variant]
        lines.append(
            f"| {variant} | {r['wall_s']:.0f} | {r['wall_real_s']:.0f} | {r['api_calls']} | "
            f"{r['throttled']} | " + " | ".join(f"{r['rows'].get(n, 0):,}" for n in names) + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 small accounts, quotas scaled down")
    parser.add_argument("--profile", choices=sorted(REPORT_PROFILES), help=argparse.SUPPRESS)
    parser.add_argument("--factor", type=float, default=None, help="simulated seconds per real second")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    cfg_profile = args.profile or ("quick" if args.quick else "full")
    if args.factor:
        REPORT_PROFILES[cfg_profile] = replace(REPORT_PROFILES[cfg_profile], time_factor=args.factor)
    results = run(profile=cfg_profile)
    print(json.dumps(results, indent=2) if args.json else report(results))
    return 0


__all__ = ["DEFAULT_PG_URL", "run", "report"]

if __name__ == "__main__":
    raise SystemExit(main())
