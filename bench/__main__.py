"""The benchmark suite: every scenario, one table, ``docs/benchmarks.md``.

    .venv/bin/python -m bench [--quick] [--only SCENARIO ...] [--output PATH] [--factor N]

Scenarios, in the order they run: ``e2e`` (1 and 5: end to end at the original design's scale, then
the next day's re-run), ``extract`` (1a: extraction only, vs the latency-bound ideal), ``load`` (2),
``standard`` (6: standard tier vs the API/load bound, and metaads's memory at ~5k and ~1M rows),
``sync`` (3), ``reports`` (the default report alone, with two extra reports in one run, and the
three one after another), ``memory`` (4: gathers the peak RSS of the others, plus one pandas load at 10x
fewer rows), ``reconcile`` (7: RECONCILE=strict vs off: extra calls and time, rows lost to short answers).
The full run writes ``docs/benchmarks.md``; ``--quick`` (small sizes, a few minutes) and
partial runs write ``bench/results/benchmarks-<profile>.md`` unless ``--output`` says otherwise.
Raw figures go to ``bench/results/suite-<profile>.json``. Exit status 1 when a scenario failed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import report

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
SCENARIOS = ("e2e", "extract", "load", "standard", "sync", "reports", "memory", "reconcile")


@dataclass(frozen=True)
class Profile:
    """Sizes and repetitions of one kind of suite run."""

    name: str
    e2e: str  # a profile of bench.scenario_e2e
    extract_quick: bool
    extract_repeats: int
    load_rows: int
    load_pandas_rows: int | None  # None: pandas on all the rows
    sync_rows: int
    sync_pandas_rows: int | None
    repeats: int  # load and sync


PROFILES = {
    # pandas reads the whole sync window into memory (gigabytes at 1M rows): its rows/s is measured on
    # a 20% window, which is comparable since both sides are measured in rows per second.
    "full": Profile(
        "full",
        e2e="full",
        extract_quick=False,
        extract_repeats=3,
        load_rows=1_000_000,
        load_pandas_rows=None,
        sync_rows=1_000_000,
        sync_pandas_rows=200_000,
        repeats=1,
    ),
    "quick": Profile(
        "quick",
        e2e="quick",
        extract_quick=True,
        extract_repeats=3,
        load_rows=20_000,
        load_pandas_rows=None,
        sync_rows=20_000,
        sync_pandas_rows=None,
        repeats=1,
    ),
    # For tests/bench: everything, tiny.
    "smoke": Profile(
        "smoke",
        e2e="smoke",
        extract_quick=True,
        extract_repeats=1,
        load_rows=2_000,
        load_pandas_rows=None,
        sync_rows=9_000,
        sync_pandas_rows=None,
        repeats=1,
    ),
}


# ---------------------------------------------------------------------------- medians


def median_merge(runs: list[Any]) -> Any:
    """One result from several runs of a scenario: the median of every number, the first of the rest."""
    first = runs[0]
    if isinstance(first, bool) or first is None:
        return first
    if isinstance(first, (int, float)) and all(isinstance(r, (int, float)) and not isinstance(r, bool) for r in runs):
        return statistics.median(runs)
    if isinstance(first, dict) and all(isinstance(r, dict) for r in runs):
        return {key: median_merge([r.get(key) for r in runs]) for key in first}
    return first


def repeated(
    times: int, measure: Callable[[], dict[str, Any]], sample: Callable[[dict[str, Any]], Any]
) -> dict[str, Any]:
    """Run ``measure`` ``times`` times; the median result, with each run's ``sample`` kept."""
    runs = [measure() for _ in range(max(1, times))]
    merged: dict[str, Any] = median_merge(runs)
    merged["runs"] = len(runs)
    merged["samples"] = [sample(r) for r in runs]
    return merged


# ---------------------------------------------------------------------------- scenarios


