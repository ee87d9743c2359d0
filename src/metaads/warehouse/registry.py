"""The account registry (``metaads_accounts``): which account tables the union views cover.

Every configured account is registered (and re-activated) when the warehouse is initialised; an account
that leaves ``META_ACCOUNTS`` stays registered and active, so its rows stay in ``vw_graph_ads`` /
``vw_graph_ads_actions`` and in the analytics database. Only ``retire`` (``metaads accounts retire``)
takes it out of the views; the next full sync then removes its rows from the analytics tables. A
warehouse created before the registry adopts its existing account tables (those with an ``_actions``
twin and the expected columns) the first time it is initialised.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from metaads.accounts import Account
from metaads.database import stored_utc
from metaads.transform import ACTIONS_COLUMNS, ADS_COLUMNS
from metaads.warehouse.schema import ACTIONS_SUFFIX, ACTIVE, REGISTRY_TABLE, RESERVED_PREFIX, RETIRED

log = logging.getLogger("metaads.warehouse")


@dataclass(frozen=True)
class RegisteredAccount:
    """One ``metaads_accounts`` row."""

    table: str
    account_id: str | None
    label: str | None
    first_seen: datetime
    last_seen: datetime
    status: str
    retired_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def actions_table(self) -> str:
        return f"{self.table}{ACTIONS_SUFFIX}"

    @property
    def display_name(self) -> str:
        return self.label or self.table


def read(conn: sa.Connection, registry: sa.Table) -> list[RegisteredAccount]:
    """Every registered account, by table name."""
    rows = conn.execute(sa.select(registry).order_by(registry.c.table_name))
    return [
        RegisteredAccount(
            table=r.table_name,
            account_id=r.account_id,
            label=r.label,
            first_seen=stored_utc(r.first_seen) or r.first_seen,
            last_seen=stored_utc(r.last_seen) or r.last_seen,
            status=r.status,
            retired_at=stored_utc(r.retired_at),
        )
        for r in rows
    ]


def retired_account_ids(conn: sa.Connection, schema: str | None) -> set[str]:
    """Account ids of retired accounts; empty when the warehouse has no registry (nothing was retired)."""
    if not sa.inspect(conn).has_table(REGISTRY_TABLE, schema=schema):
        return set()
    registry = sa.Table(REGISTRY_TABLE, sa.MetaData(), schema=schema, autoload_with=conn)
    rows = conn.execute(
        sa.select(registry.c.account_id).where(registry.c.status == RETIRED, registry.c.account_id.is_not(None))
    )
    return {str(r[0]) for r in rows}


def retired_tables(conn: sa.Connection, schema: str | None) -> set[str]:
    """Account tables of retired accounts; empty when the warehouse has no registry yet."""
    if not sa.inspect(conn).has_table(REGISTRY_TABLE, schema=schema):
        return set()
    registry = sa.Table(REGISTRY_TABLE, sa.MetaData(), schema=schema, autoload_with=conn)
    return {str(r[0]) for r in conn.execute(sa.select(registry.c.table_name).where(registry.c.status == RETIRED))}


def register(conn: sa.Connection, registry: sa.Table, accounts: Sequence[Account], now: datetime) -> None:
    """Record the configured ``accounts`` as seen now and active (re-activating retired ones)."""
    known = {r.table: r for r in read(conn, registry)}
    for account in accounts:
        values = {
            "account_id": account.id,
            "label": account.label,
            "last_seen": now,
            "status": ACTIVE,
            "retired_at": None,
        }
        existing = known.get(account.table)
        if existing is None:
            conn.execute(registry.insert().values(table_name=account.table, first_seen=now, **values))
            continue
        if not existing.active:
            log.warning(
                "account %s (%s) is configured again: active again, back in the views",
                account.display_name,
                account.table,
            )
        conn.execute(registry.update().where(registry.c.table_name == account.table).values(**values))


def _has_columns(inspector: sa.Inspector, name: str, schema: str | None, wanted: Sequence[str]) -> bool:
    have = {c["name"] for c in inspector.get_columns(name, schema=schema)}
    return set(wanted) <= have


def _account_id_of(conn: sa.Connection, table: str, schema: str | None, account_runs: sa.Table) -> str | None:
    found = conn.execute(
        sa.select(account_runs.c.account_id)
        .where(account_runs.c.table_name == table)
        .order_by(account_runs.c.id.desc())
        .limit(1)
    ).scalar()
    if found is None:
        ads = sa.table(table, sa.column("account_id"), schema=schema)
        found = conn.execute(sa.select(ads.c.account_id).limit(1)).scalar()
    return None if found is None else str(found)


def adopt(
    conn: sa.Connection, registry: sa.Table, schema: str | None, account_runs: sa.Table, now: datetime
) -> list[str]:
    """Register the account tables of a warehouse created before the registry; return their names.

    An account table is a table with an ``_actions`` twin, both with the warehouse columns.
    """
    inspector = sa.inspect(conn)
    names = set(inspector.get_table_names(schema=schema))
    known = {r.table for r in read(conn, registry)}
    adopted: list[str] = []
    for name in sorted(names):
        twin = f"{name}{ACTIONS_SUFFIX}"
        if name in known or name.startswith(RESERVED_PREFIX) or name.endswith(ACTIONS_SUFFIX) or twin not in names:
            continue
        if not (
            _has_columns(inspector, name, schema, ADS_COLUMNS)
            and _has_columns(inspector, twin, schema, ACTIONS_COLUMNS)
        ):
            log.warning("tables %s / %s are not metaads account tables: not registered", name, twin)
            continue
        conn.execute(
            registry.insert().values(
                table_name=name,
                account_id=_account_id_of(conn, name, schema, account_runs),
                label=None,
                first_seen=now,
                last_seen=now,
                status=ACTIVE,
                retired_at=None,
            )
        )
        adopted.append(name)
    if adopted:
        log.info("account registry %s created: adopted existing account tables %s", REGISTRY_TABLE, ", ".join(adopted))
    return adopted


def retire(conn: sa.Connection, registry: sa.Table, table: str, now: datetime) -> None:
    """Mark the account of ``table`` retired (out of the views from the next view refresh)."""
    conn.execute(
        registry.update()
        .where(registry.c.table_name == table, registry.c.status != RETIRED)
        .values(status=RETIRED, retired_at=now)
    )


def find(accounts: Sequence[RegisteredAccount], key: str) -> RegisteredAccount | None:
    """The registered account whose id (with or without ``act_``), table or label is ``key``."""
    wanted = key.strip()
    bare = wanted.removeprefix("act_")
    for account in accounts:
        if bare == account.account_id or wanted == account.table or (account.label and wanted == account.label):
            return account
    return None
