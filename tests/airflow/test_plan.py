"""The DAG's layout from configuration (task ids, groups, time zone) and how the run is judged.

Pure metaads code: no Airflow needed.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from metaads import settings_from_mapping
from metaads.accounts import Account
from metaads.dates import DateRange
from metaads.errors import (
    AsyncJobFailedError,
    BadRequestError,
    ConfigError,
    DataTooLargeError,
    DeprecatedVersionError,
    InsightRowError,
    LoadError,
    NoUsableTokenError,
    PagingError,
    PermissionDeniedError,
    RateLimitedError,
    RowRejectedError,
    TokenInvalidError,
    TransientError,
    UnexpectedError,
)
from metaads.orchestration import (
    AccountFailedError,
    RunFailedError,
    finish_run,
    is_retryable,
    lineage,
    plan_from_settings,
    task_slug,
)
from metaads.orchestration.plan import analytics_tables, warehouse_views
from metaads.pipeline import AccountResult, ChunkResult, Pipeline
from metaads.statuses import AccountStatus
from tests.airflow.conftest import ENTITY_TARGETS, ENTITY_VIEWS


def settings(accounts: str, **extra: str):  # type: ignore[no-untyped-def]
    return settings_from_mapping({"META_ACCOUNTS": accounts, "GRAPH_API_TOKENS": "tok_a", **extra})


REPORTS = json.dumps(
    [
        {"name": "age_gender", "breakdowns": ["age", "gender"], "fields": ["spend", "actions"]},
        {"name": "by_country", "level": "campaign", "breakdowns": ["country"]},
    ]
)


def test_lineage_declares_the_reports_and_entity_views_and_their_analytics_tables() -> None:
    warehouse, analytics = lineage(
        settings(
            "act_1:bm_01",
            INSIGHTS_REPORTS=REPORTS,
            WAREHOUSE_URL="postgresql+psycopg://etl:pw@wh.example:5433/ads",
            WAREHOUSE_SCHEMA="meta_ads",
            ANALYTICS_URL="postgresql+psycopg://bi:pw@bi.example/reporting",
            ANALYTICS_SCHEMA="graph",
        )
    )
    views = ["vw_graph_ads", "vw_graph_ads_actions", "vw_graph_age_gender", "vw_graph_age_gender_lists"]
    views += ["vw_graph_by_country", "vw_graph_by_country_lists", *ENTITY_VIEWS]
    assert [d.name for d in warehouse] == [f"metaads.warehouse.meta_ads.{view}" for view in views]
    assert [d.uri for d in warehouse][3] == "postgres://wh.example:5433/ads/meta_ads/vw_graph_age_gender_lists"
    tables = ["graph_ads", "graph_ads_actions", "graph_age_gender", "graph_age_gender_lists"]
    tables += ["graph_by_country", "graph_by_country_lists", *ENTITY_TARGETS]
    assert [d.name for d in analytics] == [f"metaads.analytics.graph.{table}" for table in tables]
    assert [d.uri for d in analytics][-1] == "postgres://bi.example/reporting/graph/graph_creatives"
    assert all("pw" not in d.uri for d in (*warehouse, *analytics))


@pytest.mark.parametrize(
    ("extra", "views", "tables"),
    [
        (
            {},
            ["vw_graph_ads", "vw_graph_ads_actions", *ENTITY_VIEWS],
            ["graph_ads", "graph_ads_actions", *ENTITY_TARGETS],
        ),
        ({"ENTITY_TABLES": "false"}, ["vw_graph_ads", "vw_graph_ads_actions"], ["graph_ads", "graph_ads_actions"]),
        (
            {"ENTITY_TABLES": "false", "INSIGHTS_REPORTS": '[{"name": "daily"}]'},
            ["vw_graph_ads", "vw_graph_ads_actions", "vw_graph_daily", "vw_graph_daily_lists"],
            ["graph_ads", "graph_ads_actions", "graph_daily", "graph_daily_lists"],
        ),
    ],
    ids=["entities-by-default", "entities-off", "a-report-without-entities"],
)
def test_lineage_declares_only_what_is_configured(extra: dict[str, str], views: list[str], tables: list[str]) -> None:
    configured = settings("act_1", ANALYTICS_URL="sqlite:///analytics.db", **extra)
    warehouse, analytics = lineage(configured)
    assert [d.name for d in warehouse] == [f"metaads.warehouse.meta_ads.{view}" for view in views]
    assert [d.name for d in analytics] == [f"metaads.analytics.graph.{table}" for table in tables]
    assert lineage(settings("act_1", **extra))[1] == ()  # no analytics database: nothing synced


@pytest.mark.parametrize("entity_tables", ["true", "false"])
def test_lineage_names_the_views_the_warehouse_creates_and_the_tables_the_sync_writes(
    tmp_path: Path, entity_tables: str
) -> None:
    configured = settings(
        "act_1:bm_01,act_2:bm_02",
        INSIGHTS_REPORTS=REPORTS,
        ENTITY_TABLES=entity_tables,
        WAREHOUSE_URL=f"sqlite:///{tmp_path / 'warehouse.db'}",
        ANALYTICS_URL=f"sqlite:///{tmp_path / 'analytics.db'}",
    )
    with Pipeline.from_settings(configured) as pipeline:  # no Graph API call: init and an empty sync
        pipeline.init_warehouse()
        assert pipeline.sync(full=False) is not None
    created = sa.create_engine(configured.warehouse_url)
    synced = sa.create_engine(f"sqlite:///{tmp_path / 'analytics.db'}")
    try:
        assert sorted(warehouse_views(configured)) == sorted(sa.inspect(created).get_view_names())
        assert sorted(analytics_tables(configured)) == sorted(sa.inspect(synced).get_table_names())
    finally:
        created.dispose()
        synced.dispose()


@pytest.mark.parametrize(
    ("label", "slug"),
    [
        ("Acme EU", "acme_eu"),
        ("  Acme -- EU  ", "acme_eu"),
        ("Café Olé – FR", "cafe_ole_fr"),
        ("서울 쇼핑", ""),
        ("Shop #2 (new)", "shop_2_new"),
        ("x" * 300, "x" * 100),
    ],
    ids=["spaces", "punctuation-runs", "accents-folded", "no-latin-letters", "symbols", "capped-length"],
)
def test_task_slug_keeps_ascii_letters_digits_and_single_underscores(label: str, slug: str) -> None:
    assert task_slug(label) == slug


def test_accounts_are_grouped_in_configuration_order_with_label_task_ids() -> None:
    plan = plan_from_settings(
        settings(
            "act_1:bm_01:Acme EU,act_2:bm_02:서울 쇼핑,act_3:bm_03:Acme-EU,act_4:shop:bm_01x,act_5:bm_05:shop",
            ACCOUNT_GROUP_SIZE="2",
        )
    )
    assert [[t.full_task_id for t in g.tasks] for g in plan.groups] == [
        # "Acme EU" and "Acme-EU" would share an id: both use their tables instead.
        ["accounts_group_1.extract_bm_01", "accounts_group_1.extract_bm_02"],
        ["accounts_group_2.extract_bm_03", "accounts_group_2.extract_bm_01x"],
        # label "shop" is another account's table: the table name avoids the confusion
        ["accounts_group_3.extract_bm_05"],
    ]
    assert plan.task_for("2").display_name == "서울 쇼핑 (act_2)"
    assert plan.timezone == "UTC"


def test_unknown_time_zone_is_a_config_error_naming_pipeline_timezone() -> None:
    with pytest.raises(ConfigError, match="PIPELINE_TIMEZONE"):
        plan_from_settings(settings("act_1", PIPELINE_TIMEZONE="Europe/Atlantis"))


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (TransientError("HTTP 500", code=1), True),
        (RateLimitedError("throttled", retry_after_s=60.0), True),
        (LoadError("database went away"), True),
        (PermissionDeniedError("no ads_read", code=200), False),
        (TokenInvalidError("expired", code=190), False),
        (BadRequestError("bad field", code=100), False),
        (BadRequestError("Object with ID 'act_9' does not exist", code=100, subcode=33), False),
        (ConfigError("not configured", variable="META_ACCOUNTS"), False),
        (DeprecatedVersionError("v19.0 is gone", code=2635), False),
        (NoUsableTokenError("all tokens invalid"), False),
        (DataTooLargeError("reduce the amount of data", code=1), True),
        (PagingError("cursor repeated"), True),
        (AsyncJobFailedError("Job Failed", async_status="Job Failed", report_run_id="1"), True),
        (InsightRowError("spend: 'x' is not a number"), False),
        (RowRejectedError("integer out of range"), False),
        (UnexpectedError("KeyError: 'x'"), False),
        (ValueError("a fault nobody foresaw"), False),
    ],
    ids=[
        "transient",
        "rate-limited",
        "load-error",
        "permission",
        "token",
        "bad-request",
        "object-missing-100-33",
        "config",
        "deprecated-version",
        "no-usable-token",
        "data-too-large",
        "paging",
        "async-job-failed",
        "bad-insights-row",
        "row-rejected",
        "unexpected-wrapped",
        "unexpected-bare",
    ],
)
def test_only_failures_that_time_can_fix_are_retried(error: Exception, retry: bool) -> None:
    assert is_retryable(error) is retry


def outcome(account_id: str, name: str, status: str, error: str | None = None) -> AccountResult:
    account = Account(id=account_id, table=f"t_{account_id}", label=name, index=int(account_id) - 1)
    window = DateRange(date(2026, 11, 20), date(2026, 11, 24))
    chunk = ChunkResult(
        window,
        AccountStatus(status),
        ads_rows=3 if status == "loaded" else 0,
        error=error,
        api_calls=4,
        throttled_s=1.5,
        duration_s=2.0,
        retryable=status == "loaded",
    )
    return AccountResult(
        account=account,
        status=AccountStatus(status),
        range=window,
        chunks=[chunk],
        api_calls=4,
        throttled_s=1.5,
        duration_s=2.0,
        error=error,
        retryable=status == "loaded",
    )


def test_account_result_survives_the_xcom_round_trip_and_its_failure_says_whether_to_retry() -> None:
    failed = outcome("2", "Beta", "failed", "(#200) no permission")
    assert AccountResult.from_xcom(failed.to_xcom(), failed.account) == failed
    loaded = outcome("1", "Alpha", "loaded")
    assert AccountResult.from_xcom(loaded.to_xcom(), loaded.account) == loaded
    error = AccountFailedError(failed)
    assert error.retryable is False
    assert is_retryable(error) is False
    assert "Beta (act_2) failed: (#200) no permission" in str(error)


def test_an_xcom_of_another_account_is_refused() -> None:
    with pytest.raises(ValueError, match="account '2'"):
        AccountResult.from_xcom(outcome("2", "Beta", "loaded").to_xcom(), outcome("1", "Alpha", "loaded").account)


def test_finish_fails_naming_every_account_that_did_not_load() -> None:
    config = settings("act_1:bm_01:Alpha,act_2:bm_02:Beta,act_3:bm_03:Gamma")
    plan = plan_from_settings(config)
    outcomes = {
        "1": outcome("1", "Alpha", "loaded").to_xcom(),
        "2": outcome("2", "Beta", "failed", "(#200) no permission").to_xcom(),
        "3": None,
    }
    with pytest.raises(RunFailedError) as caught:
        finish_run(config, None, plan.tasks, outcomes, {"ads_rows": 10})
    message = str(caught.value)
    assert message.startswith("2 of 3 account(s) did not load: ")
    assert "Beta (act_2) failed: (#200) no permission" in message
    assert "Gamma (act_3) no result reported (see the log of task accounts_group_1.extract_gamma)" in message
    assert "Alpha" not in message
    assert caught.value.failed_accounts == ["Beta", "Gamma"]
    assert caught.value.sync_failed is False


def test_finish_fails_when_only_the_sync_failed_and_passes_when_all_is_well() -> None:
    config = settings("act_1:bm_01:Alpha")
    plan = plan_from_settings(config)
    loaded = {"1": outcome("1", "Alpha", "loaded").to_xcom()}
    with pytest.raises(RunFailedError, match="the analytics sync failed") as caught:
        finish_run(config, None, plan.tasks, loaded, None)
    assert caught.value.failed_accounts == []
    report = finish_run(config, None, plan.tasks, loaded, {"skipped": "ANALYTICS_URL is not set"})
    assert (report.status, report.failed, report.sync_ok) == ("success", [], True)
