"""The original design's sync, followed literally, as the sync benchmark's baseline.

``DatabaseManager`` synced PostgreSQL to SQL Server like this (original-design.md, "Sync Strategy"):

1. query the PostgreSQL view, filtered by the retention days (``pd.read_sql``: the whole window in
   one DataFrame);
2. preprocess the data (JSON-serialise nested values);
3. validate the columns against the target schema;
4. DELETE the old data from the target;
5. INSERT in parallel with a ``ThreadPoolExecutor`` (8 threads), ``DataFrame.to_sql(chunksize=1000)``;
6. commit.

The target tables are ours (created beforehand, not timed) so both approaches fill identical tables.
The pandas steps are the efficient ones (no ``iterrows``), so the comparison measures the design.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pandas as pd
import sqlalchemy as sa

from metaads.sync.targets import analytics_tables, schema_for


def _serialise(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (dict, list)) else value


def sync_table(
    source: sa.Engine,
    source_schema: str | None,
    target: sa.Engine,
    target_schema: str | None,
    view: str,
    table: sa.Table,
    start: date,
    *,
    threads: int = 8,
    chunksize: int = 1000,
) -> int:
    """Copy one view into one table the original way; return the rows inserted."""
    preparer = source.dialect.identifier_preparer
    name = preparer.quote(view)
    if source_schema is not None:
        name = f"{preparer.quote_schema(source_schema)}.{name}"
    # 1. the whole retention window in memory
    frame = pd.read_sql(sa.text(f"SELECT * FROM {name} WHERE date >= :start"), source, params={"start": start})
    # 2. JSON serialisation of nested values (object columns only)
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(_serialise)
    # 3. column validation
    existing = {c["name"] for c in sa.inspect(target).get_columns(table.name, schema=target_schema)}
    missing = [c for c in frame.columns if c not in existing]
    if missing:
        raise RuntimeError(f"{table.name} lacks columns {missing}")
    # 4. delete the old data
    with target.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.date >= start))
    # 5. parallel inserts, chunksize=1000
    parts = [frame.iloc[i::threads] for i in range(threads)]

    def insert(part: pd.DataFrame) -> int:
        part.to_sql(table.name, target, schema=target_schema, if_exists="append", index=False, chunksize=chunksize)
        return len(part)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return sum(pool.map(insert, parts))


def sync_pandas(
    source: sa.Engine,
    source_schema: str | None,
    target: sa.Engine,
    target_schema: str | None,
    *,
    start: date,
    threads: int = 8,
    chunksize: int = 1000,
) -> dict[str, int]:
    """The original sync of both views; returns rows inserted per target table."""
    source_schema = schema_for(source, source_schema)
    target_schema = schema_for(target, target_schema)
    counts: dict[str, int] = {}
    for pair in analytics_tables(sa.MetaData(), schema=target_schema):
        counts[pair.table.name] = sync_table(
            source,
            source_schema,
            target,
            target_schema,
            pair.view,
            pair.table,
            start,
            threads=threads,
            chunksize=chunksize,
        )
    return counts
