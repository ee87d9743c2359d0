"""Extra reports over time: their views follow the account registry, their tables follow their configured
fields (``metaads migrate``, the run's own migration, ``metaads sync --evolve``), and a changed key is
refused. The simulator over real HTTP, real PostgreSQL (and SQLite warehouses, MariaDB analytics targets).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from metaads.errors import ConfigError, SchemaMismatchError
from metaads.pipeline import Pipeline
from metaads.warehouse.migrations import migrate
from tests.databases import mysql_url
from tests.integration.conftest import World
from tests.integration.test_cli import metaads

BY_COUNTRY = {
    "name": "by_country",
    "level": "campaign",
    "fields": ["spend", "impressions", "actions"],
    "breakdowns": ["country"],
}
# Two versions of one report: cpm dropped, clicks and reach added, a second attribution window (a new
# lists column).
PERF_V1 = {
    "name": "perf",
    "level": "adset",
    "fields": ["spend", "impressions", "cpm", "actions"],
    "action_attribution_windows": ["7d_click"],
}
PERF_V2 = {
    "name": "perf",
    "level": "adset",
    "fields": ["spend", "impressions", "clicks", "reach", "actions"],
    "action_attribution_windows": ["7d_click", "1d_view"],
}


def _entry(world: World, position: int) -> str:
    return world.base_env["META_ACCOUNTS"].split(",")[position]


def _schema(engine: sa.Engine, schema: str | None) -> str | None:
    return None if engine.dialect.name == "sqlite" else schema


def _per_account(engine: sa.Engine, name: str, schema: str | None) -> Counter[str]:
    table = sa.Table(name, sa.MetaData(), schema=_schema(engine, schema), autoload_with=engine)
    with engine.connect() as conn:
        query = sa.select(table.c.account_id, sa.func.count()).group_by(table.c.account_id)
        return Counter({str(a): n for a, n in conn.execute(query)})


def _rows(engine: sa.Engine, schema: str | None, name: str) -> list[dict[str, Any]]:
    table = sa.Table(name, sa.MetaData(), schema=_schema(engine, schema), autoload_with=engine)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(table.c.unique_id))]


def _columns(engine: sa.Engine, schema: str | None, name: str) -> list[str]:
    return [c["name"] for c in sa.inspect(engine).get_columns(name, schema=_schema(engine, schema))]


# --------------------------------------------------------------------------- 1. views over the registry


def test_report_views_follow_the_account_registry(world: World, make_pipeline: Callable[..., Pipeline]) -> None:
    reports = json.dumps([BY_COUNTRY])
    two = make_pipeline(META_ACCOUNTS=f"{_entry(world, 0)},{_entry(world, 1)}", INSIGHTS_REPORTS=reports)
    assert two.run().ok
    kept, dropped = two.settings.accounts
    engine, schema = two.warehouse_engine, two.settings.warehouse_schema
    views = ("vw_graph_by_country", "vw_graph_by_country_lists")
    before = [_per_account(engine, view, schema) for view in views]
    assert all(set(counts) == {kept.id, dropped.id} for counts in before)

    world.clock.advance(3600)
    one = make_pipeline(META_ACCOUNTS=_entry(world, 0), INSIGHTS_REPORTS=reports)
    assert one.run().ok
    after = [_per_account(engine, view, schema) for view in views]
    for previous, now in zip(before, after, strict=True):
        assert set(now) == {kept.id, dropped.id}  # no longer configured, still registered: still visible
        assert now[dropped.id] == previous[dropped.id]

    one.retire_account(dropped.table)
    retired = [_per_account(engine, view, schema) for view in views]
    assert all(set(counts) == {kept.id} for counts in retired)
    assert sum(_per_account(engine, f"{dropped.table}__by_country", schema).values()) > 0  # its tables stay


# --------------------------------------------------------------------------- 2. fields change (warehouse)


@pytest.fixture
def pg_pipeline(world: World, pg_url: str, pg_schema: str) -> Iterator[Callable[..., Pipeline]]:
    """Pipelines on one PostgreSQL warehouse (binary COPY loads), sharing the simulator's fake clock."""
    made: list[Pipeline] = []

    def make(**overrides: str) -> Pipeline:
        settings = world.settings(WAREHOUSE_URL=pg_url, WAREHOUSE_SCHEMA=pg_schema, **overrides)
        made.append(Pipeline.from_settings(settings, clock=world.clock))
        return made[-1]

    yield make
    for pipeline in made:
        pipeline.close()


