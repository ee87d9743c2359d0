"""A ledger created by an older release gains the new nullable columns in place on the next init."""

from __future__ import annotations

import sqlalchemy as sa

from metaads.accounts import Account
from metaads.warehouse import Warehouse


def test_init_adds_owner_columns_to_an_old_ledger_and_runs_start(warehouse: Warehouse, accounts: list[Account]) -> None:
    old = sa.MetaData()
    sa.Table(
        "metaads_runs",
        old,
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(32)),
        sa.Column("accounts", sa.Integer),
        sa.Column("accounts_failed", sa.Integer),
        schema=warehouse.schema,
    )
    with warehouse.engine.begin() as conn:
        if warehouse.schema:
            conn.execute(sa.schema.CreateSchema(warehouse.schema, if_not_exists=True))
        old.create_all(conn)

    warehouse.init(accounts)

    columns = {c["name"] for c in sa.inspect(warehouse.engine).get_columns("metaads_runs", schema=warehouse.schema)}
    assert {"owner_host", "owner_pid", "owner_started", "heartbeat_at"} <= columns
    run_id = warehouse.start_run(trigger="cli", accounts=1)
    with warehouse.engine.connect() as conn:
        row = conn.execute(sa.select(warehouse.runs).where(warehouse.runs.c.run_id == run_id)).one()
    assert row.status == "running"
    assert row.owner_pid is not None
