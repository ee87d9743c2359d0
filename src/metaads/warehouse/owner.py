"""Who runs a ``running`` ledger row, and recognising rows whose process died (status ``abandoned``).

A run or sync records its owner: host name, pid and the process's start time (so a recycled pid is not
mistaken for the owner). On the owner's host the check is exact: the process is gone or is another
process. Elsewhere (an Airflow run spans workers; a CLI run on another machine) a row is abandoned when
its heartbeat (refreshed with every chunk the run records) is older than ``stale_after``.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from metaads.database import stored_utc

ABANDONED = "abandoned"
RUNNING = "running"
#: Longer than any chunk takes (fetch + load): a row silent for this long has no live owner.
DEFAULT_STALE_AFTER = timedelta(hours=6)


@dataclass(frozen=True)
class Owner:
    """A process: host name, pid, and its start time as the OS reports it (None when unknown)."""

    host: str
    pid: int
    started: str | None

    def columns(self) -> dict[str, object]:
        return {"owner_host": self.host[:255], "owner_pid": self.pid, "owner_started": self.started}


def process_started(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux ``/proc``); None elsewhere or when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22; the command name (field 2) may contain spaces, so split after its closing parenthesis.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def this_process() -> Owner:
    pid = os.getpid()
    return Owner(socket.gethostname(), pid, process_started(pid))


def owner_alive(owner: Owner) -> bool | None:
    """True/False when ``owner`` runs on this host; None when it cannot be told from here."""
    if owner.host != socket.gethostname():
        return None
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's: the start time decides below
        pass
    if owner.started is None:
        return True
    return process_started(owner.pid) == owner.started


def is_abandoned(
    row: sa.Row[tuple[object, ...]] | dict[str, object], now: datetime, stale_after: timedelta = DEFAULT_STALE_AFTER
) -> bool:
    """Whether a ``running`` row (with owner columns and ``started_at``) has no live owner."""
    data = dict(row._mapping) if isinstance(row, sa.Row) else row
    host, pid = data.get("owner_host"), data.get("owner_pid")
    if host and pid is not None:
        alive = owner_alive(Owner(str(host), int(str(pid)), data.get("owner_started")))  # type: ignore[arg-type]
        if alive is not None:
            return not alive
    heartbeat, started = data.get("heartbeat_at"), data.get("started_at")
    last = stored_utc(
        heartbeat if isinstance(heartbeat, datetime) else started if isinstance(started, datetime) else None
    )
    return last is not None and now - last > stale_after


def mark_abandoned(
    conn: sa.Connection, table: sa.Table, key: str, *, now: datetime, stale_after: timedelta = DEFAULT_STALE_AFTER
) -> list[object]:
    """Set ``running`` rows of ``table`` without a live owner to ``abandoned``; return their keys."""
    running = conn.execute(sa.select(table).where(table.c.status == RUNNING)).all()
    dead = [row._mapping[key] for row in running if is_abandoned(row, now, stale_after)]
    if dead:
        conn.execute(
            table.update()
            .where(table.c[key].in_(dead), table.c.status == RUNNING)
            .values(status=ABANDONED, finished_at=now)
        )
    return dead
