"""Warehouse migrations: a warehouse built by the previous release (3ec287b) and tables lacking columns are
brought to the current schema by ``migrate`` without losing a row."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.clock import FakeClock
from metaads.errors import WarehouseError
from metaads.transform.keys import key_id
from metaads.warehouse import Warehouse
from metaads.warehouse.entities import EntityStore
from metaads.warehouse.migrations import STEPS, VERSION_TABLE, current_version, migrate

FIXTURES = Path(__file__).parent.parent / "fixtures"
ACCOUNTS = [
    Account(id="111", table="bm_01", label=None, index=0),
    Account(id="222", table="bm_02", label=None, index=1),
]
LOADED_AT = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)


def _statements(text: str) -> list[str]:
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def _ads_rows(account: Account, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for ad in range(12):
        for offset in range(15):
            day = date(2026, 10, 1) + timedelta(days=offset)
            ad_id = f"{account.id}{ad:04d}"
            rows.append(
                {
                    "unique_id": key_id(account.id, ad_id, day.isoformat()),
                    "account_id": account.id,
                    "account_name": f"Account {account.id}",
                    "campaign_id": f"{account.id}9",
                    "campaign_name": "C",
                    "campaign_status": "ACTIVE",
                    "adset_id": f"{account.id}8",
                    "adset_name": "S",
                    "ad_id": ad_id,
                    "ad_name": f"Ad {ad}",
                    "objective": "OUTCOME_SALES",
                    "spend": Decimal(rng.randint(0, 10**8)) / 10**6,
                    "clicks": rng.randint(0, 900),
                    "inline_link_clicks": rng.randint(0, 500),
                    "impressions": rng.randint(0, 90000),
                    "reach": rng.choice([None, rng.randint(0, 5000)]),
                    "currency": "EUR",
                    "date": day,
                    "loaded_at": LOADED_AT,
                }
            )
    return rows


def _actions_rows(ads: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for ad in ads:
        for action_type in ("link_click", "purchase"):
            iso = ad["date"].isoformat()
            rows.append(
                {
                    "unique_id": key_id(f"{ad['account_id']}|{ad['ad_id']}|{iso}|{action_type}"),
                    "account_id": ad["account_id"],
                    "ad_id": ad["ad_id"],
                    "date": ad["date"],
                    "action_type": action_type,
                    "value": Decimal(rng.randint(0, 400)),
                    "action_value": Decimal(rng.randint(0, 10**7)) / 100 if action_type == "purchase" else None,
                    "loaded_at": LOADED_AT,
                }
            )
    return rows


def _snapshot(conn: sa.Connection, schema: str | None, name: str, columns: list[str]) -> list[tuple[Any, ...]]:
    table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
    return sorted(tuple(row) for row in conn.execute(sa.select(*(table.c[c] for c in columns))))


@pytest.fixture
def previous_release(pg_engine: sa.Engine, pg_schema: str) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """The 3ec287b warehouse (committed DDL) with two accounts' rows and a ledger; its rows, by table."""
    rng = random.Random(5)
    ddl = (FIXTURES / "warehouse_3ec287b_ddl.sql").read_text().replace("__SCHEMA__", pg_schema)
    snapshot: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    with pg_engine.begin() as conn:
        for statement in _statements(ddl):
            conn.exec_driver_sql(statement)
        metadata = sa.MetaData()
        for account in ACCOUNTS:
            ads = _ads_rows(account, rng)
            ads_table = sa.Table(account.table, metadata, schema=pg_schema, autoload_with=conn)
            actions_table = sa.Table(account.actions_table, metadata, schema=pg_schema, autoload_with=conn)
            conn.execute(ads_table.insert(), ads)
            conn.execute(actions_table.insert(), _actions_rows(ads, rng))
        runs = sa.Table("metaads_runs", metadata, schema=pg_schema, autoload_with=conn)
        account_runs = sa.Table("metaads_account_runs", metadata, schema=pg_schema, autoload_with=conn)
        conn.execute(
            runs.insert().values(
                run_id="r1",
                started_at=LOADED_AT,
                finished_at=LOADED_AT,
                status="success",
                trigger="cli",
                accounts=2,
                accounts_failed=0,
            )
        )
        conn.execute(
            account_runs.insert(),
            [
                {
                    "run_id": "r1",
                    "account_id": a.id,
                    "table_name": a.table,
                    "since": date(2026, 10, 1),
                    "until": date(2026, 10, 15),
                    "status": "loaded",
                    "ads_rows": 180,
                    "actions_rows": 360,
                    "api_calls": 4,
                    "throttled_s": 0.0,
                    "duration_s": 1.5,
                    "finished_at": LOADED_AT,
                }
                for a in ACCOUNTS
            ],
        )
        for name in ("bm_01", "bm_02", "bm_01_actions", "bm_02_actions", "metaads_runs", "metaads_account_runs"):
            table = sa.Table(name, metadata, schema=pg_schema, autoload_with=conn)
            columns = [c.name for c in table.columns]
            snapshot[name] = (columns, _snapshot(conn, pg_schema, name, columns))
    return snapshot


