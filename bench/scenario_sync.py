"""Sync benchmark: warehouse views (PostgreSQL) to an analytics database, metaads vs the original design.

A PostgreSQL warehouse is filled server-side (``generate_series``) with ``--rows`` ads rows over 10
accounts and 90 days, and their actions rows (about 2.2 per ads row). Then, each in its own
subprocess (so its peak RSS is its own) and against fresh, empty target tables:

1. **metaads PG->PG**: ``sync_analytics`` (full window, 8 threads; COPY piped between the servers),
   then an incremental sync after 15 days of every account were re-loaded;
2. **metaads PG->MariaDB**: the same into MariaDB (executemany batched by pymysql, 8 threads);
3. **pandas PG->PG** and **pandas PG->MariaDB**: the original design
   (``bench.baseline.sync_pandas``: ``read_sql`` of the window + ``to_sql(chunksize=1000)`` from 8
   threads). ``--pandas-rows`` measures it on a shorter window (fewer rows): rows/s is comparable.

Every target is checked against the warehouse view (counts and sums). rows/s counts all rows written
(ads + actions); ads rows/s is given too.

    .venv/bin/python -m bench.scenario_sync [--rows N] [--pandas-rows N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.rss import peak_rss_mb
from metaads import Account, sync_analytics
from metaads.config.accounts import parse_accounts
from metaads.dates import DateRange
from metaads.outcomes import ChunkResult
from metaads.statuses import AccountStatus
from metaads.sync import SyncOptions
from metaads.sync.plan import window_start
from metaads.sync.targets import analytics_tables, ensure_targets
from metaads.warehouse import Warehouse
from metaads.warehouse.schema import ACTIONS_VIEW, ADS_VIEW

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_MYSQL_URL = "mysql+pymysql://root:@127.0.0.1:3306/test?charset=utf8mb4&local_infile=1"
TODAY = date(2026, 11, 20)
DAYS = 90
N_ACCOUNTS = 10
THREADS = 8
INCREMENTAL_DAYS = 15
LOADED_AT = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)


def pg_url() -> str:
    return os.environ.get("METAADS_BENCH_PG_URL") or os.environ.get("METAADS_TEST_PG_URL") or DEFAULT_PG_URL


def mysql_url() -> str:
    return os.environ.get("METAADS_BENCH_MYSQL_URL") or os.environ.get("METAADS_TEST_MYSQL_URL") or DEFAULT_MYSQL_URL


def _peak_rss_mb() -> float:
    return peak_rss_mb()  # this child's own peak, not the parent's inherited ru_maxrss


def bench_accounts() -> list[Account]:
    return parse_accounts(
        ",".join(f"act_{9_100_000_000 + i}:bm_{i:02d}:Compte été {i}" for i in range(1, N_ACCOUNTS + 1))
    )


# ---------------------------------------------------------------------------- warehouse data

_ADS_SQL = """
INSERT INTO {table} (unique_id, account_id, account_name, campaign_id, campaign_name, campaign_status,
    adset_id, adset_name, ad_id, ad_name, objective, spend, clicks, inline_link_clicks, impressions, reach,
    currency, date, loaded_at)
SELECT md5(:account || '|' || ad || '|' || d::date), :account, :account_name,
    (238500000000 + ad % 7)::text, 'Campagne d''été ' || (ad % 7) || ' 🌸', 'ACTIVE',
    (238600000000 + ad % 31)::text, 'Ensemble ' || (ad % 31),
    (238700000000 + ad)::text, 'Anúncio nº ' || ad || ' — 日本', 'OUTCOME_SALES',
    ((ad * 7919 + extract(doy FROM d)::int * 104729) % 100000) / 100.0,
    (ad * 31 + extract(doy FROM d)::int) % 500,
    (ad * 17 + extract(doy FROM d)::int) % 300,
    (ad * 131 + extract(doy FROM d)::int * 7) % 20000 + 500,
    CASE WHEN ad % 10 = 0 THEN NULL ELSE (ad * 97) % 15000 + 100 END,
    'EUR', d::date, :loaded_at
FROM generate_series(CAST(:since AS date), CAST(:until AS date), interval '1 day') AS d,
     generate_series(1, :ads) AS ad
