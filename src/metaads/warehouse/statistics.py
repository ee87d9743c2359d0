"""Planner statistics after bulk loads (PostgreSQL): a table a load largely rewrote is analyzed at once.

A load replaces a range with ``COPY``. Until autovacuum's next ``ANALYZE`` (a minute away at best, and
never within the run that loaded) the planner believes a table just filled with 100,000 rows holds a
few dozen and picks nested loops over it: the data-quality anti-join over the union views took 39 s
instead of 0.9 s after a first load of 10 accounts x 2,000 ads. So a load that changed about as much
as autovacuum waits for (50 rows + 10 % of the table) analyzes the table itself, right after it commits.

It analyzes only :data:`KEY_COLUMNS`: the row count (``reltuples``, which any ``ANALYZE`` sets) and the
columns the pipeline's own queries filter and join on are what the planner needs at once. Every column
of a standard-tier account (21k ads rows, 98k actions rows) took 345 ms of the server's CPU per load,
the key columns 83 ms. An ``ANALYZE`` of some columns leaves autovacuum's count of changed rows as it
was (``pg_stat_user_tables.n_mod_since_analyze``; a whole-table one resets it), so autovacuum still
analyzes every column soon after, in the background and at its own pace.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from metaads.database import DRIVER_ERRORS, driver_message

log = logging.getLogger("metaads.warehouse")

#: autovacuum's defaults (``autovacuum_analyze_threshold``, ``autovacuum_analyze_scale_factor``).
MIN_ROWS = 50
FRACTION = 0.1
#: Analyzed right after a load, those a table has (all columns if it has none): the quality checks'
#: range filters and anti-join, the sync's and reconciliation's range reads.
KEY_COLUMNS = ("account_id", "ad_id", "date")


def needs_analyze(changed_rows: int, estimated_rows: float) -> bool:
    """Whether ``changed_rows`` is enough change for a table the planner thinks holds ``estimated_rows``.

    ``estimated_rows`` is ``pg_class.reltuples``: -1 (PostgreSQL 14+) or 0 before any analyze.
    """
    if changed_rows < MIN_ROWS:
        return False
    if estimated_rows <= 0:
        return True
    return changed_rows >= MIN_ROWS + FRACTION * estimated_rows


def refresh_statistics(engine: sa.Engine, tables: list[tuple[sa.Table, int]]) -> list[str]:
    """``ANALYZE`` each (table, rows changed) that changed enough; the names analyzed.

    Other databases keep their own statistics (SQLite needs none at this size). A failure is logged,
    never raised: the load it follows has committed, and stale statistics only cost speed.
    """
    if engine.dialect.name != "postgresql":
        return []
    analyzed: list[str] = []
    try:
        with engine.begin() as conn:
            preparer = conn.dialect.identifier_preparer
            for table, changed in tables:
                name = preparer.format_table(table)
                estimated = conn.execute(
                    sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"), {"name": name}
                ).scalar()
                if estimated is not None and needs_analyze(changed, float(estimated)):
                    keys = [preparer.quote(column) for column in KEY_COLUMNS if column in table.c]
                    conn.exec_driver_sql(f"ANALYZE {name} ({', '.join(keys)})" if keys else f"ANALYZE {name}")
                    analyzed.append(table.name)
    except DRIVER_ERRORS as exc:
        log.warning(
            "could not refresh planner statistics (%s): queries may be slow until autovacuum does", driver_message(exc)
        )
    return analyzed
