"""Warehouse test data for the sync (API-shaped rows through the real transform and loader) and
reading tables back in a form comparable across PostgreSQL, MariaDB and SQLite."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from metaads.accounts import Account
from metaads.config.accounts import parse_accounts
from metaads.dates import DateRange
from metaads.outcomes import ChunkResult
from metaads.statuses import AccountStatus
from metaads.sync import analytics_tables
from metaads.sync.transfer import source_view
from metaads.transform import to_actions_rows, to_ads_rows
from metaads.warehouse import Warehouse

TODAY = date(2026, 11, 20)
LOADED_AT = datetime(2026, 11, 20, 6, 30, 15, 123456, tzinfo=timezone.utc)
# Names that break naive CSV/TSV/SQL quoting, and text outside the BMP.
TRICKY_NAMES = (
    "Café d'été — 日本語 🎯",
    'say "hi", then; leave',
    "back\\slash\ttab\nnew line\r\nend",
    "NULL",
    "",
    "form\x0cfeed\x0bvtab",
)


def accounts() -> list[Account]:
    return parse_accounts("act_1111111111:bm_01:Acme EU,act_2222222222:bm_02:Acme US,act_3333333333:bm_03")


def days(since: date, count: int) -> list[date]:
    return [since + timedelta(days=i) for i in range(count)]


def insight(account: Account, ad: int, day: date, version: int) -> dict[str, Any]:
    """One ad-day as the Graph API sends it; ``version`` changes the figures (a restatement)."""
    return {
        "account_id": account.id,
        "account_name": f"{account.label} ✓",
        "campaign_id": f"2385{ad % 2:013d}",
        "campaign_name": TRICKY_NAMES[ad % len(TRICKY_NAMES)],
        "adset_id": f"2386{ad % 3:013d}",
        "adset_name": TRICKY_NAMES[(ad + 1) % len(TRICKY_NAMES)],
        "ad_id": f"2387{ad:013d}",
        "ad_name": f"Ad {ad} {TRICKY_NAMES[(ad + day.day) % len(TRICKY_NAMES)]}",
        "objective": "OUTCOME_SALES",
        "spend": f"{ad * 1.25 + day.day + version * 100:.2f}",
        "clicks": str(ad + day.day + version),
        "inline_link_clicks": str(ad),
        "impressions": str(1000 + ad),
        **({"reach": str(500 + ad)} if ad % 2 else {}),
        "date_start": day.isoformat(),
        "date_stop": day.isoformat(),
        "actions": [
            {"action_type": "link_click", "value": str(ad + version)},
            {"action_type": "purchase", "value": "1.5"},
        ],
        "action_values": [{"action_type": "purchase", "value": f"{25.5 + version:.2f}"}],
    }


@dataclass
class Loader:
    """A warehouse plus the bookkeeping the pipeline does: one ledger row per loaded range."""

    warehouse: Warehouse
    run_id: str = ""

    def load(self, account: Account, since: date, until: date, *, ads: int = 3, version: int = 0) -> int:
        """Replace ``since..until`` of ``account`` with ``ads`` ads a day; return the ledger id."""
        if not self.run_id:
            self.run_id = self.warehouse.start_run(trigger="cli", accounts=3)
        rows = [
            insight(account, ad, day, version) for day in days(since, (until - since).days + 1) for ad in range(ads)
        ]
        result = self.warehouse.replace_range(
            account,
            since,
            until,
            to_ads_rows(rows, campaign_status={}, currency="EUR", loaded_at=LOADED_AT),
            to_actions_rows(rows, loaded_at=LOADED_AT),
        )
        return self.warehouse.record_account_run(
            self.run_id,
            account,
            ChunkResult(
                DateRange(since, until),
                AccountStatus.LOADED,
                ads_rows=result.ads_rows,
                actions_rows=result.actions_rows,
            ),
        )


def normal(value: Any) -> Any:
    """A value comparable across databases (Decimal scale, UTC wall time, ISO dates)."""
    if isinstance(value, (Decimal, float)) and not isinstance(value, bool):
        return Decimal(str(value)).normalize()
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _read(
    engine: sa.Engine, table: sa.TableClause, since: date | None, where: Sequence[sa.ColumnElement[bool]] = ()
) -> list[tuple[Any, ...]]:
    query = sa.select(*table.c)
    if since is not None:
        query = query.where(table.c.date >= since)
    with engine.connect() as conn:
        rows = [tuple(normal(v) for v in row) for row in conn.execute(query.where(*where))]
    return sorted(rows, key=repr)


def view_rows(engine: sa.Engine, schema: str | None, since: date | None = None) -> dict[str, list[Any]]:
    """The warehouse views' rows (from ``since``), keyed by target table name."""
    schema = None if engine.dialect.name == "sqlite" else schema
    out = {}
    for pair in analytics_tables(sa.MetaData(), schema=None):
        out[pair.table.name] = _read(engine, source_view(pair, schema), since)
    return out


def target_rows(engine: sa.Engine, schema: str | None, account_id: str | None = None) -> dict[str, list[Any]]:
    """The analytics tables' rows (of one account), keyed by table name."""
    schema = None if engine.dialect.name == "sqlite" else schema
    out = {}
    for pair in analytics_tables(sa.MetaData(), schema=schema):
        where = [pair.table.c.account_id == account_id] if account_id else []
        out[pair.table.name] = _read(engine, pair.table, None, where)
    return out


def only(rows: dict[str, list[Any]], account_id: str) -> dict[str, list[Any]]:
    """Rows of one account (account_id is the second column of both tables)."""
    return {name: [row for row in table if row[1] == account_id] for name, table in rows.items()}


def syncs(engine: sa.Engine, schema: str | None, columns: Iterable[str]) -> list[tuple[Any, ...]]:
    """``metaads_syncs`` rows in id order."""
    from metaads.warehouse.schema import ledger_tables

    schema = None if engine.dialect.name == "sqlite" else schema
    table = ledger_tables(sa.MetaData(), schema=schema)[2]
    with engine.connect() as conn:
        return [
            tuple(row) for row in conn.execute(sa.select(*(table.c[name] for name in columns)).order_by(table.c.id))
        ]
