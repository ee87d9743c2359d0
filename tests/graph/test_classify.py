"""Every row of the spec's error table lands in the right exception, with the right wait."""

from __future__ import annotations

import pytest

from metaads.errors import (
    BadRequestError,
    ConfigError,
    DataTooLargeError,
    DateRangeTooOldError,
    DeprecatedVersionError,
    GraphAPIError,
    PermissionDeniedError,
    RateLimitedError,
    TokenInvalidError,
    TransientError,
)
from metaads.graph.classify import classify
from metaads.graph.usage import parse_usage

REDUCE = "Please reduce the amount of data you're asking for, then retry your request"
ACCOUNT_USAGE = {"X-Ad-Account-Usage": '{"acc_id_util_pct":100,"reset_time_duration":240}'}
BUC_REGAIN = {
    "X-Business-Use-Case-Usage": '{"1":[{"type":"ads_insights","call_count":100,"total_cputime":5,"total_time":5,'
    '"estimated_time_to_regain_access":12},{"type":"ads_management","call_count":3,'
    '"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":1}]}'
}


def body(code: int, subcode: int | None = None, message: str = "boom", transient: bool = False) -> dict:
    error: dict[str, object] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "is_transient": transient,
        "fbtrace_id": "AmFGcW_3hwDB",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


# (http status, body, headers, exception class, rate-limit scope, retry_after_s)
CASES = [
    (500, body(1, message=REDUCE), {}, DataTooLargeError, None, None),
    (500, body(1, 99, "An unknown error occurred", True), {}, TransientError, None, None),
    (500, body(1, message="An unknown error occurred"), {}, TransientError, None, None),
    (400, body(190, 0, "weird but transient", True), {}, TokenInvalidError, None, None),
    (503, body(2, message="Service temporarily unavailable", transient=True), {}, TransientError, None, None),
    (400, body(4, 1504022, "(#4) Application request limit reached"), {}, RateLimitedError, "app", None),
    (400, body(4, 1504039), BUC_REGAIN, RateLimitedError, "app", None),
    (400, body(17, message="(#17) User request limit reached"), {}, RateLimitedError, "user", None),
    (400, body(17, 2446079), ACCOUNT_USAGE, RateLimitedError, "account", 240.0),
    (400, body(32, message="Page request limit reached"), {}, RateLimitedError, "user", None),
    (400, body(613), {}, RateLimitedError, "account", None),
    (400, body(613, 1487742), ACCOUNT_USAGE, RateLimitedError, "account", 240.0),
    (400, body(80000, 2446079), BUC_REGAIN, RateLimitedError, "account", 720.0),
    (400, body(80004, 2446079), BUC_REGAIN, RateLimitedError, "account", 60.0),
    (400, body(80003), BUC_REGAIN, RateLimitedError, "business", 720.0),
    (400, body(17), ACCOUNT_USAGE, RateLimitedError, "user", 240.0),
    (400, body(100, message="(#100) Invalid parameter"), {}, BadRequestError, None, None),
    (400, body(100, 1487534, "too much data"), {}, DataTooLargeError, None, None),
    (400, body(100, 33, "Unsupported get request"), {}, BadRequestError, None, None),
    (400, body(190, 458), {}, TokenInvalidError, None, None),
    (400, body(190, 459), {}, TokenInvalidError, None, None),
    (400, body(190, 460), {}, TokenInvalidError, None, None),
    (400, body(190, 463, "Session has expired"), {}, TokenInvalidError, None, None),
    (400, body(190, 464), {}, TokenInvalidError, None, None),
    (400, body(190, 467), {}, TokenInvalidError, None, None),
    (400, body(10, message="(#10) Permission denied"), {}, PermissionDeniedError, None, None),
    (403, body(200, message="(#200) no ads_read permission"), {}, PermissionDeniedError, None, None),
    (400, body(294), {}, PermissionDeniedError, None, None),
    (400, body(368, message="Temporarily blocked for policies violations"), {}, RateLimitedError, "user", None),
    (400, body(2635, message="(#2635) You are calling a deprecated version"), {}, DeprecatedVersionError, None, None),
    (400, body(3018, message="(#3018) The start date ... beyond 37 months"), {}, DateRangeTooOldError, None, None),
    (502, "<html>Bad Gateway</html>", {}, TransientError, None, None),
    (429, None, {}, RateLimitedError, "app", None),
    (404, None, {}, BadRequestError, None, None),
]
IDS = [
    "1-reduce-data",
    "1-99-unknown",
    "1-other",
    "190-is-transient-still-token",
    "2-unavailable",
    "4-app-limit",
    "4-with-buc",
    "17-user-limit",
    "17-2446079-account-score",
    "32-page-limit",
    "613-custom",
    "613-1487742-account",
    "80000-ads-insights",
    "80004-ads-management",
    "80003-custom-audience",
    "17-user-with-reset",
    "100-invalid-param",
    "100-1487534-too-much-data",
    "100-33-missing-object",
    "190-458",
    "190-459",
    "190-460",
    "190-463-expired",
    "190-464",
    "190-467",
    "10-permission",
    "200-permission-403",
    "294-permission-range",
    "368-policy-block",
    "2635-deprecated",
    "3018-too-old",
    "html-502",
    "bare-429",
    "bare-404",
]


@pytest.mark.parametrize(("status", "payload", "headers", "expected", "scope", "retry_after"), CASES, ids=IDS)
def test_error_response_is_classified_as_the_spec_says(
    status: int,
    payload: object,
    headers: dict[str, str],
    expected: type[GraphAPIError],
    scope: str | None,
    retry_after: float | None,
) -> None:
    error = classify(status, payload, usage=parse_usage(headers), request="GET /v25.0/act_1/insights", account_id="1")
    assert type(error) is expected
    assert error is not None
    assert error.account_id == "1"
    assert error.http_status == status
    if isinstance(error, RateLimitedError):
        assert error.scope == scope
        assert error.retry_after_s == retry_after
    if isinstance(payload, dict):
        assert error.code == payload["error"]["code"]
        assert "fbtrace_id=AmFGcW_3hwDB" in str(error)


def test_deprecated_version_is_a_configuration_error_naming_the_variable() -> None:
    error = classify(400, body(2635))
    assert isinstance(error, ConfigError)
    assert error.variable == "GRAPH_API_VERSION"


def test_success_is_not_an_error() -> None:
    assert classify(200, {"data": []}) is None


def test_rate_limit_and_transient_errors_are_retryable_family() -> None:
    assert isinstance(classify(400, body(17, 2446079)), TransientError)
    assert not isinstance(classify(400, body(100)), TransientError)