"""

_ACTIONS_SQL = """
INSERT INTO {actions} (unique_id, account_id, ad_id, date, action_type, value, action_value, loaded_at)
SELECT md5(a.unique_id || '|' || k.t), a.account_id, a.ad_id, a.date, k.t,
    CASE k.t WHEN 'link_click' THEN a.inline_link_clicks WHEN 'post_engagement' THEN a.clicks + 3
             ELSE 1.5 END,
    CASE WHEN k.t = 'purchase' THEN a.spend * 3 END, a.loaded_at
FROM {table} AS a CROSS JOIN (VALUES ('link_click'), ('post_engagement'), ('purchase')) AS k(t)
WHERE k.t <> 'purchase' OR a.ad_id::bigint % 5 = 0
"""


def fill_warehouse(engine: sa.Engine, schema: str, rows: int) -> dict[str, int]:
    """Create the warehouse and fill ``rows`` ads rows (and actions) server-side; return the counts."""
    accounts = bench_accounts()
    warehouse = Warehouse(engine, schema)
    warehouse.init(accounts)
    ads_per_day = math.ceil(rows / (N_ACCOUNTS * DAYS))
    since, until = TODAY - timedelta(days=DAYS - 1), TODAY
    run_id = warehouse.start_run(trigger="bench", accounts=len(accounts))
    preparer = engine.dialect.identifier_preparer
    for account in accounts:
        ads, actions = (
            f"{preparer.quote_schema(schema)}.{preparer.quote(name)}" for name in (account.table, account.actions_table)
        )
        with engine.begin() as conn:
            conn.execute(
                sa.text(_ADS_SQL.format(table=ads)),
                {
                    "account": account.id,
                    "account_name": account.label,
                    "since": since,
                    "until": until,
                    "ads": ads_per_day,
                    "loaded_at": LOADED_AT,
                },
            )
            conn.execute(sa.text(_ACTIONS_SQL.format(table=ads, actions=actions)))
        warehouse.record_account_run(run_id, account, ChunkResult(DateRange(since, until), AccountStatus.LOADED))
    warehouse.finish_run(run_id, status="success", accounts_failed=0)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.exec_driver_sql("CHECKPOINT")
    return checksum(engine, schema, (ADS_VIEW, ACTIONS_VIEW), window_start(TODAY, DAYS))


def checksum(engine: sa.Engine, schema: str | None, names: tuple[str, str], start: date) -> dict[str, Any]:
    """Counts and sums of an (ads, actions) pair of tables or views from ``start``."""
    preparer = engine.dialect.identifier_preparer

    def name(table: str) -> str:
        quoted = preparer.quote(table)
        return quoted if schema is None else f"{preparer.quote_schema(schema)}.{quoted}"

    with engine.connect() as conn:
        ads = conn.execute(
            sa.text(
                "SELECT count(*), sum(spend), sum(clicks), sum(reach), count(DISTINCT unique_id) "
                f"FROM {name(names[0])} WHERE date >= :start"
            ),
            {"start": start},
        ).one()
        actions = conn.execute(
            sa.text(f"SELECT count(*), sum(value), sum(action_value) FROM {name(names[1])} WHERE date >= :start"),
            {"start": start},
        ).one()
    # sum() of no rows is NULL: a window with no row (small runs) sums to 0.
    ads = [0 if value is None else value for value in ads]
    actions = [0 if value is None else value for value in actions]
    return {
        "ads": [int(ads[0]), f"{ads[1]:.2f}", int(ads[2]), int(ads[3]), int(ads[4])],
        "actions": [int(actions[0]), f"{actions[1]:.2f}", f"{actions[2]:.2f}"],
    }


# ---------------------------------------------------------------------------- measurements (children)


def _reload_ledger(engine: sa.Engine, schema: str) -> None:
    """Record that the last INCREMENTAL_DAYS of every account were loaded again (a normal run)."""
    warehouse = Warehouse(engine, schema)
    accounts = bench_accounts()
    run_id = warehouse.start_run(trigger="bench", accounts=len(accounts))
    for account in accounts:
        warehouse.record_account_run(
            run_id,
            account,
            ChunkResult(DateRange(TODAY - timedelta(days=INCREMENTAL_DAYS - 1), TODAY), AccountStatus.LOADED),
        )
    warehouse.finish_run(run_id, status="success", accounts_failed=0)


def measure_metaads(
    source_url: str, source_schema: str, target_url: str, target_schema: str, retention_days: int
) -> dict[str, Any]:
    source = sa.create_engine(source_url, pool_size=THREADS + 2, max_overflow=THREADS)
    target = sa.create_engine(target_url, pool_size=THREADS + 1, max_overflow=THREADS)
    started = time.perf_counter()
    result = sync_analytics(
        source,
        source_schema,
        target,
        target_schema,
        SyncOptions(full=True, threads=THREADS, retention_days=retention_days, today=TODAY),
    )
    seconds = time.perf_counter() - started
    _reload_ledger(source, source_schema)
    started = time.perf_counter()
    incremental = sync_analytics(
        source,
        source_schema,
        target,
        target_schema,
        SyncOptions(threads=THREADS, retention_days=retention_days, today=TODAY),
    )
    incremental_s = time.perf_counter() - started
    source.dispose()
    target.dispose()
    return {
        "ads_rows": result.ads_rows,
        "actions_rows": result.actions_rows,
        "seconds": seconds,
        "method": result.method,
        "slices": len(result.slices),
        "incremental": {
            "mode": incremental.mode,
            "slices": len(incremental.slices),
            "ads_rows": incremental.ads_rows,
            "actions_rows": incremental.actions_rows,
            "seconds": round(incremental_s, 2),
        },
    }


def measure_pandas(
    source_url: str, source_schema: str, target_url: str, target_schema: str, retention_days: int
) -> dict[str, Any]:
    from bench.baseline.sync_pandas import sync_pandas

    source = sa.create_engine(source_url)
    target = sa.create_engine(target_url, pool_size=THREADS, max_overflow=THREADS)
    started = time.perf_counter()
    counts = sync_pandas(
        source, source_schema, target, target_schema, start=window_start(TODAY, retention_days), threads=THREADS
    )
    seconds = time.perf_counter() - started
    source.dispose()
    target.dispose()
    return {"ads_rows": counts["graph_ads"], "actions_rows": counts["graph_ads_actions"], "seconds": seconds}


MEASURES = {"metaads": measure_metaads, "pandas": measure_pandas}


def _child(args: argparse.Namespace) -> None:
    rss_before = _peak_rss_mb()
    result = MEASURES[args.child](
        args.source_url, args.source_schema, args.target_url, args.target_schema, args.retention_days
    )
    result.update(rss_after_imports_mb=round(rss_before, 1), peak_rss_mb=round(_peak_rss_mb(), 1))
    print(json.dumps(result))


# ---------------------------------------------------------------------------- orchestration (parent)


def _fresh_target(url: str) -> tuple[sa.Engine, str]:
    """A new empty schema (PostgreSQL) or database (MariaDB) holding empty target tables."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    schema = f"bench_an_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        ensure_targets(conn, analytics_tables(sa.MetaData(), schema=schema), evolve=False)
    return engine, schema


