"""``migrate --adopt-original``: a warehouse built by the original design's DDL becomes a metaads warehouse.

The fixture (tests/fixtures/original_design_ddl.sql) has ``DECIMAL(10,2)`` spend, ``INTEGER`` counters,
``id SERIAL`` actions, a whole-row MD5 ``unique_id`` and restated figures stored as second rows. After
adopting, each (account, ad, day) has one row, the newest, keyed by metaads's natural-key hash.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from datetime import date, timedelta
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
from metaads.warehouse.adopt import adopt_original
from metaads.warehouse.migrations import STEPS, current_version, migrate

FIXTURES = Path(__file__).parent.parent / "fixtures"
ACCOUNTS = [
    Account(id="111", table="bm_01", label=None, index=0),
    Account(id="222", table="bm_02", label=None, index=1),
]
ADS_COLUMNS = (
    "account_id",
    "account_name",
    "campaign_id",
    "campaign_name",
    "campaign_status",
    "adset_id",
    "adset_name",
    "ad_id",
    "ad_name",
    "objective",
    "spend",
    "clicks",
    "inline_link_clicks",
    "impressions",
    "date",
)


def _statements(text: str) -> list[str]:
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def _whole_row_md5(row: dict[str, Any]) -> str:
    # The original design hashed every value of the row.
    return hashlib.md5("".join(str(row[c]) for c in ADS_COLUMNS).encode(), usedforsecurity=False).hexdigest()


def _ad_row(account: Account, ad: int, day: date, spend: Decimal, stored_id: str) -> dict[str, Any]:
    row = {
        "account_id": stored_id,
        "account_name": f"Account {account.id}",
        "campaign_id": "9",
        "campaign_name": "C",
        "campaign_status": "ACTIVE",
        "adset_id": "8",
        "adset_name": "S",
        "ad_id": f"{account.id}{ad:03d}",
        "ad_name": f"Ad {ad}",
        "objective": "OUTCOME_SALES",
        "spend": spend,
        "clicks": ad * 3,
        "inline_link_clicks": ad,
        "impressions": ad * 100,
        "date": day,
    }
    row["unique_id"] = _whole_row_md5(row)
    return row


@pytest.fixture
def original(pg_engine: sa.Engine, pg_schema: str) -> dict[tuple[str, date], Decimal]:
    """Build the original warehouse; return the expected spend per (account, day) after adoption.

    Each account: 8 ads x 6 days, loaded once; then a later load (another transaction) restated some
    ad-days: the whole-row hash made them second rows. Account 222's first load stored ``act_222``.
    """
    rng = random.Random(3)
    template = (FIXTURES / "original_design_ddl.sql").read_text().replace("__SCHEMA__", pg_schema)
    newest: dict[tuple[str, str, date], Decimal] = {}
    with pg_engine.begin() as conn:
        for account in ACCOUNTS:
            for statement in _statements(template.replace("__T1__", account.table)):
                conn.exec_driver_sql(statement)
        for view, suffix in (("vw_graph_ads", ""), ("vw_graph_ads_actions", "_actions")):
            conn.exec_driver_sql(
                f'CREATE VIEW "{pg_schema}".{view} AS SELECT * FROM "{pg_schema}".bm_01{suffix} '
                f'UNION ALL SELECT * FROM "{pg_schema}".bm_02{suffix}'
            )
    for load in range(2):
        with pg_engine.begin() as conn:  # one transaction per load, as the original DAG's tasks
            for account in ACCOUNTS:
                stored_id = f"act_{account.id}" if account.id == "222" and load == 0 else account.id
                ads = sa.Table(account.table, sa.MetaData(), schema=pg_schema, autoload_with=conn)
                actions = sa.Table(account.actions_table, sa.MetaData(), schema=pg_schema, autoload_with=conn)
                for ad in range(8):
                    for offset in range(6):
                        day = date(2026, 9, 1) + timedelta(days=offset)
                        if load == 1 and (ad + offset) % 3:
                            continue  # the second load restates a third of the ad-days
                        spend = Decimal(rng.randint(0, 99999)) / 100
                        conn.execute(ads.insert().values(_ad_row(account, ad, day, spend, stored_id)))
                        conn.execute(
                            actions.insert().values(
                                account_id=stored_id,
                                ad_id=f"{account.id}{ad:03d}",
                                action_type="link_click",
                                value=ad + load,
                                date=day,
                            )
                        )
                        newest[(account.id, f"{account.id}{ad:03d}", day)] = spend
    expected: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for (account_id, _, day), spend in newest.items():
        expected[(account_id, day)] += spend
    return dict(expected)


def _spend_by_day(conn: sa.Connection, schema: str) -> dict[tuple[str, date], Decimal]:
    out: dict[tuple[str, date], Decimal] = {}
    for table in ("bm_01", "bm_02"):
        for account_id, day, spend in conn.exec_driver_sql(
            f'SELECT account_id, date, sum(spend) FROM "{schema}".{table} GROUP BY account_id, date'
        ):
            out[(account_id, day)] = Decimal(spend)
    return out


def _counts(conn: sa.Connection, schema: str) -> dict[str, int]:
    return {
        t: conn.exec_driver_sql(f'SELECT count(*) FROM "{schema}".{t}').scalar_one()
        for t in ("bm_01", "bm_02", "bm_01_actions", "bm_02_actions")
    }


def test_dry_run_shows_the_plan_and_changes_nothing(
    pg_engine: sa.Engine, pg_schema: str, original: dict[tuple[str, date], Decimal]
) -> None:
    with pg_engine.connect() as conn:
        before = (_counts(conn, pg_schema), _spend_by_day(conn, pg_schema))
    report = adopt_original(pg_engine, pg_schema, ACCOUNTS, dry_run=True, clock=FakeClock())
    assert report.tables == ["bm_01", "bm_01_actions", "bm_02", "bm_02_actions"]
    assert "bm_01: spend NUMERIC(10, 2) -> NUMERIC(20, 6)" in report.changes
    assert "bm_01_actions: value INTEGER -> NUMERIC(20, 6)" in report.changes
    assert report.merged["bm_01"] > 0
    with pg_engine.connect() as conn:
        assert (_counts(conn, pg_schema), _spend_by_day(conn, pg_schema)) == before
        assert "loaded_at" not in {c["name"] for c in sa.inspect(conn).get_columns("bm_01", schema=pg_schema)}


def test_plain_migrate_refuses_original_tables_and_names_adopt_original(
    pg_engine: sa.Engine, pg_schema: str, original: dict[tuple[str, date], Decimal]
) -> None:
    with pytest.raises(
        WarehouseError,
        match=r"bm_01, bm_01_actions, bm_02, bm_02_actions were built by the "
        r"original design's DDL: run `metaads migrate --adopt-original`",
    ):
        migrate(pg_engine, pg_schema, ACCOUNTS, clock=FakeClock())
    with pg_engine.connect() as conn:
        assert "loaded_at" not in {c["name"] for c in sa.inspect(conn).get_columns("bm_01", schema=pg_schema)}
        assert current_version(conn, pg_schema) is None


def test_adopting_keeps_one_newest_row_per_natural_key_with_spend_per_account_day_kept(
    pg_engine: sa.Engine, pg_schema: str, original: dict[tuple[str, date], Decimal]
) -> None:
    with pg_engine.connect() as conn:
        before = _counts(conn, pg_schema)
    assert before["bm_01"] == 48 + 16  # 8 ads x 6 days, and 16 restated ad-days
    report = adopt_original(pg_engine, pg_schema, ACCOUNTS, clock=FakeClock())
    assert report.rows_before == before
    assert report.rows_after == {"bm_01": 48, "bm_02": 48, "bm_01_actions": 48, "bm_02_actions": 48}
    assert report.merged == {"bm_01": 16, "bm_02": 16, "bm_01_actions": 16, "bm_02_actions": 16}
    with pg_engine.connect() as conn:
        assert _spend_by_day(conn, pg_schema) == original
        for account in ACCOUNTS:  # act_222 lost its prefix
            rows = conn.exec_driver_sql(
                f'SELECT unique_id, account_id, ad_id, date FROM "{pg_schema}".{account.table}'
            ).all()
            assert all(r[0] == key_id(r[1], r[2], r[3].isoformat()) for r in rows)
            assert {r[1] for r in rows} == {account.id}
        actions = conn.exec_driver_sql(
            f'SELECT unique_id, account_id, ad_id, date, action_type, value FROM "{pg_schema}".bm_02_actions'
        ).all()
        assert all(r[0] == key_id(f"{r[1]}|{r[2]}|{r[3].isoformat()}|{r[4]}") for r in actions)
        # The newest actions row won: restated ad-days carry the second load's value (ad + 1).
        restated = [r for r in actions if (int(r[2][-3:]) + (r[3] - date(2026, 9, 1)).days) % 3 == 0]
        assert restated
        assert all(Decimal(r[5]) == int(r[2][-3:]) + 1 for r in restated)
    # Then it is a metaads warehouse: migrate records the version, init accepts every table and view.
    migrate(pg_engine, pg_schema, ACCOUNTS, clock=FakeClock())
    Warehouse(pg_engine, pg_schema).init(ACCOUNTS)
    with pg_engine.connect() as conn:
        assert current_version(conn, pg_schema) == STEPS[-1].version
        total = conn.exec_driver_sql(f'SELECT sum(spend) FROM "{pg_schema}".vw_graph_ads').scalar_one()
        assert Decimal(total) == sum(original.values())
    again = adopt_original(pg_engine, pg_schema, ACCOUNTS, clock=FakeClock())
    assert again.tables == []


def test_cli_migrate_adopt_original_prints_the_plan_on_dry_run_then_adopts(
    pg_url: str, pg_engine: sa.Engine, pg_schema: str, original: dict[tuple[str, date], Decimal], tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}}
    env = {
        **base,
        "META_ACCOUNTS": "111:bm_01,222:bm_02",
        "GRAPH_API_TOKENS": "not-used-here",
        "WAREHOUSE_URL": pg_url,
        "WAREHOUSE_SCHEMA": pg_schema,
        "COLUMNS": "200",
    }

    def metaads(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "metaads", "migrate", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    dry = metaads("--adopt-original", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would change 4 tables" in dry.stdout
    assert "bm_01: 64 rows -> 48 (16 duplicates" in dry.stdout
    assert "dry run: nothing was changed" in dry.stdout
    with pg_engine.connect() as conn:
        assert _counts(conn, pg_schema)["bm_01"] == 64
    done = metaads("--adopt-original")
    assert done.returncode == 0, done.stderr
    assert "changed 4 tables" in done.stdout
    assert f"warehouse at schema version {STEPS[-1].version}" in done.stdout
    with pg_engine.connect() as conn:
        assert _counts(conn, pg_schema) == {"bm_01": 48, "bm_02": 48, "bm_01_actions": 48, "bm_02_actions": 48}
        assert _spend_by_day(conn, pg_schema) == original
        views = set(sa.inspect(conn).get_view_names(schema=pg_schema))
    assert {"vw_graph_ads", "vw_graph_ads_actions", "vw_graph_campaigns"} <= views
