from __future__ import annotations

from metaads.pipeline.spool import RowSpool


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
