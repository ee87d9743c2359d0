"""Classify a Graph API response into the :mod:`metaads.errors` hierarchy: the one place that does it.

The table mirrors ``graph-api-spec.md`` "Errors" (codes from Meta's error reference,
https://developers.facebook.com/docs/marketing-api/error-reference/ and the rate-limiting page).
"""

from __future__ import annotations

from dataclasses import dataclass

from metaads.errors import (
    BadRequestError,
    DataTooLargeError,
    DateRangeTooOldError,
    DeprecatedVersionError,
    GraphAPIError,
    PermissionDeniedError,
    RateLimitedError,
    TokenInvalidError,
    TransientError,
)
from metaads.graph.usage import Usage
from metaads.redact import redact_text

# Code -> (scope, business use case whose estimated_time_to_regain_access applies).
_RATE_LIMIT_CODES: dict[int, tuple[str, str | None]] = {
    4: ("app", None),
    17: ("user", None),
    32: ("user", None),
    368: ("user", None),
    613: ("account", None),
    80000: ("business", "ads_insights"),
    80001: ("business", "pages"),
    80002: ("business", "instagram"),
    80003: ("business", "custom_audience"),
    80004: ("business", "ads_management"),
    80005: ("business", "leadgen"),
    80006: ("business", "messenger"),
    80008: ("business", "whatsapp_business_management"),
    80009: ("business", "catalog_management"),
    80014: ("business", "catalog_batch"),
}
# 17 / 2446079 and 613 / 1487742 are the ad-account score limit, not the user's.
_ACCOUNT_SUBCODES = {2446079, 1487742}
_TOKEN_CODES = {102, 190}
_REDUCE_DATA = "reduce the amount of data"
_TOO_MUCH_DATA_SUBCODE = 1487534
_DATE_TOO_OLD = 3018
_DEPRECATED_VERSION = 2635


@dataclass(frozen=True)
class GraphErrorBody:
    """The ``error`` object of a Graph API response body."""

    message: str
    code: int | None
    subcode: int | None
    type: str | None
    is_transient: bool
    fbtrace_id: str | None


def error_body(body: object) -> GraphErrorBody | None:
    """The parsed ``error`` object, or None when ``body`` carries none."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if not isinstance(error, dict):
        return None
    return GraphErrorBody(
        message=redact_text(str(error.get("message") or "Graph API error")),
        code=_int(error.get("code")),
        subcode=_int(error.get("error_subcode")),
        type=str(error["type"]) if error.get("type") else None,
        is_transient=error.get("is_transient") is True,
        fbtrace_id=str(error["fbtrace_id"]) if error.get("fbtrace_id") else None,
    )


def classify(
    status: int, body: object, *, usage: Usage | None = None, request: str | None = None, account_id: str | None = None
) -> GraphAPIError | None:
    """The error a response stands for, or None when it is a success.

    Args:
        status: HTTP status code.
        body: parsed JSON body (None when it was not JSON).
        usage: the response's usage headers, for how long a rate limit lasts.
        request: the request, already redacted, for the error message.
        account_id: the ad account the request was about.
    """
    err = error_body(body)
    if err is None:
        if 200 <= status < 300:
            return None
        return _without_body(status, request=request, account_id=account_id)

    def make(cls: type[GraphAPIError]) -> GraphAPIError:
        return cls(
            err.message,
            code=err.code,
            subcode=err.subcode,
            http_status=status,
            fbtrace_id=err.fbtrace_id,
            request=request,
            account_id=account_id,
            is_transient=err.is_transient,
        )

    code = err.code
    if code == _DEPRECATED_VERSION:
        return make(DeprecatedVersionError)
    if code in _TOKEN_CODES:
        return make(TokenInvalidError)
    if code == 10 or (code is not None and 200 <= code <= 299):
        return make(PermissionDeniedError)
    if code == _DATE_TOO_OLD:
        return make(DateRangeTooOldError)
    if (code == 1 and _REDUCE_DATA in err.message.lower()) or (code == 100 and err.subcode == _TOO_MUCH_DATA_SUBCODE):
        return make(DataTooLargeError)
    if code in _RATE_LIMIT_CODES:
        scope, use_case = _RATE_LIMIT_CODES[code]
        if err.subcode in _ACCOUNT_SUBCODES:
            scope = "account"
        return RateLimitedError(
            err.message,
            retry_after_s=_retry_after(scope, use_case, usage),
            scope=scope,
            code=code,
            subcode=err.subcode,
            http_status=status,
            fbtrace_id=err.fbtrace_id,
            request=request,
            account_id=account_id,
            is_transient=err.is_transient,
        )
    if code in (1, 2) or err.is_transient or status >= 500:
        return make(TransientError)
    return make(BadRequestError)


def _without_body(status: int, *, request: str | None, account_id: str | None) -> GraphAPIError:
    message = f"HTTP {status} without a Graph error body"
    if status == 429:
        return RateLimitedError(message, scope="app", http_status=status, request=request, account_id=account_id)
    cls = TransientError if status >= 500 else BadRequestError
    return cls(message, http_status=status, request=request, account_id=account_id)


def _retry_after(scope: str, use_case: str | None, usage: Usage | None) -> float | None:
    """How long the headers say the block lasts, in seconds (None when they do not say)."""
    if usage is None or scope == "app":
        # X-App-Usage carries no time; the business entries are about accounts, not the app.
        return None
    waits = [usage.regain_s(use_case)] if scope in ("account", "business") else []
    if scope in ("account", "user"):
        # reset_time_duration is when the ad-account score is back to zero: waiting that long is safe.
        waits.append(usage.account_reset_s)
    present = [w for w in waits if w is not None and w > 0]
    return max(present) if present else None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None
