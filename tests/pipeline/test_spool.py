from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timezone
from itertools import islice
from typing import Any

from metaads.pipeline.spool import RowSpool
from metaads.transform import to_ads_rows


def test_spool_replays_every_row_in_order_even_past_its_memory_limit() -> None:
    rows = [{"ad_id": str(i), "name": "北京 🚀 دبي", "spend": f"{i}.01"} for i in range(20_000)]
    with RowSpool(max_memory_bytes=4096) as spool:  # forces the temporary file
        spool.extend(rows[:7000])
        spool.extend(rows[7000:])
        assert spool.rows_written == 20_000
        assert list(spool.rows()) == rows


def test_two_replays_can_be_interleaved() -> None:
    with RowSpool(max_memory_bytes=64) as spool:
        spool.extend({"i": i} for i in range(5000))
        first, second = spool.rows(), spool.rows()
        pairs = [(next(first)["i"], next(second)["i"]) for _ in range(3000)]
        assert pairs == [(i, i) for i in range(3000)]
        assert sum(1 for _ in first) == 2000


def test_empty_spool_yields_nothing() -> None:
    with RowSpool() as spool:
        spool.extend([])
        assert list(spool.rows()) == []


def _api_rows(count: int) -> Iterator[dict[str, Any]]:
    for i in range(count):
        yield {
            "account_id": "1234567890",
            "account_name": "Acme EU",
            "campaign_id": "23850000000000001",
            "campaign_name": "Spring",
            "adset_id": "23850000000000101",
            "adset_name": "FR 18-34",
            "ad_id": str(23850000000001001 + i),
            "ad_name": f"Video {i}",
            "objective": "OUTCOME_TRAFFIC",
            "spend": "14.35",
            "clicks": "9",
            "inline_link_clicks": "7",
            "impressions": "185",
            "actions": [{"action_type": "link_click", "value": "7"}, {"action_type": "post_engagement", "value": "10"}],
            "action_values": [{"action_type": "purchase", "value": "59.90"}],
            "date_start": "2026-10-01",
            "date_stop": "2026-10-01",
        }


def _peak_bytes_of_spool_path(rows: int) -> int:
    """Peak Python memory of fetching ``rows`` in pages into a spool, then replaying them through a
    transform (as the entity loads replay their objects)."""
    loaded_at = datetime(2026, 11, 20, tzinfo=timezone.utc)
    tracemalloc.start()
    try:
        with RowSpool() as spool:
            source = _api_rows(rows)
            while page := list(islice(source, 500)):  # one page at a time, as the client yields them
                spool.extend(page)
            del page
            tracemalloc.reset_peak()
            for _ in to_ads_rows(spool.rows(), campaign_status={}, currency="EUR", loaded_at=loaded_at):
                pass
            _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def test_spool_and_transforms_hold_no_list_of_the_rows_memory_does_not_grow_with_them() -> None:
    # Not timed: traced allocations. Ten times the rows must not take more memory to replay; a list of
    # the rows anywhere on the way (or a spool keeping them all in memory) would take ten times as much.
    small, large = _peak_bytes_of_spool_path(1_000), _peak_bytes_of_spool_path(10_000)
    assert large < 1.3 * small + 256 * 1024, (small, large)
    assert large < 4 * 1024 * 1024
