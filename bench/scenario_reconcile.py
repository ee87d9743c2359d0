"""Reconciliation benchmark: what checking every chunk against Meta's account-level totals costs, and what it saves.

1. **Cost** at the design scale (10 accounts, ~2,000 active ads each, 15-day look-back, 100 ms real latency
   per call, 5 accounts at a time): the same run with ``RECONCILE=off`` and ``RECONCILE=strict``, each into
   its own fresh PostgreSQL schema. Extra calls (expected: one account-level call per account and chunk)
   and extra wall time.
2. **Short answers**: after a complete first load, a re-run during which 2 % of ad-level answers come back
   empty (``Faults.empty_answer_rate``; account-level answers too, at the same rate) and, separately, 2 % of
   ad-days silently missing from ad-level answers (``Faults.missing_rows_rate``). Chunks of one day
   (``BACKFILL_CHUNK_DAYS=1``) give accounts x days answers per run; the re-run is repeated until about 150
   ad-level answers were served. Rows lost = rows the warehouse held before minus rows after each re-run,
   summed over the re-runs: with ``off`` every short answer replaces complete days; ``strict`` must lose 0.

The simulator and the pipeline share a fake clock (no rate-limit waits at the standard tier), latency is
real; wall times are real seconds.

    .venv/bin/python -m bench.scenario_reconcile [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from metaads.clock import FakeClock
from metaads.config.settings import settings_from_mapping
from metaads.pipeline import Pipeline
from metaads.simulator import Simulator, SimulatorConfig

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
START = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class ReconcileConfig:
    accounts: int = 10
    ads_per_account: int = 5500
    days: int = 15
    latency_s: float = 0.1
    concurrency: int = 5
    page_size: int = 500
    short_rate: float = 0.02
    seed: int = 1
    repeats: int = 2  # runs per mode in the cost measurement (alternating; the last of each is kept)


PROFILES = {
    "full": ReconcileConfig(),
    "quick": ReconcileConfig(accounts=4, ads_per_account=1500, days=7, concurrency=2, latency_s=0.05, repeats=1),
    "smoke": ReconcileConfig(
        accounts=2, ads_per_account=200, days=3, concurrency=2, latency_s=0.0, page_size=100, repeats=1
    ),
}


def _schema(engine: sa.Engine) -> str:
    name = f"bench_rec_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    return name


def _drop(engine: sa.Engine, schema: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _rows(engine: sa.Engine, schema: str) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(f'SELECT count(*) FROM "{schema}".vw_graph_ads').scalar_one())


class _World:
    """A simulator on HTTP with real latency, sharing a fake clock with the pipelines."""

    def __init__(self, config: ReconcileConfig) -> None:
        self.config = config
        self.clock = FakeClock(START)
        self.sim = Simulator(
            SimulatorConfig(
                seed=config.seed,
                n_accounts=config.accounts,
                ads_per_account=config.ads_per_account,
                tier="standard",
                n_apps=5,
                tokens_per_app=1,
                restatement_scale=0.0,
            ),
            clock=self.clock,
        )
        self.sim.faults.latency_s = config.latency_s
        self.server = self.sim.serve(port=0).start()

    def pipeline(self, url: str, schema: str, **env: str) -> Pipeline:
        settings = settings_from_mapping(
            {
                "META_ACCOUNTS": self.sim.meta_accounts_env(),
                "GRAPH_API_TOKENS": ",".join(self.sim.tokens),
                "GRAPH_API_BASE_URL": self.server.base_url,
                "GRAPH_API_PAGE_SIZE": str(self.config.page_size),
                "LOOKBACK_DAYS": str(self.config.days),
                "ACCOUNT_GROUP_SIZE": str(self.config.concurrency),
                "WAREHOUSE_URL": url,
                "WAREHOUSE_SCHEMA": schema,
                **env,
            }
        )
        return Pipeline.from_settings(settings, clock=self.clock)

    def close(self) -> None:
        self.server.stop()


def _timed_run(pipeline: Pipeline) -> dict[str, Any]:
    began = time.perf_counter()
    summary = pipeline.run(trigger="bench")
    return {
        "wall_s": time.perf_counter() - began,
        "api_calls": summary.api_calls,
        "ads_rows": summary.ads_rows,
        "chunks": sum(len(r.chunks) for r in summary.results),
        "failed_accounts": len(summary.failed),
        "mismatch_chunks": sum(len(r.mismatches) for r in summary.results),
    }


def cost(world: _World, engine: sa.Engine, url: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in ("off", "strict") * world.config.repeats:  # alternating: the last run of each is kept
        schema = _schema(engine)
        try:
            with world.pipeline(url, schema, RECONCILE=mode) as pipeline:
                pipeline.init_warehouse()
                out[mode] = _timed_run(pipeline)
        finally:
            _drop(engine, schema)
    out["extra_calls"] = out["strict"]["api_calls"] - out["off"]["api_calls"]
    out["extra_calls_per_chunk"] = out["extra_calls"] / max(1, out["strict"]["chunks"])
    out["extra_wall_s"] = out["strict"]["wall_s"] - out["off"]["wall_s"]
    out["extra_wall_pct"] = 100.0 * out["extra_wall_s"] / max(1e-9, out["off"]["wall_s"])
    return out


def short_answers(world: _World, engine: sa.Engine, url: str, fault: str, answers: int = 150) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rate = world.config.short_rate
    reruns = max(1, -(-answers // (world.config.accounts * world.config.days)))
    for mode in ("off", "strict"):
        schema = _schema(engine)
        try:
            with world.pipeline(url, schema, RECONCILE=mode, BACKFILL_CHUNK_DAYS="1") as pipeline:
                pipeline.init_warehouse()
                first = pipeline.run(trigger="bench")
                before = _rows(engine, schema)
                totals: dict[str, Any] = {
                    "rows_lost": 0,
                    "mismatch_chunks": 0,
                    "failed_accounts": 0,
                    "api_calls": 0,
                    "chunks": 0,
                    "wall_s": 0.0,
                }
                setattr(world.sim.faults, fault, rate)
                try:
                    for _ in range(reruns):
                        rerun = _timed_run(pipeline)
                        after = _rows(engine, schema)
                        totals["rows_lost"] += before - after
                        for key in ("mismatch_chunks", "failed_accounts", "api_calls", "chunks", "wall_s"):
                            totals[key] += rerun[key]
                finally:
                    setattr(world.sim.faults, fault, 0.0)
            out[mode] = {
                "first_run_ok": first.ok,
                "rows_before": before,
                "rows_after": after,
                "reruns": reruns,
                **totals,
            }
        finally:
            _drop(engine, schema)
    return out


def run(profile: str = "full", pg_url: str = DEFAULT_PG_URL) -> dict[str, Any]:
    config = PROFILES[profile]
    engine = sa.create_engine(pg_url, pool_size=config.concurrency + 4)
    world = _World(config)
    try:
        return {
            "config": config.__dict__,
            "cost": cost(world, engine, pg_url),
            "empty_answers": short_answers(world, engine, pg_url, "empty_answer_rate"),
            "missing_rows": short_answers(world, engine, pg_url, "missing_rows_rate", answers=1),
        }
    finally:
        world.close()
        engine.dispose()


def report(results: dict[str, Any]) -> str:
    c, cfg = results["cost"], results["config"]
    lines = [
        f"{cfg['accounts']} accounts x {cfg['days']} days ({cfg['ads_per_account']} ads each), "
        f"{cfg['latency_s'] * 1000:.0f} ms latency, {cfg['concurrency']} accounts at a time:",
        "",
        "| RECONCILE | API calls | chunks | wall (s) | ads rows |",
        "|---|---:|---:|---:|---:|",
    ]
    for mode in ("off", "strict"):
        r = c[mode]
        lines.append(f"| {mode} | {r['api_calls']} | {r['chunks']} | {r['wall_s']:.2f} | {r['ads_rows']:,} |")
    lines += [
        "",
        f"Reconciliation cost: {c['extra_calls']} extra calls ({c['extra_calls_per_chunk']:.2f} per chunk), "
        f"{c['extra_wall_s']:+.2f} s wall ({c['extra_wall_pct']:+.1f} %).",
        "",
        f"Short answers ({cfg['short_rate'] * 100:.0f} %), chunks of one day, re-runs after a complete load "
        "(rows lost and counts summed over the re-runs):",
        "",
        "| fault | RECONCILE | re-runs | chunks | rows before | rows after the last | rows lost | "
        "mismatch chunks | failed accounts |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for fault in ("empty_answers", "missing_rows"):
        for mode in ("off", "strict"):
            r = results[fault][mode]
            lines.append(
                f"| {fault} | {mode} | {r['reruns']} | {r['chunks']} | {r['rows_before']:,} | "
                f"{r['rows_after']:,} | {r['rows_lost']:,} | {r['mismatch_chunks']} | "
                f"{r['failed_accounts']} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--profile", choices=sorted(PROFILES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run(args.profile or ("quick" if args.quick else "full"))
    print(json.dumps(results, indent=2, default=str) if args.json else report(results))


if __name__ == "__main__":
    main()
