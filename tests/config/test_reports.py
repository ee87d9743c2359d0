"""INSIGHTS_REPORTS: files and inline JSON parsed, every mistake named by report and field before any call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metaads import ConfigError, settings_from_mapping
from metaads.config.reports import parse_reports

BASE = {"META_ACCOUNTS": "1001:bm_01", "GRAPH_API_TOKENS": "tok"}

TOML = """
[[reports]]
name = "age_gender"
level = "ad"
fields = ["spend", "impressions", "actions"]
breakdowns = ["age", "gender"]

[[reports]]
name = "country"
level = "campaign"
fields = ["campaign_name", "spend", "cost_per_action_type"]
breakdowns = ["country"]
action_attribution_windows = ["7d_click", "1d_view"]
action_report_time = "conversion"
lookback_days = 30
"""

YAML = """
reports:
  - name: age_gender
    level: ad
    fields: [spend, impressions, actions]
    breakdowns: [age, gender]
  - name: country
    level: campaign
    fields: [campaign_name, spend, cost_per_action_type]
    breakdowns: [country]
    action_attribution_windows: [7d_click, 1d_view]
    action_report_time: conversion
    lookback_days: 30
"""


@pytest.mark.parametrize(("suffix", "text"), [(".toml", TOML), (".yaml", YAML)], ids=["toml", "yaml"])
def test_reports_file_is_read_into_validated_specs(tmp_path: Path, suffix: str, text: str) -> None:
    path = tmp_path / f"reports{suffix}"
    path.write_text(text)
    settings = settings_from_mapping({**BASE, "INSIGHTS_REPORTS": str(path)})
    age, country = settings.reports
    assert (age.name, age.level, age.breakdowns, age.time_increment) == ("age_gender", "ad", ("age", "gender"), 1)
    assert country.action_attribution_windows == ("7d_click", "1d_view")
    assert (country.action_report_time, country.lookback_days) == ("conversion", 30)
    assert country.table("bm_01") == "bm_01__country"
    assert country.lists_table("bm_01") == "bm_01__country_lists"


def test_no_reports_configured_means_the_default_report_only() -> None:
    assert settings_from_mapping(BASE).reports == ()


def _report(**changes: object) -> str:
    report: dict[str, object] = {"name": "r1", "level": "ad", "fields": ["spend"]}
    report.update(changes)
    return json.dumps([report])


CASES = [
    (_report(name="Bad-Name"), "report 'Bad-Name', name"),
    (_report(name="a" * 32), "name"),
    (_report(name="ads"), "report 'ads', name"),
    (_report(name="campaigns"), "report 'campaigns', name: 'campaigns' is taken: vw_graph_campaigns is"),
    (_report(level="creative"), "report 'r1', level"),
    (_report(fields=["spend", "spendd"]), "report 'r1', fields: unknown field 'spendd'"),
    (_report(level="campaign", fields=["ad_name"]), "report 'r1', fields: 'ad_name' is not available at level"),
    (_report(level="account", fields=["campaign_id"]), "report 'r1', fields: 'campaign_id'"),
    (_report(breakdowns=["age", "country"]), "report 'r1', breakdowns: Meta does not combine age, country"),
    (_report(breakdowns=["platform_position"]), "report 'r1', breakdowns: platform_position needs publisher"),
    (_report(breakdowns=["agee"]), "report 'r1', breakdowns: unknown breakdown 'agee'"),
    (
        _report(fields=["spend", "actions"], action_breakdowns=["action_colour"]),
        "report 'r1', action_breakdowns: unknown action breakdown 'action_colour'",
    ),
    (
        _report(fields=["actions"], action_attribution_windows=["9d_click"]),
        "report 'r1', action_attribution_windows: unknown attribution window '9d_click'",
    ),
    (_report(action_breakdowns=["action_device"]), "report 'r1', action_breakdowns: action breakdowns"),
    (_report(action_report_time="later"), "report 'r1', action_report_time"),
    (_report(time_increment=0), "report 'r1', time_increment"),
    (_report(colour="red"), "report 'r1', colour: unknown setting"),
    (_report(fields="spend, clicks", lookback_days="7"), "report 'r1', lookback_days"),
    (
        json.dumps([{"name": "r1", "fields": ["spend"]}, {"name": "r1", "fields": ["clicks"]}]),
        "report 'r1', name: two reports have this name",
    ),
    (_report(name="r" * 31), "over PostgreSQL's 63"),
    ('[{"name": ', "INSIGHTS_REPORTS: not valid JSON"),
    ("/nowhere/reports.toml", "neither an inline JSON list nor a readable file"),
]


@pytest.mark.parametrize(
    ("value", "message"),
    CASES,
    ids=[
        "name-shape",
        "name-too-long",
        "name-taken-by-default",
        "name-taken-by-an-entity-view",
        "level",
        "unknown-field",
        "field-finer-than-level",
        "campaign-field-at-account-level",
        "breakdowns-not-combinable",
        "position-without-platform",
        "unknown-breakdown",
        "unknown-action-breakdown",
        "unknown-window",
        "action-breakdowns-without-list-field",
        "report-time",
        "time-increment",
        "unknown-setting",
        "lookback-not-a-number",
        "duplicate-report",
        "table-name-too-long",
        "broken-json",
        "missing-file",
    ],
)
def test_invalid_report_configuration_names_the_variable_report_and_field(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match="INSIGHTS_REPORTS") as caught:
        settings_from_mapping(
            {**BASE, "META_ACCOUNTS": "1001:bm_account_with_a_long_table_name", "INSIGHTS_REPORTS": value}
        )
    assert caught.value.variable == "INSIGHTS_REPORTS"
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "breakdowns",
    [
        ["age", "gender"],
        ["country"],
        ["publisher_platform", "platform_position"],
        ["publisher_platform", "device_platform", "impression_device"],
        ["region"],
    ],
    ids=["age-gender", "country", "platform-position", "placement-devices", "region"],
)
def test_combinations_meta_accepts_are_accepted(breakdowns: list[str]) -> None:
    (spec,) = parse_reports(_report(breakdowns=breakdowns))
    assert spec.breakdowns == tuple(breakdowns)