def _e2e(profile: Profile, results: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from bench import scenario_e2e

    return scenario_e2e.run(profile=profile.e2e, factor=args.factor)


def _extract(profile: Profile, results: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from bench import scenario_extract

    return repeated(
        profile.extract_repeats,
        lambda: scenario_extract.run(profile.extract_quick),
        lambda r: {"wall_s": r["wall_s"], "ideal_s": r["ideal_s"]},
    )


def _load(profile: Profile, results: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from bench import scenario_load

    keys = ("metaads", "metaads_small", "pandas", "raw_copy")
    return repeated(
        profile.repeats,
        lambda: scenario_load.run(rows=profile.load_rows, pandas_rows=profile.load_pandas_rows),
        lambda r: {k: r[k]["rows_per_s"] for k in keys},
    )


def _standard(profile: Profile, results: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from bench import scenario_standard

    return scenario_standard.run(profile.name, prior=results)


def _sync(profile: Profile, results: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from bench import scenario_sync

    keys = ("metaads_pg", "pandas_pg", "metaads_mariadb", "pandas_mariadb")
    return repeated(
        profile.repeats,
        lambda: scenario_sync.run(rows=profile.sync_rows, pandas_rows=profile.sync_pandas_rows),
        lambda r: {k: r[k]["rows_per_s"] for k in keys},
    )


def _reports(profile: Profile, results: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from bench import scenario_reports

    return scenario_reports.run(profile=profile.e2e)


def _memory(profile: Profile, results: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from bench import memory

    return memory.run(results)


def _reconcile(profile: Profile, results: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from bench import scenario_reconcile

    return scenario_reconcile.run(profile=profile.name)


RUNNERS: dict[str, Callable[[Profile, dict[str, Any], argparse.Namespace], dict[str, Any]]] = {
    "e2e": _e2e,
    "extract": _extract,
    "load": _load,
    "standard": _standard,
    "sync": _sync,
    "reports": _reports,
    "memory": _memory,
    "reconcile": _reconcile,
}
_MARK = "BENCH-RESULT "


def run_scenario(name: str, profile: Profile, results: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Run one scenario in a fresh interpreter and return its figures.

    Measurements report their subprocess's peak RSS, and on Linux a child's ``ru_maxrss`` starts at its
    parent's RSS: a suite process grown by earlier scenarios would inflate every later figure. A fresh,
    small process per scenario keeps them what the scenario scripts report when run alone.
    """
    with tempfile.TemporaryDirectory(prefix="metaads-bench-") as folder:
        prior = Path(folder) / "prior.json"
        prior.write_text(json.dumps(results, default=str), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "bench",
            "--scenario-child",
            name,
            "--prior",
            str(prior),
            "--profile",
            profile.name,
        ]
        if args.factor:
            command += ["--factor", str(args.factor)]
        completed = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    lines = [line for line in completed.stdout.splitlines() if line.startswith(_MARK)]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"scenario {name} exited with status {completed.returncode}: {completed.stdout[-2000:]}")
    figures: dict[str, Any] = json.loads(lines[-1][len(_MARK) :])
    return figures


def _scenario_child(name: str, profile: Profile, prior: Path, args: argparse.Namespace) -> int:
    results = json.loads(prior.read_text(encoding="utf-8"))
    figures = RUNNERS[name](profile, results, args)
    print(_MARK + json.dumps(figures, default=str), flush=True)
    return 0


# ---------------------------------------------------------------------------- details


def _details(results: dict[str, Any]) -> str:
    parts = ["## Details", ""]
    if "e2e" in results:
        from bench import scenario_e2e

        e2e = results["e2e"]
        parts += ["### 1 and 5: end to end, and the next day's re-run", "", scenario_e2e.report(e2e), ""]
        m, b = e2e["metaads"]["day1"], e2e["baseline"]["day1"]
        parts += [
            f"Waiting: metaads spent {m['waited_s']:,.0f} s (sum over accounts) holding back, "
            f"{m['slowdown_s']:,.0f} s of it slowing down before any quota ran out; the baseline waited "
            f"{b['waited_s']:,.0f} s in fixed 60 s waits after {b['throttled_errors']} throttling errors. "
            f"Load work (real seconds, all accounts): metaads {m['work_real_s']:.1f} s, baseline "
            f"{b['work_real_s']:.1f} s. Real wall time of the compressed runs: metaads {m['wall_real_s']:.0f} s, "
            f"baseline {b['wall_real_s']:.0f} s. Warehouse after run 1: "
            f"{e2e['metaads']['day1']['warehouse']['ads_rows']:,} ads rows (metaads) and "
            f"{e2e['baseline']['day1']['warehouse']['ads_rows']:,} (baseline); after run 2: "
            f"{e2e['metaads']['day2']['warehouse']['ads_rows']:,} and "
            f"{e2e['baseline']['day2']['warehouse']['ads_rows']:,} over "
            f"{e2e['metaads']['day2']['warehouse']['days']} days, duplicates: "
            f"{e2e['metaads']['day2']['warehouse']['duplicate_ads_rows']} and "
            f"{e2e['baseline']['day2']['warehouse']['duplicate_ads_rows']}.",
            "",
            _held_back(e2e),
            "",
        ]
    if "extract" in results:
        x = results["extract"]
        walls = ", ".join(f"{s['wall_s']:.2f}" for s in x["samples"])
        parts += [
            "### 1a: extraction only",
            "",
            f"{x['accounts']} accounts x {x['days']} days ({x['ads_per_account']} ads each), "
            f"{x['latency_s'] * 1000:.0f} ms real latency, {x['concurrency']} accounts at a time: "
            f"{x['calls']:.0f} calls, {x['rows']:,.0f} rows; wall {walls} s (median {x['wall_s']:.2f} s) "
            f"vs ideal {x['ideal_s']:.2f} s; throttled {x['throttled_errors']:.0f} times.",
            "",
        ]
    if "load" in results:
        load = dict(results["load"])
        if "pandas_small" in results.get("memory", {}):
            load["pandas_small"] = results["memory"]["pandas_small"]  # measured by scenario 4
        parts += [
            "### 2: load",
            "",
            _measure_table(
                load,
                {
                    "metaads": "metaads (transform + binary COPY)",
                    "metaads_small": "metaads, fewer rows",
                    "pandas": "original design (pandas to_sql, chunksize=1000)",
                    "pandas_small": "original design, fewer rows (scenario 4)",
                    "raw_copy": "raw COPY of CSV files",
                },
            ),
            "",
        ]
    if "standard" in results:
        from bench import scenario_standard

        parts += ["### 6: standard tier, and memory by size", "", scenario_standard.report(results["standard"]), ""]
    if "sync" in results:
        parts += [
            "### 3: sync",
            "",
            _measure_table(
                results["sync"],
                {
                    "metaads_pg": "metaads PG -> PG",
                    "pandas_pg": "original (pandas, 8 threads) PG -> PG",
                    "metaads_mariadb": "metaads PG -> MariaDB",
                    "pandas_mariadb": "original (pandas, 8 threads) PG -> MariaDB",
                },
            ),
            "",
        ]
        for target in ("pg", "mariadb"):
            inc = results["sync"][f"metaads_{target}"].get("incremental")
            if inc:
                parts.append(
                    f"metaads incremental sync to {target} after a 15-day re-load: {inc['slices']:.0f} "
                    f"slices, {inc['ads_rows'] + inc['actions_rows']:,.0f} rows in {inc['seconds']:.1f} s."
                )
        parts.append("")
    if "reports" in results:
        from bench import scenario_reports

        parts += [
            "### Extra insights reports: one run vs one after another",
            "",
            scenario_reports.report(results["reports"]),
            "",
        ]
    if "reconcile" in results:
        from bench import scenario_reconcile

        parts += [
            "### 7: reconciliation with Meta's account-level totals",
            "",
            scenario_reconcile.report(results["reconcile"]),
            "",
        ]
    return "\n".join(parts)


def _held_back(e2e: dict[str, Any]) -> str:
    """Accounts whose calls fit in the quota, yet waited: the cost of slowing down before 100 %."""
    score_max = e2e["quota"]["score_max"]
    lines = []
    for kind in ("metaads", "baseline"):
        run = e2e[kind]["day1"]
        fitting = [a for a in run["accounts"] if run["needed_calls"].get(a["account_id"], 0) <= score_max]
        held = [a for a in fitting if a["waited_s"] > 0]
        mean = sum(a["waited_s"] for a in held) / len(held) if held else 0.0
        spans = [a["end_s"] - a["start_s"] for a in run["accounts"]]
        lines.append(
            f"{kind}: {len(fitting)} of {len(run['accounts'])} accounts needed no more than {score_max} "
            f"calls (the quota); {len(held)} of those still waited (on average {mean:,.0f} s). "
            f"Time per account: {min(spans):,.0f} to {max(spans):,.0f} s."
        )
    return " ".join(lines)


def _measure_table(results: dict[str, Any], labels: dict[str, str]) -> str:
    lines = [
        "| measurement | ads rows | actions rows | seconds | rows/s | peak RSS (MB) | runs (rows/s) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for key, label in labels.items():
        r = results.get(key)
        if not r:
            continue
        samples = ", ".join(f"{s[key]:,.0f}" for s in results.get("samples", []) if key in s)
        lines.append(
            f"| {label} | {r['ads_rows']:,.0f} | {r['actions_rows']:,.0f} | {r['seconds']:.1f} | "
            f"{r['rows_per_s']:,.0f} | {r['peak_rss_mb']:.0f} | {samples} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------- main


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a few minutes")
    parser.add_argument("--profile", choices=sorted(PROFILES), help=argparse.SUPPRESS)
    parser.add_argument(
        "--only",
        action="append",
        choices=SCENARIOS,
        metavar="SCENARIO",
        help=f"run only this scenario (repeatable): {', '.join(SCENARIOS)}",
    )
    parser.add_argument("--output", type=Path, help="where to write the markdown report")
    parser.add_argument("--results-dir", type=Path, default=RESULTS, help="where to write the raw JSON")
    parser.add_argument(
        "--factor", type=float, default=None, help="e2e time compression: simulated seconds per real second"
    )
    parser.add_argument("--scenario-child", choices=SCENARIOS, help=argparse.SUPPRESS)
    parser.add_argument("--prior", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    profile = PROFILES[args.profile or ("quick" if args.quick else "full")]
    if args.scenario_child:
        return _scenario_child(args.scenario_child, profile, args.prior, args)
    chosen = [s for s in SCENARIOS if not args.only or s in args.only]
    complete = chosen == list(SCENARIOS)
    output = args.output or (
        DOCS
        if profile.name == "full" and complete
        else RESULTS / f"benchmarks-{profile.name}{'' if complete else '-partial'}.md"
    )
    from bench.scenario_sync import mysql_url, pg_url

    started, started_perf, load_start = datetime.now(timezone.utc), time.perf_counter(), report.load_average()
    results: dict[str, Any] = {"profile": profile.name, "errors": {}, "timings_s": {}}
    for name in chosen:
        print(f"== {name} ({profile.name}) ...", flush=True)
        began = time.perf_counter()
        try:
            results[name] = run_scenario(name, profile, results, args)
        except Exception:  # noqa: BLE001 - one broken scenario must not hide the others' figures
            results["errors"][name] = traceback.format_exc()
            print(results["errors"][name], file=sys.stderr, flush=True)
        results["timings_s"][name] = round(time.perf_counter() - began, 1)
        print(f"   {name} took {results['timings_s'][name]:.0f} s", flush=True)
    duration = time.perf_counter() - started_perf
    info = report.machine(pg_url(), mysql_url())
    results["machine"] = info
    rows = report.build_rows(results)
    table = report.render_table(rows)
    print()
    print(table)
    markdown = report.render_markdown(
        results,
        rows,
        info,
        profile=profile.name,
        started=started,
        duration_s=duration,
        loads=(load_start, report.load_average()),
        details=_details(results),
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(markdown, encoding="utf-8")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    raw = args.results_dir / f"suite-{profile.name}.json"
    raw.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(f"\nreport written to {output}; raw figures in {raw}")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