def _drop(engine: sa.Engine, schema: str) -> None:
    statement = (
        f"DROP DATABASE IF EXISTS `{schema}`"
        if engine.dialect.name in ("mysql", "mariadb")
        else f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'
    )
    with engine.begin() as conn:
        conn.exec_driver_sql(statement)
    engine.dispose()


def measure(
    kind: str,
    source_url: str,
    source_schema: str,
    target_url: str,
    retention_days: int,
    expected: dict[str, Any] | None,
) -> dict[str, Any]:
    """Run one measurement in a subprocess against fresh target tables; check and return its figures."""
    engine, schema = _fresh_target(target_url)
    try:
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.scenario_sync",
                "--child",
                kind,
                "--source-url",
                source_url,
                "--source-schema",
                source_schema,
                "--target-url",
                target_url,
                "--target-schema",
                schema,
                "--retention-days",
                str(retention_days),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"{kind} measurement failed:\n{completed.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
        result["checksum"] = checksum(engine, schema, ("graph_ads", "graph_ads_actions"), date.min)
    finally:
        _drop(engine, schema)
    if expected is not None and result["checksum"] != expected:
        raise RuntimeError(f"{kind} into {target_url} copied different data: {result['checksum']} != {expected}")
    rows = result["ads_rows"] + result["actions_rows"]
    result["rows_per_s"] = round(rows / result["seconds"])
    result["ads_rows_per_s"] = round(result["ads_rows"] / result["seconds"])
    return result


