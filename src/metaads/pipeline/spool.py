"""A spool of fetched insights rows: memory up to a limit, then a temporary file.

A range is loaded only once it has been fetched completely (a failed fetch must leave the warehouse
untouched), so fetched rows wait somewhere. Keeping them as JSON lines in a spooled temporary file
bounds memory whatever the range's size, and lets the loader read the rows twice (ads, then actions).
Rows are written and replayed in records of at most ``RECORD_ROWS`` rows: no list of a chunk's rows is
ever built, so a process's memory does not depend on how many rows it fetched.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import IO, Any

import orjson

# Every account of a run spools at once (one thread each), so the in-memory part is kept small: past it
# the rows go to a temporary file (the OS page cache, not this process's memory, holds it).
DEFAULT_MEMORY_BYTES = 256 * 1024
# Rows are stored in records (one JSON array per line): one write and one parse per record rather than
# per row (writing 100,000 rows took half the CPU; replaying, about the same). Records are kept small, not
# a whole page, because a replay holds one record parsed and several loads replay at once.
RECORD_ROWS = 100


class RowSpool:
    """Append-then-replay storage for insights rows (dicts in the API's JSON shape)."""

    def __init__(self, max_memory_bytes: int = DEFAULT_MEMORY_BYTES) -> None:
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=max_memory_bytes)  # noqa: SIM115
        self._end = 0
        self.rows_written = 0

    def extend(self, rows: Iterable[dict[str, Any]]) -> None:
        self._file.seek(self._end)
        source = iter(rows)
        while batch := list(islice(source, RECORD_ROWS)):
            self._file.write(orjson.dumps(batch, option=orjson.OPT_APPEND_NEWLINE))
            self.rows_written += len(batch)
        self._end = self._file.tell()

    def rows(self) -> Iterator[dict[str, Any]]:
        """Replay every row in order, holding one record at a time. Several replays may be interleaved
        (each keeps its position)."""
        position = 0
        while position < self._end:
            self._file.seek(position)
            line = self._file.readline()
            position += len(line)
            batch: list[dict[str, Any]] = orjson.loads(line)
            del line
            yield from batch
            del batch

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RowSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
