"""Extra insights reports (INSIGHTS_REPORTS) end to end: simulator over real HTTP, real PostgreSQL/SQLite.

Each report is compared with the simulator's ground truth for the same request (breakdowns, action
breakdowns, attribution windows), synced into an analytics database, and re-run to check the range
replace keeps the tables free of duplicates; the default report's tables stay byte-for-byte what they
are without extra reports.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from metaads import Pipeline
from metaads.simulator import ALL_STATUSES
from tests.integration.conftest import World

AGE_GENDER = {
    "name": "age_gender",
    "level": "ad",
    "fields": ["spend", "impressions", "clicks", "reach", "actions", "action_values", "ctr"],
    "breakdowns": ["age", "gender"],
}
COUNTRY = {
    "name": "country",
    "level": "campaign",
    "fields": ["campaign_name", "spend", "impressions", "cpm", "actions", "cost_per_action_type"],
    "breakdowns": ["country"],
    "lookback_days": 4,
}
PLACEMENT = {
    "name": "placement",
    "level": "adset",
    "fields": ["adset_name", "spend", "impressions"],
    "breakdowns": ["publisher_platform", "platform_position"],
}
DEVICE_WINDOWS = {
    "name": "device_windows",
    "level": "ad",
    "fields": ["spend", "actions", "action_values", "video_p25_watched_actions"],
    "action_breakdowns": ["action_type", "action_device"],
    "action_attribution_windows": ["7d_click", "1d_view"],
    "action_report_time": "conversion",
}
ALL_REPORTS = [AGE_GENDER, COUNTRY, PLACEMENT, DEVICE_WINDOWS]


def _table(engine: sa.Engine, schema: str | None, name: str) -> sa.Table:
    return sa.Table(
        name, sa.MetaData(), schema=None if engine.dialect.name == "sqlite" else schema, autoload_with=engine
    )


def _rows(engine: sa.Engine, schema: str | None, name: str) -> list[dict[str, Any]]:
    table = _table(engine, schema, name)
    with engine.connect() as conn:
        order = list(table.primary_key.columns) or list(table.columns)  # views have no key
        return [dict(row._mapping) for row in conn.execute(sa.select(table).order_by(*order))]


def _truth(world: World, account_id: str, spec: dict[str, Any], since: Any, until: Any) -> list[dict[str, Any]]:
    level = spec["level"]
    filtering = (
        []
        if level == "account"
        else [{"field": f"{level}.effective_status", "operator": "IN", "value": list(ALL_STATUSES)}]
    )
    return world.sim.ground_truth(
        account_id,
        since,
        until,
        level=level,
        breakdowns=spec.get("breakdowns", ()),
        fields=["account_id", f"{level}_id", *spec["fields"], "date_start", "date_stop"],
        filtering=filtering,
        action_breakdowns=spec.get("action_breakdowns", ()),
        action_attribution_windows=spec.get("action_attribution_windows", ()),
        action_report_time=spec.get("action_report_time"),
    )


@pytest.mark.postgres
def test_reports_with_breakdowns_and_action_breakdowns_load_what_the_api_answers(
    world: World, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline(INSIGHTS_REPORTS=json.dumps(ALL_REPORTS))
    summary = pipeline.run()
    assert summary.ok, [r.error for r in summary.results]
    schema = pipeline.settings.warehouse_schema
    engine = pipeline.warehouse_engine
    account = summary.results[0].account
    whole = summary.results[0].range
    assert whole is not None
    for spec in ALL_REPORTS:
        chunks = [c for c in summary.results[0].reports if c.report == spec["name"]]
        since = min(c.range.since for c in chunks)
        truth = _truth(world, account.id, spec, since, whole.until)
        rows = _rows(engine, schema, f"{account.table}__{spec['name']}")
        assert len(rows) == len(truth) > 0, spec["name"]
        assert len({r["unique_id"] for r in rows}) == len(rows)
        for name in spec.get("breakdowns", ()):
            assert {r[name] for r in rows} == {t[name] for t in truth}, name
        if "spend" in spec["fields"]:
            assert sum(Decimal(str(r["spend"])) for r in rows) == sum(Decimal(t["spend"]) for t in truth)
        lists = _rows(engine, schema, f"{account.table}__{spec['name']}_lists")
        list_fields = [
            f
            for f in spec["fields"]
            if f in ("actions", "action_values", "cost_per_action_type", "video_p25_watched_actions")
        ]
        for field in list_fields:
            want = sum(Decimal(item["value"]) for t in truth for item in t.get(field) or [])
            got = sum(Decimal(str(r["value"])) for r in lists if r["field"] == field)
            assert got == want, (spec["name"], field)
        if spec is DEVICE_WINDOWS:
            assert {"iphone", "desktop"} <= {r["action_device"] for r in lists if r["field"] == "actions"}
            want = sum(Decimal(item.get("7d_click", "0")) for t in truth for item in t.get("actions") or [])
            got = sum(Decimal(str(r["value_7d_click"] or 0)) for r in lists if r["field"] == "actions")
            assert got == want


@pytest.mark.postgres
def test_report_with_its_own_lookback_fetches_only_those_days(
    world: World, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline(INSIGHTS_REPORTS=json.dumps([COUNTRY]))
    summary = pipeline.run()
    result = summary.results[0]
    assert result.range is not None
    assert (result.range.until - result.range.since).days == 9
    (chunk,) = result.reports
    assert (chunk.range.until - chunk.range.since).days == 3
    assert chunk.range.until == result.range.until


@pytest.mark.postgres
def test_rerun_replaces_report_ranges_without_duplicates_and_records_the_report_in_the_ledger(
    world: World, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline(INSIGHTS_REPORTS=json.dumps([AGE_GENDER]))
    pipeline.run()
    engine, schema = pipeline.warehouse_engine, pipeline.settings.warehouse_schema
    account = pipeline.settings.accounts[0]
    first = _rows(engine, schema, f"{account.table}__age_gender")
    pipeline.run()
    second = _rows(engine, schema, f"{account.table}__age_gender")
    assert [r["unique_id"] for r in second] == [r["unique_id"] for r in first]
    runs = _rows(engine, schema, "metaads_account_runs")
    reports = {(r["table_name"], r["report"]) for r in runs if r["account_id"] == account.id}
    assert reports == {(account.table, None), (f"{account.table}__age_gender", "age_gender")}
    view = _rows(engine, schema, "vw_graph_age_gender")
    assert len(view) == sum(len(_rows(engine, schema, f"{a.table}__age_gender")) for a in pipeline.settings.accounts)


@pytest.mark.postgres
def test_default_report_tables_are_unchanged_by_extra_reports(
    world: World, make_pipeline: Callable[..., Pipeline], tmp_path: Path
) -> None:
    plain = make_pipeline()
    plain.run()
    account = plain.settings.accounts[0]
    schema = plain.settings.warehouse_schema

    def default_tables(pipeline: Pipeline) -> list[list[tuple[Any, ...]]]:
        out = []
        for name in (account.table, account.actions_table, "vw_graph_ads", "vw_graph_ads_actions"):
            table = _table(pipeline.warehouse_engine, schema, name)
            with pipeline.warehouse_engine.connect() as conn:
                out.append([tuple(r) for r in conn.execute(sa.select(table).order_by(table.c.unique_id))])
        return out

    before = default_tables(plain)
    columns = [
        c["name"]
        for c in sa.inspect(plain.warehouse_engine).get_columns(
            account.table, schema=None if plain.warehouse_engine.dialect.name == "sqlite" else schema
        )
    ]
    with_reports = make_pipeline(INSIGHTS_REPORTS=json.dumps([AGE_GENDER, COUNTRY]))
    summary = with_reports.run()
    assert summary.ads_rows > 0  # the default report was loaded again, next to the extra reports
    assert all(r.reports for r in summary.results)
    after = default_tables(with_reports)
    assert after == before
    assert [
        c["name"]
        for c in sa.inspect(with_reports.warehouse_engine).get_columns(
            account.table, schema=None if with_reports.warehouse_engine.dialect.name == "sqlite" else schema
        )
    ] == columns


@pytest.fixture(params=["sqlite", "postgres"])
def analytics_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """(ANALYTICS_URL, analytics schema) of a fresh analytics database: a SQLite file or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'analytics.db'}", None
        return
    url = request.getfixturevalue("pg_url")
    schema = f"an_{uuid.uuid4().hex[:12]}"
    yield url, schema
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.mark.postgres
def test_reports_sync_into_analytics_tables(
    world: World, make_pipeline: Callable[..., Pipeline], analytics_target: tuple[str, str | None]
) -> None:
    analytics, analytics_schema = analytics_target
    pipeline = make_pipeline(
        INSIGHTS_REPORTS=json.dumps([AGE_GENDER, DEVICE_WINDOWS]),
        ANALYTICS_URL=analytics,
        **({"ANALYTICS_SCHEMA": analytics_schema} if analytics_schema else {}),
    )
    pipeline.run()
    first = pipeline.sync()
    assert first is not None
    engine, schema = pipeline.warehouse_engine, pipeline.settings.warehouse_schema
    target = sa.create_engine(analytics)
    try:
        for name in ("age_gender", "age_gender_lists", "device_windows", "device_windows_lists"):
            copied = _rows(target, analytics_schema, f"graph_{name}")
            source = _rows(engine, schema, f"vw_graph_{name}")
            assert len(copied) == len(source) > 0
            assert {r["unique_id"] for r in copied} == {r["unique_id"] for r in source}
        spend = sum(Decimal(str(r["spend"])) for r in _rows(target, analytics_schema, "graph_age_gender"))
        assert spend == sum(Decimal(str(r["spend"])) for r in _rows(engine, schema, "vw_graph_age_gender"))
        assert len(_rows(target, analytics_schema, "graph_ads")) == len(_rows(engine, schema, "vw_graph_ads"))
        pipeline.run()
        again = pipeline.sync()
        assert again is not None
        assert again.mode == "incremental"
        counts = {t.name: t.rows for t in again.tables}
        assert counts["graph_age_gender"] > 0
        assert counts["graph_ads"] > 0
        assert len(_rows(target, analytics_schema, "graph_age_gender")) == len(
            _rows(engine, schema, "vw_graph_age_gender")
        )
    finally:
        target.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("mode", "ledger_status", "rows_kept", "account_status"),
    [
        ("off", "loaded", False, "loaded"),
        ("warn", "mismatch", False, "loaded"),
        # The default report is short too: its strict mismatch fails the account.
        ("strict", "mismatch", True, "failed"),
    ],
    ids=["off-short-answer-replaces-rows", "warn-loads-and-records-mismatch", "strict-keeps-stored-rows"],
)
def test_report_short_of_account_totals_is_reconciled(
    world: World,
    make_pipeline: Callable[..., Pipeline],
    mode: str,
    ledger_status: str,
    rows_kept: bool,
    account_status: str,
) -> None:
    pipeline = make_pipeline(INSIGHTS_REPORTS=json.dumps([AGE_GENDER]), RECONCILE=mode)
    account = pipeline.settings.accounts[0]
    first = pipeline.extract_and_load(account)
    assert [c.status for c in first.reports] == ["loaded"]
    engine, schema = pipeline.warehouse_engine, pipeline.settings.warehouse_schema
    before = _rows(engine, schema, f"{account.table}__age_gender")

    world.sim.faults.missing_rows_rate = 0.2  # ad-level answers miss a fifth of the ad-days
    try:
        result = pipeline.extract_and_load(account)
    finally:
        world.sim.faults.missing_rows_rate = 0.0

    after = _rows(engine, schema, f"{account.table}__age_gender")
    assert (after == before) is rows_kept
    if not rows_kept:
        assert len(after) < len(before)
    (chunk,) = result.reports
    assert chunk.status == ledger_status
    assert chunk.kept_stored_rows is rows_kept
    ledger = [r for r in _rows(engine, schema, "metaads_account_runs") if r["report"] == "age_gender"]
    assert max(ledger, key=lambda r: r["id"])["status"] == ledger_status
    assert result.status == account_status
    if mode != "off":
        assert "differs from Meta's account totals (spend, impressions, clicks)" in (chunk.error or "")


@pytest.mark.postgres
def test_sync_before_a_report_was_ever_loaded_copies_the_default_and_skips_the_report(
    world: World, make_pipeline: Callable[..., Pipeline], tmp_path: Path
) -> None:
    analytics = f"sqlite:///{tmp_path / 'analytics.db'}"
    make_pipeline(ANALYTICS_URL=analytics).run()
    configured_since = make_pipeline(INSIGHTS_REPORTS=json.dumps([AGE_GENDER]), ANALYTICS_URL=analytics)
    result = configured_since.sync()
    assert result is not None
    assert [t.name for t in result.tables] == ["graph_ads", "graph_ads_actions"]
    assert result.tables[0].rows > 0