@pytest.mark.postgres
def test_changed_fields_evolve_the_report_tables_and_old_figures_stay(
    world: World, pg_pipeline: Callable[..., Pipeline], caplog: pytest.LogCaptureFixture
) -> None:
    first = pg_pipeline(INSIGHTS_REPORTS=json.dumps([PERF_V1]))
    summary = first.run()
    assert summary.ok
    engine, schema = first.warehouse_engine, first.settings.warehouse_schema
    assert engine.dialect.driver == "psycopg"  # loads go through binary COPY
    account = first.settings.accounts[0]
    main, lists = f"{account.table}__perf", f"{account.table}__perf_lists"
    loaded = summary.results[0].range
    assert loaded is not None
    old = {r["unique_id"]: r for r in _rows(engine, schema, main)}
    assert any(r["cpm"] is not None for r in old.values())

    second = pg_pipeline(INSIGHTS_REPORTS=json.dumps([PERF_V2]))
    dry = migrate(engine, schema, second.settings.accounts, reports=second.settings.reports, dry_run=True)
    planned = "\n".join(dry.lines())
    for text in (
        f"add column clicks BIGINT to table {main}",
        f"add column reach BIGINT to table {main}",
        f"add column value_1d_view NUMERIC(38, 12) to table {lists}",
    ):
        assert text in planned
    assert "cpm" not in planned  # kept, not a change
    assert "clicks" not in _columns(engine, schema, main)  # a dry run changes nothing

    # The run migrates first: only the last 3 days are fetched again, with the new fields.
    recent = loaded.until - timedelta(days=2)
    with caplog.at_level(logging.WARNING, logger="metaads.warehouse"):
        assert second.run(since=recent, until=loaded.until).ok
    assert f"added column clicks BIGINT to table {main}" in caplog.text
    assert f"added column value_1d_view NUMERIC(38, 12) to table {lists}" in caplog.text
    assert {"cpm", "clicks", "reach"} <= set(_columns(engine, schema, main))
    assert {"value_7d_click", "value_1d_view"} <= set(_columns(engine, schema, lists))

    rows = _rows(engine, schema, main)
    older = [r for r in rows if r["date"] < recent]
    newer = [r for r in rows if r["date"] >= recent]
    assert older
    assert newer
    for row in older:  # not fetched again: exactly as loaded, and NULL for what was not asked then
        assert (row["spend"], row["cpm"]) == (old[row["unique_id"]]["spend"], old[row["unique_id"]]["cpm"])
        assert row["clicks"] is None
        assert row["reach"] is None
    assert all(r["cpm"] is None for r in newer)  # no longer requested
    assert any(r["clicks"] is not None for r in newer)
    assert any(r["reach"] is not None for r in newer)
    truth = world.sim.ground_truth(
        account.id, recent, loaded.until, level="adset", fields=["adset_id", "spend", "clicks", "reach"]
    )
    assert sum(r["clicks"] or 0 for r in newer) == sum(int(t.get("clicks", 0)) for t in truth)
    list_rows = _rows(engine, schema, lists)
    assert any(r["value_1d_view"] is not None for r in list_rows if r["date"] >= recent)
    assert all(r["value_1d_view"] is None for r in list_rows if r["date"] < recent)

    # The views keep the retired column (older rows' figures) next to the new ones, for every account.
    view = _columns(engine, schema, "vw_graph_perf")
    assert {"cpm", "clicks", "reach"} <= set(view)
    assert view.index("loaded_at") < view.index("cpm")  # layout first, retired columns after
    in_view = _rows(engine, schema, "vw_graph_perf")
    assert len(in_view) == sum(len(_rows(engine, schema, f"{a.table}__perf")) for a in second.settings.accounts)
    assert sum(Decimal(str(r["cpm"])) for r in in_view if r["cpm"] is not None) > 0

    again = migrate(engine, schema, second.settings.accounts, reports=second.settings.reports)
    assert again.changes == []


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("change", "reasons"),
    [
        ({"breakdowns": ["age"]}, ["breakdown gender was removed"]),
        ({"breakdowns": ["country"]}, ["breakdown country is new", "breakdown age was removed"]),
        ({"level": "adset"}, ["key column adset_id is new", "key column ad_id is no longer part of the report"]),
        ({"time_increment": 7}, ["key column date_stop is new"]),
        ({"action_breakdowns": ["action_type", "action_device"]}, ["action breakdown action_device is new"]),
    ],
    ids=["breakdown-removed", "breakdown-replaced", "level", "time-increment", "action-breakdown"],
)
def test_a_changed_report_key_is_refused_naming_the_report_and_what_to_do(
    world: World, pg_pipeline: Callable[..., Pipeline], change: dict[str, Any], reasons: list[str]
) -> None:
    before = {"name": "age_gender", "fields": ["spend", "impressions", "actions"], "breakdowns": ["age", "gender"]}
    first = pg_pipeline(INSIGHTS_REPORTS=json.dumps([before]))
    first.init_warehouse()
    engine, schema = first.warehouse_engine, first.settings.warehouse_schema
    table = f"{first.settings.accounts[0].table}__age_gender"
    columns = (_columns(engine, schema, table), _columns(engine, schema, f"{table}_lists"))

    changed = pg_pipeline(INSIGHTS_REPORTS=json.dumps([{**before, **change}]))
    with pytest.raises(ConfigError) as caught:
        migrate(engine, schema, changed.settings.accounts, reports=changed.settings.reports)
    message = str(caught.value)
    assert caught.value.variable == "INSIGHTS_REPORTS"
    assert message.startswith("INSIGHTS_REPORTS: report 'age_gender': its key changed")
    for reason in reasons:
        assert reason in message
    assert "give the report a new name" in message
    assert "drop its tables" in message
    with pytest.raises(ConfigError, match="report 'age_gender': its key changed"):
        changed.run()  # the run's own migration refuses too, before any call
    assert (_columns(engine, schema, table), _columns(engine, schema, f"{table}_lists")) == columns


