"""``metaads verify`` checks every extra report against Meta's account totals, report by report: the
simulator over real HTTP (its breakdown rows add up to the unbroken totals, as Meta's do), real databases."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from metaads.pipeline import Pipeline
from tests.integration.conftest import World
from tests.integration.test_cli import metaads

REPORTS = [
    {"name": "age_gender", "fields": ["spend", "impressions", "clicks", "reach"], "breakdowns": ["age", "gender"]},
    {
        "name": "by_campaign",
        "level": "campaign",
        "fields": ["campaign_name", "spend", "impressions", "inline_link_clicks"],
    },
    {"name": "whole", "level": "account", "fields": ["spend", "clicks"]},
    {
        "name": "placement",
        "level": "adset",
        "fields": ["spend", "impressions"],
        "breakdowns": ["publisher_platform", "platform_position"],
    },
    {"name": "rates", "fields": ["reach", "ctr"]},
]
METRICS = {
    "age_gender": ["spend", "impressions", "clicks"],
    "by_campaign": ["spend", "impressions", "inline_link_clicks"],
    "whole": ["spend", "clicks"],
    "placement": ["spend", "impressions"],
    "rates": [],
}


def test_verify_checks_every_report_in_warehouse_and_analytics(
    world: World, make_pipeline: Callable[..., Pipeline], tmp_path: Path
) -> None:
    pipeline = make_pipeline(INSIGHTS_REPORTS=json.dumps(REPORTS), ANALYTICS_URL=f"sqlite:///{tmp_path / 'an.db'}")
    summary = pipeline.run()
    assert summary.ok, [r.error for r in summary.results]
    assert pipeline.sync() is not None
    loaded = summary.results[0].range
    assert loaded is not None

    report = pipeline.verify(since=loaded.since, until=loaded.until)

    assert report.exit_code == 0, [c.as_dict() for c in report.checks if c.error or (c.check and not c.check.ok)]
    found = report.as_dict()["accounts"]
    expected = {
        (a.table, name, source)
        for a in pipeline.settings.accounts
        for name in (None, *METRICS)
        for source in ("warehouse", "analytics")
    }
    assert {(c["table"], c["report"], c["source"]) for c in found} == expected
    for check in found:
        if check["report"] == "rates":
            assert check["skipped"] == "requests none of spend, impressions, clicks, inline_link_clicks"
            assert check["days_checked"] == 0
            continue
        assert check["skipped"] is None
        assert check["days_checked"] == check["days_equal"] == loaded.days, check
        if check["report"] is not None:
            assert check["metrics"] == METRICS[check["report"]]


REPORTS_TOML = """
[[reports]]
name = "by_country"
level = "campaign"
fields = ["spend", "impressions", "clicks"]
breakdowns = ["country"]
"""


def test_verify_names_the_report_that_differs_in_text_and_json(live_world: World, tmp_path: Path) -> None:
    (tmp_path / "reports.toml").write_text(REPORTS_TOML)
    days = {"LOOKBACK_DAYS": "28", "DEEP_LOOKBACK_DAYS": "28", "INITIAL_HISTORY_DAYS": "28"}
    plain = {**live_world.base_env, **days, "WAREHOUSE_URL": f"sqlite:///{tmp_path / 'wh.db'}"}
    env = {**plain, "INSIGHTS_REPORTS": "reports.toml"}
    # Campaign-level answers miss a fifth of their ads while the report loads; the default report is then
    # loaded again from complete answers, so only the report is short of Meta's account totals.
    live_world.sim.faults.missing_rows_rate = 0.2
    try:
        assert metaads("run", "--no-sync", env={**env, "RECONCILE": "off"}, cwd=tmp_path).returncode == 0
    finally:
        live_world.sim.faults.missing_rows_rate = 0.0
    assert metaads("run", "--no-sync", env=plain, cwd=tmp_path).returncode == 0

    done = metaads("verify", "--json", env=env, cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    found = json.loads(done.stdout)
    assert found["exit_code"] == 3
    default = [c for c in found["accounts"] if c["report"] is None]
    country = [c for c in found["accounts"] if c["report"] == "by_country"]
    assert len(default) == len(country) == 3
    assert all(c["days_checked"] == c["days_equal"] == 28 and c["first_bad_day"] is None for c in default)
    assert all(c["first_bad_day"] is not None and c["days_equal"] < c["days_checked"] for c in country)
    assert all(set(c["worst_difference"]) <= {"spend", "impressions", "clicks"} for c in country)
    assert any(c["worst_difference"] for c in country)

    text = metaads("verify", "--accounts", "bm_01", env=env, cwd=tmp_path)
    assert text.returncode == 3, text.stdout + text.stderr
    assert "by_country" in text.stdout
    assert "default" in text.stdout
    assert "some days differ" in text.stdout