def test_previous_release_warehouse_migrates_to_the_current_version_keeping_every_row(
    pg_engine: sa.Engine, pg_schema: str, previous_release: dict[str, tuple[list[str], list[tuple[Any, ...]]]]
) -> None:
    with pg_engine.connect() as conn:
        assert current_version(conn, pg_schema) is None
    report = migrate(pg_engine, pg_schema, ACCOUNTS, clock=FakeClock())
    assert [version for version, _ in report.applied] == [step.version for step in STEPS]
    assert report.current_version is None
    with pg_engine.connect() as conn:
        assert current_version(conn, pg_schema) == STEPS[-1].version
        for name, (columns, rows) in previous_release.items():
            assert len(rows) > 0
            assert _snapshot(conn, pg_schema, name, columns) == rows, name
    # The current release's init then accepts it, entity tables included, and loads into it.
    Warehouse(pg_engine, pg_schema).init(ACCOUNTS)
    EntityStore(pg_engine, pg_schema).init(ACCOUNTS)
    again = migrate(pg_engine, pg_schema, ACCOUNTS, clock=FakeClock())
    assert again.applied == []
    assert again.changes == []
    assert "nothing to do" in again.lines()[-1]


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_account_tables_lacking_columns_get_them_from_migrate_instead_of_a_refusal(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "postgres":
        engine: sa.Engine = request.getfixturevalue("pg_engine")
        schema: str | None = request.getfixturevalue("pg_schema")
    else:
        engine, schema = sa.create_engine(f"sqlite:///{tmp_path / 'w.db'}"), None
    qualified = f'"{schema}".' if schema else ""
    account = ACCOUNTS[0]
    with engine.begin() as conn:  # an early, hand-made shape: no reach, currency, action_value, loaded_at
        conn.exec_driver_sql(
            f"CREATE TABLE {qualified}bm_01 (unique_id VARCHAR(32) PRIMARY KEY, account_id VARCHAR(32) NOT NULL, "
            "account_name VARCHAR(512), campaign_id VARCHAR(32), campaign_name VARCHAR(512), "
            "campaign_status VARCHAR(32), adset_id VARCHAR(32), adset_name VARCHAR(512), ad_id VARCHAR(32) NOT NULL, "
            "ad_name VARCHAR(512), objective VARCHAR(64), spend NUMERIC(20, 6) NOT NULL, clicks BIGINT NOT NULL, "
            "inline_link_clicks BIGINT NOT NULL, impressions BIGINT NOT NULL, date DATE NOT NULL)"
        )
        conn.exec_driver_sql(
            f"CREATE TABLE {qualified}bm_01_actions (unique_id VARCHAR(32) PRIMARY KEY, account_id VARCHAR(32) "
            "NOT NULL, ad_id VARCHAR(32) NOT NULL, date DATE NOT NULL, action_type VARCHAR(128) NOT NULL, "
            "value NUMERIC(20, 6) NOT NULL)"
        )
        conn.exec_driver_sql(
            f"INSERT INTO {qualified}bm_01 (unique_id, account_id, ad_id, spend, clicks, inline_link_clicks, "
            "impressions, date) VALUES ('a', '111', '1', 12.5, 3, 2, 100, '2026-10-01'), "
            "('b', '111', '2', 0.75, 1, 0, 10, '2026-10-02')"
        )
        conn.exec_driver_sql(
            f"INSERT INTO {qualified}bm_01_actions (unique_id, account_id, ad_id, date, action_type, value) "
            "VALUES ('c', '111', '1', '2026-10-01', 'link_click', 2)"
        )
    warehouse = Warehouse(engine, schema)
    with pytest.raises(WarehouseError, match="lacks columns"):
        warehouse.init([account])

    dry = migrate(engine, schema, [account], dry_run=True, clock=FakeClock())
    assert any("bm_01: add column reach" in change for change in dry.changes)
    assert any("bm_01_actions: add column action_value" in change for change in dry.changes)
    with engine.connect() as conn:
        assert "reach" not in {c["name"] for c in sa.inspect(conn).get_columns("bm_01", schema=schema)}
        assert not sa.inspect(conn).has_table(VERSION_TABLE, schema=schema)

    clock = FakeClock()
    report = migrate(engine, schema, [account], clock=clock)
    assert set(report.changes) >= {
        "bm_01: add column reach BIGINT",
        "bm_01: add column loaded_at DATETIME",
        "bm_01_actions: add column action_value NUMERIC(20, 6)",
    }
    warehouse.init([account])  # accepted now
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT unique_id, spend, reach, loaded_at FROM {qualified}bm_01 ORDER BY unique_id"
        ).all()
        assert [(r[0], Decimal(str(r[1])), r[2]) for r in rows] == [
            ("a", Decimal("12.5"), None),
            ("b", Decimal("0.75"), None),
        ]
        assert all(r[3] is not None for r in rows)
        assert conn.exec_driver_sql(f"SELECT count(*) FROM {qualified}bm_01_actions").scalar() == 1
    engine.dispose()