@pytest.mark.postgres
def test_a_column_whose_type_would_change_is_refused(world: World, pg_pipeline: Callable[..., Pipeline]) -> None:
    pipeline = pg_pipeline(INSIGHTS_REPORTS=json.dumps([PERF_V1]))
    pipeline.init_warehouse()
    engine, schema = pipeline.warehouse_engine, pipeline.settings.warehouse_schema
    table = f"{pipeline.settings.accounts[1].table}__perf"
    with engine.begin() as conn:  # as a person might have done by hand (the view would block it)
        conn.exec_driver_sql(f'DROP VIEW "{schema}".vw_graph_perf')
        conn.exec_driver_sql(f'ALTER TABLE "{schema}"."{table}" ALTER COLUMN impressions TYPE text')

    with pytest.raises(ConfigError) as caught:
        migrate(engine, schema, pipeline.settings.accounts, reports=pipeline.settings.reports)
    message = str(caught.value)
    assert f"report 'perf': column impressions of table {table} is TEXT" in message
    assert "the report's layout needs BIGINT" in message
    assert "does not change column types" in message


# --------------------------------------------------------------------------- 2. fields change (analytics)


@dataclass(frozen=True)
class Analytics:
    url: str
    schema: str

    def env(self) -> dict[str, str]:
        return {"ANALYTICS_URL": self.url, "ANALYTICS_SCHEMA": self.schema}


