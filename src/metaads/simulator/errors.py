"""Graph API error responses as the real service sends them (see ``graph-api-spec.md``, "Errors").

Every failure inside the simulator raises :class:`GraphError`; the request handler turns it into the
real body ``{"error": {"message", "type", "code", "error_subcode", "is_transient", "fbtrace_id", ...}}``.
The constructors below carry the real messages, so a client can be tested on exactly what it will meet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

OAUTH = "OAuthException"
METHOD = "GraphMethodException"

REDUCE_DATA_MESSAGE = "Please reduce the amount of data you're asking for, then retry your request"


class GraphError(Exception):
    """A Graph API error response: HTTP status plus the ``error`` object."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        type_: str = OAUTH,
        is_transient: bool = False,
        user_title: str | None = None,
        user_msg: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.subcode = subcode
        self.type = type_
        self.is_transient = is_transient
        self.user_title = user_title
        self.user_msg = user_msg
        self.extra = extra or {}

    def body(self, fbtrace_id: str) -> dict[str, Any]:
        """The JSON body, key order as Meta sends it."""
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["is_transient"] = self.is_transient
        if self.user_title is not None:
            error["error_user_title"] = self.user_title
        if self.user_msg is not None:
            error["error_user_msg"] = self.user_msg
        error.update(self.extra)
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}


# --------------------------------------------------------------------------- authentication


def missing_token() -> GraphError:
    return GraphError(400, 104, "An access token is required to request this resource.")


def unparsable_token() -> GraphError:
    return GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token")


_TOKEN_MESSAGES = {
    458: "Error validating access token: The user has not authorized application {app_id}.",
    459: "Error validating access token: The user is enrolled in a blocking, logged-in checkpoint",
    460: "Error validating access token: The session has been invalidated because the user changed "
    "their password or Facebook has changed the session for security reasons.",
    464: "Error validating access token: Sessions for the user are not allowed because the user is "
    "not a confirmed user.",
    467: "Error validating access token: The session is invalid because the user logged out.",
}


def token_invalid(subcode: int, *, app_id: str, expired_at: datetime | None, now: datetime) -> GraphError:
    """190 with the subcode's real wording (463 = expired)."""
    if subcode == 463:
        when = (expired_at or now).strftime("%A, %d-%b-%y %H:%M:%S UTC")
        message = (
            f"Error validating access token: Session has expired on {when}. "
            f"The current time is {now.strftime('%A, %d-%b-%y %H:%M:%S UTC')}."
        )
    else:
        message = _TOKEN_MESSAGES.get(subcode, _TOKEN_MESSAGES[467]).format(app_id=app_id)
    return GraphError(
        400,
        190,
        message,
        subcode=subcode,
        user_title="Session Expired" if subcode == 463 else None,
        user_msg="Your session has expired. Please log in again." if subcode == 463 else None,
    )


def bad_appsecret_proof(missing: bool) -> GraphError:
    if missing:
        return GraphError(400, 100, "API calls from the server require an appsecret_proof argument", type_=METHOD)
    return GraphError(400, 100, "Invalid appsecret_proof provided in the API argument", type_=METHOD)


def no_permission(account_id: str) -> GraphError:
    # Meta answers 200 with HTTP 403 when the token's user has no role on the ad account.
    return GraphError(
        403,
        200,
        "(#200) Ad account owner has NOT grant ads_management or ads_read permission",
        extra={"error_data": {"blame_field_specs": [[f"act_{account_id}"]]}},
    )


def no_such_object(object_id: str) -> GraphError:
    return GraphError(
        400,
        100,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation. Please read the Graph API "
        "documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33,
        type_=METHOD,
    )


def unknown_path(node_type: str, edge: str) -> GraphError:
    return GraphError(400, 100, f"(#100) Tried accessing nonexisting field ({edge}) on node type ({node_type})")


def unknown_alias(alias: str) -> GraphError:
    return GraphError(404, 803, f"(#803) Some of the aliases you requested do not exist: {alias}")


def deprecated_version(version: str, latest: str) -> GraphError:
    return GraphError(
        400,
        2635,
        f"(#2635) You are calling a deprecated version of the Ads API. Please update to the latest version: {latest}.",
    )


# --------------------------------------------------------------------------- bad requests


def invalid_param(message: str, *, subcode: int | None = None) -> GraphError:
    """Code 100: the request is wrong; do not retry it as is."""
    text = message if message.startswith("(#100)") else f"(#100) {message}"
    return GraphError(400, 100, text, subcode=subcode)


def invalid_field(field: str, node: str = "ads-insights") -> GraphError:
    return invalid_param(
        f"{field} is not valid for fields param. please check "
        f"https://developers.facebook.com/docs/marketing-api/reference/{node}/ for all valid values"
    )


def beyond_37_months(months: int) -> GraphError:
    return GraphError(
        400,
        3018,
        f"(#3018) The start date of the time range cannot be beyond {months} months from the current date",
        user_title="Invalid Time Range",
        user_msg=f"The start date of the time range cannot be beyond {months} months from the current date.",
    )


def reduce_data() -> GraphError:
    return GraphError(500, 1, REDUCE_DATA_MESSAGE)


def batch_too_big(limit: int) -> GraphError:
    return invalid_param(f"Too many requests in batch message. Maximum batch size is {limit}")


def report_not_ready(report_run_id: str) -> GraphError:
    return GraphError(
        400,
        2601,
        f"(#2601) Error accessing adreport job. Report {report_run_id} is not ready "
        "yet: wait until async_status is 'Job Completed' and async_percent_completion is 100",
        is_transient=True,
    )


# --------------------------------------------------------------------------- transient faults


def unknown_error() -> GraphError:
    return GraphError(500, 1, "An unknown error occurred", subcode=99, is_transient=True)


def service_unavailable() -> GraphError:
    return GraphError(503, 2, "An unexpected error has occurred. Please retry your request later.", is_transient=True)


# --------------------------------------------------------------------------- throttling


def app_limit() -> GraphError:
    return GraphError(400, 4, "(#4) Application request limit reached", is_transient=True)


def account_score_limit(code: int) -> GraphError:
    """Ad-account score exceeded: 17/2446079 (default) or 613/1487742."""
    if code == 613:
        return GraphError(
            400,
            613,
            "(#613) Calls to this api have exceeded the rate limit.",
            subcode=1487742,
            is_transient=True,
            user_title="Too Many Calls",
            user_msg="There have been too many calls from this ad-account. Wait a bit and try again.",
        )
    return GraphError(
        400,
        17,
        "(#17) User request limit reached",
        subcode=2446079,
        is_transient=True,
        user_title="Ad Account Has Too Many API Calls",
        user_msg="There have been too many calls from this ad-account. Please wait a bit and try again.",
    )


def business_use_case_limit(use_case: str) -> GraphError:
    """Business-use-case quota of the (app, account) pair: 80000 ads_insights, 80004 ads_management."""
    code = 80000 if use_case == "ads_insights" else 80004
    return GraphError(
        400,
        code,
        f"(#{code}) There have been too many calls to this ad-account. Wait a bit and try "
        "again. For more info, please refer to "
        "https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-management.",
        subcode=2446079,
        is_transient=True,
    )


THROTTLING_CODES = frozenset({4, 17, 32, 613, 80000, 80003, 80004})
