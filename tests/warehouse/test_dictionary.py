"""Every table, view and column is described once where it is defined; PostgreSQL and the docs carry it.

Insights and ledger tables in the schema, entity tables in the entity row contract, extra-report tables
in the report layout (fixed columns there, field columns from the insights field catalogue).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from metaads.accounts import Account
from metaads.graph.fields import INSIGHTS_FIELDS
from metaads.transform.entities import ENTITY_KINDS
from metaads.transform.report_spec import STORAGE_DESCRIPTIONS, ReportSpec, check_report, layout
from metaads.warehouse import Warehouse
from metaads.warehouse.dictionary import (
    EXAMPLE,
    EXAMPLE_REPORT,
    apply_comments,
    data_dictionary,
    dictionary_tables,
    report_view_relations,
    view_relations,
)
from metaads.warehouse.entities import EntityStore, view_comment, view_name
from metaads.warehouse.entities import view_relations as entity_view_relations
from metaads.warehouse.schema import ACTIONS_VIEW, ADS_VIEW

ROOT = Path(__file__).resolve().parents[2]

#: Reports between them using every level, storage kind, a period, breakdowns, action breakdowns and windows.
REPORTS = (
    EXAMPLE_REPORT,
    ReportSpec(
        name="weekly_campaigns",
        level="campaign",
        fields=("campaign_name", "campaign_id", "clicks", "cpc", "video_play_curve_actions", "action_values"),
        breakdowns=("publisher_platform", "platform_position"),
        action_attribution_windows=("28d_click",),
        time_increment=7,
    ),
    ReportSpec(name="account_totals", level="account", fields=("spend", "account_currency", "purchase_roas")),
)


def test_the_reports_used_here_are_valid_and_cover_every_storage_kind() -> None:
    for spec in REPORTS:
        check_report(spec)
    kinds = {INSIGHTS_FIELDS[f].storage for spec in REPORTS for f in spec.fields}
    assert kinds == set(STORAGE_DESCRIPTIONS)


def test_committed_data_dictionary_is_what_the_schema_generates() -> None:
    committed = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == data_dictionary(), "run: metaads docs data-dictionary > docs/data-dictionary.md"


def test_every_table_view_and_column_has_a_description() -> None:
    found = dictionary_tables(REPORTS)
    tables = found.all
    assert {t.name for t in found.entities} == {f"{EXAMPLE.table}_{kind.name}" for kind in ENTITY_KINDS}
    assert len(found.reports) == len(REPORTS)
    warehouse = Warehouse(sa.create_engine("sqlite://"), schema=None, reports=REPORTS)
    warehouse.tables(EXAMPLE)
    for spec in REPORTS:
        warehouse.report_tables(EXAMPLE, spec.name)
    # The dictionary shows every table the warehouse defines (and the entity store's).
    assert set(warehouse.metadata.tables) <= {t.name for t in tables}
    missing = [f"{t.name}.{c.name}" for t in tables for c in t.columns if not c.comment]
    missing += [t.name for t in tables if not t.comment]
    views = [*view_relations(), *entity_view_relations()]
    views += [v for report, _, _ in found.reports for v in report_view_relations(report)]
    missing += [f"{v.name}.{name}" for v in views for name, _, comment in v.columns if not comment]
    missing += [v.name for v in views if not v.comment]
    assert missing == []


def test_report_field_columns_are_described_from_the_catalogue() -> None:
    # Every scalar AdsInsights field, as a column of one report: its text names the field, Meta's type
    # and the storage kind, as the catalogue has them.
    fixed = {"account_id", "ad_id", "date_start", "date_stop"}
    scalars = tuple(n for n, f in INSIGHTS_FIELDS.items() if f.storage != "list" and n not in fixed)
    report = layout(ReportSpec(name="everything", fields=scalars))
    described = {c.name: c.description for c in report.columns}
    for name in scalars:
        known = INSIGHTS_FIELDS[name]
        assert described[name].startswith(f"{name}: AdsInsights field (Meta type {known.meta_type})"), name
        assert STORAGE_DESCRIPTIONS[known.storage] in described[name], name
    lists = layout(REPORTS[1])
    field = {c.name: c.description for c in lists.list_columns}["field"]
    assert "video_play_curve_actions (list<AdsHistogramStats>)" not in field  # json, not a list field
    assert "action_values (list<AdsActionStats>)" in field
    assert {c.name: c.description for c in lists.columns}["date_stop"].startswith("last day of the row's 7-day")


def test_data_dictionary_shows_configured_reports_instead_of_the_example() -> None:
    configured = data_dictionary(REPORTS[1:])
    assert f"### `{EXAMPLE.table}__weekly_campaigns_lists` (table)" in configured
    assert "### `vw_graph_account_totals` (view)" in configured
    assert EXAMPLE_REPORT.name not in configured
    assert f"### `{EXAMPLE.table}__{EXAMPLE_REPORT.name}` (table)" in data_dictionary()


def test_cli_shows_the_configured_reports_with_reports_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import metaads.cli.docs_cmd  # noqa: F401 - registers `metaads docs`
    from metaads.cli import app

    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("META_ACCOUNTS", "act_101:bm_01")
    monkeypatch.setenv("GRAPH_API_TOKENS", "EAAtest0000token")
    monkeypatch.setenv("INSIGHTS_REPORTS", json.dumps([{"name": "by_country", "breakdowns": ["country"]}]))
    runner = CliRunner()
    plain = runner.invoke(app, ["docs", "data-dictionary"])
    assert plain.exit_code == 0, plain.output
    assert plain.output == data_dictionary()
    done = runner.invoke(app, ["docs", "data-dictionary", "--reports"])
    assert done.exit_code == 0, done.output
    assert "### `bm_01__by_country` (table)" in done.output
    assert "| `country` |" in done.output
    assert EXAMPLE_REPORT.name not in done.output


def test_postgresql_carries_the_descriptions_as_comments(pg_engine: sa.Engine, pg_schema: str) -> None:
    warehouse = Warehouse(pg_engine, pg_schema)
    warehouse.init([EXAMPLE])
    ads, _ = warehouse.tables(EXAMPLE)
    inspector = sa.inspect(pg_engine)
    assert inspector.get_table_comment(ads.name, schema=pg_schema)["text"] == ads.comment
    assert inspector.get_table_comment(ADS_VIEW, schema=pg_schema)["text"] is not None
    view_columns = {c["name"]: c["comment"] for c in inspector.get_columns(ACTIONS_VIEW, schema=pg_schema)}
    _, actions = warehouse.tables(EXAMPLE)
    assert view_columns["action_value"] == actions.c.action_value.comment
    spend = {c["name"]: c["comment"] for c in inspector.get_columns(ads.name, schema=pg_schema)}["spend"]
    assert spend == ads.c.spend.comment
    with pg_engine.begin() as conn:  # comments already current: nothing is rewritten
        assert apply_comments(conn, list(warehouse.metadata.tables.values()), pg_schema) == 0
        conn.exec_driver_sql(f'COMMENT ON COLUMN "{pg_schema}"."{ads.name}".spend IS NULL')
        assert apply_comments(conn, list(warehouse.metadata.tables.values()), pg_schema) == 1


def _comments(engine: sa.Engine, schema: str, name: str) -> tuple[str | None, dict[str, str | None]]:
    inspector = sa.inspect(engine)
    columns = {c["name"]: c.get("comment") for c in inspector.get_columns(name, schema=schema)}
    return inspector.get_table_comment(name, schema=schema)["text"], columns


def test_postgresql_comments_every_report_and_entity_table_and_view(pg_engine: sa.Engine, pg_schema: str) -> None:
    second = Account(id="222", table="bm_02", label=None, index=1)
    warehouse = Warehouse(pg_engine, pg_schema, reports=REPORTS)
    warehouse.init([EXAMPLE, second])
    entities = EntityStore(pg_engine, pg_schema)
    entities.init([EXAMPLE, second])
    expected: list[tuple[str, str | None, dict[str, str | None]]] = []
    for account in (EXAMPLE, second):
        for spec in REPORTS:
            expected += [
                (t.name, t.comment, {c.name: c.comment for c in t.columns})
                for t in warehouse.report_tables(account, spec.name)
            ]
        expected += [
            (t.name, t.comment, {c.name: c.comment for c in t.columns})
            for t in (entities.table(account, kind) for kind in ENTITY_KINDS)
        ]
    expected += [(t.name, t.comment, {c.name: c.comment for c in t.columns}) for t in (entities.loads, entities.syncs)]
    views = [*entity_view_relations()]
    views += [v for spec in REPORTS for v in report_view_relations(warehouse.reports[spec.name])]
    expected += [(v.name, v.comment, {n: c for n, _, c in v.columns}) for v in views]
    assert len(expected) == 2 * (2 * len(REPORTS) + len(ENTITY_KINDS)) + 2 + 2 * len(REPORTS) + len(ENTITY_KINDS)
    for name, comment, columns in expected:
        stored = _comments(pg_engine, pg_schema, name)
        assert stored == (comment, columns), name
        assert all(columns.values()), name
    # An entity table and a report view whose comments were lost (made by an older release) get them back.
    campaigns = entities.table(EXAMPLE, ENTITY_KINDS[0])
    report_view = REPORTS[0].view
    with pg_engine.begin() as conn:
        conn.exec_driver_sql(f'COMMENT ON TABLE "{pg_schema}"."{campaigns.name}" IS NULL')
        conn.exec_driver_sql(f'COMMENT ON COLUMN "{pg_schema}"."{campaigns.name}".objective IS NULL')
        conn.exec_driver_sql(f'COMMENT ON COLUMN "{pg_schema}"."{report_view}".spend IS NULL')
    entities.init([EXAMPLE, second])
    warehouse.init([EXAMPLE, second])
    assert _comments(pg_engine, pg_schema, campaigns.name)[0] == campaigns.comment
    assert _comments(pg_engine, pg_schema, campaigns.name)[1]["objective"] == campaigns.c.objective.comment
    assert (
        _comments(pg_engine, pg_schema, report_view)[1]["spend"]
        == warehouse.report_tables(EXAMPLE, REPORTS[0].name)[0].c.spend.comment
    )
    assert _comments(pg_engine, pg_schema, view_name(ENTITY_KINDS[0]))[0] == view_comment(ENTITY_KINDS[0])


def test_descriptions_fit_every_analytics_database() -> None:
    # The analytics targets carry the column descriptions too: MySQL takes at most 1024 characters.
    lists = tuple(n for n, f in INSIGHTS_FIELDS.items() if f.storage == "list")
    scalars = tuple(n for n, f in INSIGHTS_FIELDS.items() if f.storage != "list")
    everything = ReportSpec(name="everything", fields=(*scalars, *lists), action_attribution_windows=("7d_click",))
    report = layout(everything)
    field = {c.name: c.description for c in report.list_columns}["field"]
    assert f"one of the {len(lists)} list-valued fields" in field
    described = [c.description for c in (*report.columns, *report.list_columns)]
    described += [c.comment or "" for t in dictionary_tables(REPORTS).all for c in t.columns]
    assert max(len(text) for text in described) <= 1024
    assert "actions (list<AdsActionStats>)" in {c.name: c.description for c in layout(REPORTS[0]).list_columns}["field"]