@pytest.fixture(
    params=[pytest.param("postgresql", marks=pytest.mark.postgres), pytest.param("mariadb", marks=pytest.mark.mysql)]
)
def analytics(request: pytest.FixtureRequest) -> Iterator[Analytics]:
    """A fresh analytics schema on PostgreSQL or MariaDB (the sync tests' real targets)."""
    schema = f"a_{uuid.uuid4().hex[:12]}"
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else mysql_url()
    yield Analytics(url, schema)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if request.param == "postgresql":
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        else:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{schema}`")
    engine.dispose()


@pytest.mark.postgres
def test_sync_evolve_adds_new_report_columns_and_tables_and_keeps_retired_figures(
    world: World, pg_pipeline: Callable[..., Pipeline], analytics: Analytics
) -> None:
    first = pg_pipeline(INSIGHTS_REPORTS=json.dumps([PERF_V1]), **analytics.env())
    summary = first.run()
    assert summary.ok
    assert first.sync() is not None
    target = sa.create_engine(analytics.url)
    try:
        copied = {r["unique_id"]: r for r in _rows(target, analytics.schema, "graph_perf")}
        assert "clicks" not in _columns(target, analytics.schema, "graph_perf")

        loaded = summary.results[0].range
        assert loaded is not None
        recent = loaded.until - timedelta(days=2)
        second = pg_pipeline(INSIGHTS_REPORTS=json.dumps([PERF_V2, BY_COUNTRY]), **analytics.env())
        assert second.run(since=recent, until=loaded.until).ok

        with pytest.raises(SchemaMismatchError) as caught:
            second.sync()
        message = str(caught.value)
        assert "graph_perf lacks clicks, reach" in message
        assert "graph_perf_lists lacks value_1d_view" in message
        assert "--evolve" in message

        result = second.sync(evolve=True)
        assert result is not None
        assert set(result.columns_added) == {"graph_perf.clicks", "graph_perf.reach", "graph_perf_lists.value_1d_view"}
        assert result.mode == "full"
        engine, schema = second.warehouse_engine, second.settings.warehouse_schema
        for name in ("perf", "perf_lists", "by_country", "by_country_lists"):  # by_country: a new table
            in_target = {r["unique_id"]: r for r in _rows(target, analytics.schema, f"graph_{name}")}
            in_view = {r["unique_id"]: r for r in _rows(engine, schema, f"vw_graph_{name}")}
            assert in_view, name
            assert set(in_target) == set(in_view), name
        now = {r["unique_id"]: r for r in _rows(target, analytics.schema, "graph_perf")}
        view = {r["unique_id"]: r for r in _rows(engine, schema, "vw_graph_perf")}
        for key, row in now.items():
            assert row["clicks"] == view[key]["clicks"]
            assert row["reach"] == view[key]["reach"]
            if row["date"] < recent:  # re-copied by the full sync, the retired figure copied too
                assert row["cpm"] == copied[key]["cpm"]
            else:
                assert row["cpm"] is None
        assert any(r["cpm"] is not None for r in now.values())
        assert second.sync() is not None  # and the next sync needs nothing more
    finally:
        target.dispose()


# --------------------------------------------------------------------------- the command


@pytest.mark.postgres
def test_migrate_command_says_what_it_added_and_refuses_a_changed_key(
    live_world: World, pg_url: str, pg_schema: str, tmp_path: Path
) -> None:
    env = {**live_world.base_env, "WAREHOUSE_URL": pg_url, "WAREHOUSE_SCHEMA": pg_schema}
    table = f"{live_world.base_env['META_ACCOUNTS'].split(',')[0].split(':')[1]}__perf"
    created = metaads("init-db", env={**env, "INSIGHTS_REPORTS": json.dumps([PERF_V1])}, cwd=tmp_path)
    assert created.returncode == 0, created.stdout + created.stderr

    done = metaads("migrate", env={**env, "INSIGHTS_REPORTS": json.dumps([PERF_V2])}, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    printed = " ".join(done.stdout.split())  # rich wraps long lines
    assert f"added column clicks BIGINT to table {table} (report perf;" in printed
    assert f"added column value_1d_view NUMERIC(38, 12) to table {table}_lists" in printed

    changed = {**PERF_V2, "breakdowns": ["country"]}
    refused = metaads("migrate", env={**env, "INSIGHTS_REPORTS": json.dumps([changed])}, cwd=tmp_path)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    message = " ".join(refused.stderr.split())
    assert "INSIGHTS_REPORTS: report 'perf': its key changed" in message
    assert "breakdown country is new" in message
    assert "Traceback" not in refused.stderr
