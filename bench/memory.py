"""Scenario 4: peak memory (RSS) of scenarios 1-3, and of the load at 10x fewer rows.

Every measurement of scenarios 1-3 already runs in a subprocess of its own and reports that process's
peak RSS (``ru_maxrss``), so this scenario gathers those figures side by side. The load scenario
measures metaads at a tenth of the rows too; here the pandas baseline is measured at that size as well,
so both pipelines' growth with the data shows: metaads streams (flat), pandas holds everything (grows).
"""

from __future__ import annotations

from typing import Any


def _rows(result: dict[str, Any]) -> int:
    return int(result["ads_rows"])


def _pair(
    what: str, metaads: dict[str, Any] | None, baseline: dict[str, Any] | None, limit: str = "—"
) -> dict[str, Any]:
    item: dict[str, Any] = {"what": what, "limit": limit}
    if metaads is not None:
        item["metaads_mb"] = metaads["peak_rss_mb"]
    if baseline is not None:
        item["baseline_mb"] = baseline["peak_rss_mb"]
        if metaads is not None and "ads_rows" in metaads and _rows(baseline) != _rows(metaads):
            item["what"] += f" (baseline on {_rows(baseline):,})"
    return item


def run(results: dict[str, Any], *, url: str | None = None, measure_pandas_small: bool = True) -> dict[str, Any]:
    """Peak RSS per scenario from the results of scenarios 1-3 (and one more pandas load)."""
    items: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    e2e = results.get("e2e")
    if e2e:
        items.append(
            _pair("end to end, first run (one process per pipeline)", e2e["metaads"]["day1"], e2e["baseline"]["day1"])
        )
    load = results.get("load")
    if load:
        big, small = load["metaads"], load["metaads_small"]
        items.append(
            _pair(
                f"load {_rows(big):,} ads rows", big, load["pandas"], f"raw COPY {load['raw_copy']['peak_rss_mb']:.0f}"
            )
        )
        pandas_small: dict[str, Any] | None = None
        if measure_pandas_small:
            from bench.scenario_load import measure, pg_url

            pandas_small = measure("pandas", _rows(small), url or pg_url())
            extra["pandas_small"] = pandas_small
        items.append(_pair(f"load {_rows(small):,} ads rows", small, pandas_small))
    sync = results.get("sync")
    if sync:
        for target, label in (("pg", "PostgreSQL"), ("mariadb", "MariaDB")):
            m = sync[f"metaads_{target}"]
            items.append(_pair(f"sync {_rows(m):,} ads rows + actions to {label}", m, sync[f"pandas_{target}"]))
    return {"items": items, **extra}