def run(rows: int = 1_000_000, quick: bool = False, pandas_rows: int | None = None) -> dict[str, Any]:
    """Fill a warehouse, then measure metaads and the pandas baseline into PostgreSQL and MariaDB."""
    if quick:
        rows = min(rows, 50_000)
    source_url, target_urls = pg_url(), {"pg": pg_url(), "mariadb": mysql_url()}
    pandas_days = DAYS if not pandas_rows or pandas_rows >= rows else max(1, round(DAYS * pandas_rows / rows))
    source = sa.create_engine(source_url, poolclass=sa.pool.NullPool)
    source_schema = f"bench_wh_{uuid.uuid4().hex[:10]}"
    results: dict[str, Any] = {"rows": rows, "threads": THREADS}
    try:
        started = time.perf_counter()
        full = fill_warehouse(source, source_schema, rows)
        results["warehouse"] = {"checksum": full, "fill_seconds": round(time.perf_counter() - started, 1)}
        partial = (
            full
            if pandas_days == DAYS
            else checksum(source, source_schema, (ADS_VIEW, ACTIONS_VIEW), window_start(TODAY, pandas_days))
        )
        for name, url in target_urls.items():
            results[f"metaads_{name}"] = measure("metaads", source_url, source_schema, url, DAYS, full)
            results[f"pandas_{name}"] = measure("pandas", source_url, source_schema, url, pandas_days, partial)
            results[f"vs_pandas_{name}"] = round(
                results[f"metaads_{name}"]["rows_per_s"] / results[f"pandas_{name}"]["rows_per_s"], 1
            )
    finally:
        _drop(source, source_schema)
    return results


def _report(results: dict[str, Any]) -> str:
    wh = results["warehouse"]["checksum"]
    lines = [
        f"warehouse: {wh['ads'][0]:,} ads rows + {wh['actions'][0]:,} actions rows "
        f"({N_ACCOUNTS} accounts x {DAYS} days), {THREADS} threads everywhere",
        "",
        "| sync | ads rows | actions rows | seconds | rows/s (all) | ads rows/s | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "metaads_pg": "metaads PG -> PG",
        "pandas_pg": "original (pandas) PG -> PG",
        "metaads_mariadb": "metaads PG -> MariaDB",
        "pandas_mariadb": "original (pandas) PG -> MariaDB",
    }
    for key, label in labels.items():
        r = results[key]
        method = f" ({r['method']})" if "method" in r else ""
        lines.append(
            f"| {label}{method} | {r['ads_rows']:,} | {r['actions_rows']:,} | {r['seconds']:.1f} | "
            f"{r['rows_per_s']:,} | {r['ads_rows_per_s']:,} | {r['peak_rss_mb']:.0f} |"
        )
    lines.append("")
    for name in ("pg", "mariadb"):
        inc = results[f"metaads_{name}"]["incremental"]
        lines.append(
            f"metaads vs pandas, PG -> {name}: {results[f'vs_pandas_{name}']}x (target >= 5x); "
            f"incremental after a {INCREMENTAL_DAYS}-day reload: {inc['slices']} slices, "
            f"{inc['ads_rows'] + inc['actions_rows']:,} rows in {inc['seconds']}s"
        )
    if results["pandas_pg"]["ads_rows"] != results["metaads_pg"]["ads_rows"]:
        lines.append(
            f"pandas measured on a shorter window ({results['pandas_pg']['ads_rows']:,} ads rows); "
            "rows/s is the comparable figure"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pandas-rows", type=int, default=None, help="measure pandas on a shorter window")
    parser.add_argument("--quick", action="store_true", help="50,000 rows")
    parser.add_argument("--child", choices=sorted(MEASURES), help=argparse.SUPPRESS)
    parser.add_argument("--source-url", help=argparse.SUPPRESS)
    parser.add_argument("--source-schema", help=argparse.SUPPRESS)
    parser.add_argument("--target-url", help=argparse.SUPPRESS)
    parser.add_argument("--target-schema", help=argparse.SUPPRESS)
    parser.add_argument("--retention-days", type=int, default=DAYS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return 0
    results = run(args.rows, quick=args.quick, pandas_rows=args.pandas_rows)
    print(_report(results))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"sync-{results['rows']}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nfigures saved to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
