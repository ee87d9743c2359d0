"""A spool of fetched insights rows: memory up to a limit, then a temporary file.

A range is loaded only once it has been fetched completely (a failed fetch must leave the warehouse
untouched), so fetched rows wait somewhere. Keeping them as JSON lines in a spooled temporary file
bounds memory whatever the range's size, and lets the loader read the rows twice (ads, then actions).
Rows are written one by one and replayed one by one: no list of a chunk's rows is ever built, so a
process's memory does not depend on how many rows it fetched.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson

# Every account of a run spools at once (one thread each), so the in-memory part is kept small: past it
# the rows go to a temporary file (the OS page cache, not this process's memory, holds it).
DEFAULT_MEMORY_BYTES = 256 * 1024
_READ_BYTES = 256 * 1024


class RowSpool:
    """Append-then-replay storage for insights rows (dicts in the API's JSON shape)."""

    def __init__(self, max_memory_bytes: int = DEFAULT_MEMORY_BYTES) -> None:
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=max_memory_bytes)  # noqa: SIM115
        self._end = 0
        self.rows_written = 0

    def extend(self, rows: Iterable[dict[str, Any]]) -> None:
        self._file.seek(self._end)
        for row in rows:
            self._file.write(orjson.dumps(row))
            self._file.write(b"\n")
            self.rows_written += 1
        self._end = self._file.tell()

    def rows(self) -> Iterator[dict[str, Any]]:
        """Replay every row in order. Several replays may be interleaved (each keeps its position)."""
        position = 0
        pending = b""
        while position < self._end:
            self._file.seek(position)
            block = self._file.read(min(_READ_BYTES, self._end - position))
            position += len(block)
            lines = (pending + block).split(b"\n")
            pending = lines.pop()
            for line in lines:
                yield orjson.loads(line)
        if pending:
            yield orjson.loads(pending)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RowSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
