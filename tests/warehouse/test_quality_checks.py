"""The warehouse's data-quality checks count what is wrong, and leave the caller's session as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.transform import to_actions_rows
from metaads.warehouse import Warehouse
from metaads.warehouse.quality import NEGATIVE, ORPHANS, warehouse_checks
from tests.warehouse.insights import DAY, LOADED_AT, days, grid, insight, load

WEEK = days(DAY, 7)


def test_checks_count_orphan_actions_and_negative_metrics(warehouse: Warehouse, accounts: list[Account]) -> None:
    warehouse.init(accounts)
    for account in accounts[:2]:
        load(warehouse, account, WEEK[0], WEEK[-1], grid(account, 3, WEEK))
    account = accounts[0]
    ads, actions = warehouse.tables(account)
    # Two actions rows of an ad-day with no ads row, and one ads row with negative spend.
    orphan = insight(account, 99, WEEK[2], actions=[("link_click", "1"), ("lead", "2")], values=())
    with warehouse.engine.begin() as conn:
        conn.execute(
            actions.insert(),
            [dict(zip(actions.c.keys(), row, strict=True)) for row in to_actions_rows([orphan], loaded_at=LOADED_AT)],
        )
        conn.execute(
            sa.update(ads)
            .where(ads.c.date == WEEK[1], ads.c.ad_id == insight(account, 0, DAY)["ad_id"])
            .values(spend=-1)
        )

    with warehouse.engine.begin() as conn:
        found = warehouse_checks(conn, warehouse.schema, [a.id for a in accounts[:2]], WEEK[-1], WEEK[0])
    values = {(r.check, r.account_id): r.value for r in found}

    assert values[(ORPHANS, account.id)] == 2
    assert values[(NEGATIVE, account.id)] == 1
    assert values[(ORPHANS, accounts[1].id)] == values[(NEGATIVE, accounts[1].id)] == 0


@pytest.mark.postgres
def test_checks_restore_the_planner_settings_they_change(
    pg_engine: sa.Engine, pg_schema: str, accounts: list[Account]
) -> None:
    warehouse = Warehouse(pg_engine, pg_schema)
    warehouse.init(accounts)
    names = ("jit", "enable_mergejoin", "enable_nestloop")
    with warehouse.engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL enable_nestloop = off")
        before = [conn.execute(sa.text("SELECT current_setting(:n)"), {"n": n}).scalar_one() for n in names]
        warehouse_checks(conn, warehouse.schema, [accounts[0].id], DAY, DAY - timedelta(days=30))
        after = [conn.execute(sa.text("SELECT current_setting(:n)"), {"n": n}).scalar_one() for n in names]
    assert after == before
    assert before[2] == "off"
