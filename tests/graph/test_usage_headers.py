"""Parsing the four rate-limit usage headers (the pacing they lead to: test_pacing.py)."""

from __future__ import annotations

import pytest

from metaads.graph.usage import Usage, parse_usage

APP = '{"call_count":28,"total_time":25,"total_cputime":31}'
ACCOUNT = '{"acc_id_util_pct":9.67,"reset_time_duration":100,"ads_api_access_tier":"standard_access"}'
BUC = (
    '{"1234567890":[{"type":"ads_insights","call_count":97,"total_cputime":23,"total_time":23,'
    '"estimated_time_to_regain_access":0,"ads_api_access_tier":"development_access"}]}'
)
BUC_BLOCKED = (
    '{"1234567890":[{"type":"ads_insights","call_count":101,"total_cputime":40,"total_time":40,'
    '"estimated_time_to_regain_access":7},{"type":"ads_management","call_count":12,'
    '"total_cputime":3,"total_time":3,"estimated_time_to_regain_access":2}]}'
)
THROTTLE = '{"app_id_util_pct":100,"acc_id_util_pct":10,"ads_api_access_tier":"standard_access"}'

# (headers, app_pct, account_level_pct, account_reset_s, regain_s(None), regain_s("ads_management"))
CASES = [
    ({}, None, None, None, None, None),
    ({"X-App-Usage": APP}, 31.0, None, None, None, None),
    ({"x-ad-account-usage": ACCOUNT}, None, 9.67, 100.0, None, None),
    ({"X-Business-Use-Case-Usage": BUC}, None, 97.0, None, None, None),
    ({"X-Business-Use-Case-Usage": BUC_BLOCKED}, None, 101.0, None, 420.0, 120.0),
    ({"X-FB-Ads-Insights-Throttle": THROTTLE}, 100.0, 10.0, None, None, None),
    (
        {
            "X-App-Usage": APP,
            "X-Ad-Account-Usage": ACCOUNT,
            "X-Business-Use-Case-Usage": BUC,
            "X-FB-Ads-Insights-Throttle": THROTTLE,
        },
        100.0,
        97.0,
        100.0,
        None,
        None,
    ),
    ({"X-App-Usage": "not json"}, None, None, None, None, None),
    ({"X-App-Usage": "[1, 2]"}, None, None, None, None, None),
    ({"X-Ad-Account-Usage": '{"acc_id_util_pct":"42.5","reset_time_duration":"0"}'}, None, 42.5, 0.0, None, None),
    ({"X-Business-Use-Case-Usage": '{"1":"broken","2":[{"type":"ads_insights"}]}'}, None, 0.0, None, None, None),
]
IDS = [
    "none",
    "app-usage",
    "ad-account-usage",
    "business-use-case",
    "business-use-case-blocked",
    "insights-throttle",
    "all-four",
    "malformed-json",
    "json-not-object",
    "numbers-as-strings",
    "partly-broken-buc",
]


@pytest.mark.parametrize(("headers", "app_pct", "account_pct", "reset_s", "regain", "regain_mgmt"), CASES, ids=IDS)
def test_usage_headers_parse_into_quota_percentages(
    headers: dict[str, str],
    app_pct: float | None,
    account_pct: float | None,
    reset_s: float | None,
    regain: float | None,
    regain_mgmt: float | None,
) -> None:
    usage = parse_usage(headers)
    assert usage.app_pct == app_pct
    assert usage.account_level_pct == account_pct
    assert usage.account_reset_s == reset_s
    assert usage.regain_s() == regain
    assert usage.regain_s("ads_management") == regain_mgmt


def test_usage_headers_keep_access_tier_and_business_entries() -> None:
    usage = parse_usage({"X-Business-Use-Case-Usage": BUC_BLOCKED, "X-Ad-Account-Usage": ACCOUNT})
    assert usage.access_tier == "standard_access"
    assert [(b.owner_id, b.type, b.pct) for b in usage.business] == [
        ("1234567890", "ads_insights", 101.0),
        ("1234567890", "ads_management", 12.0),
    ]


def test_empty_usage_is_empty() -> None:
    assert Usage().is_empty
    assert not parse_usage({"X-App-Usage": APP}).is_empty
