"""Every exception metaads raises, each saying what its caller does (:attr:`MetaAdsError.action`).

The tree (the action in brackets; *retryable* ones may succeed when run again later)::

    MetaAdsError                       [fix request]  root of every error raised on purpose
    ├── ConfigError                    [fix configuration]  ``variable`` names the setting at fault
    ├── GraphAPIError                  [fix request]  a classified Graph API failure
    │   ├── TransientError             [retry later]  5xx, codes 1/2, timeouts, undecodable bodies
    │   │   └── RateLimitedError       [wait for quota]  codes 4, 17, 32, 613, 80000-80014, 368
    │   ├── TokenInvalidError          [fix or replace token]  code 190
    │   ├── NoUsableTokenError         [fix or replace token]  every token is invalid
    │   ├── PermissionDeniedError      [skip account]  codes 10, 200-299
    │   ├── BadRequestError            [fix request]  code 100 (incl. 100/33) and other client errors
    │   │   └── DateRangeTooOldError   [fix request]  code 3018
    │   ├── DataTooLargeError          [ask for less]  "reduce the amount of data"
    │   ├── DeprecatedVersionError     [fix configuration]  code 2635 (also a ConfigError)
    │   ├── PagingError                [retry later]  the API's paging misbehaved
    │   └── AsyncJobError              [retry later]  an async report failed or timed out
    │       ├── AsyncJobFailedError    [retry later]  "Job Failed" / "Job Skipped"
    │       └── AsyncJobTimeoutError   [retry later]  not started / not finished in time
    ├── InsightRowError                [data problem]  a malformed insights row (also a ValueError)
    ├── UnexpectedError                [investigate]  a fault nobody foresaw, caught at an account's boundary
    ├── WarehouseError                 [retry later]  the warehouse database failed; data intact
    │   ├── LoadError                  [retry later]  a range's load was rolled back
    │   │   └── RowRejectedError       [data problem]  the database refused a row (e.g. out of range)
    │   └── EmbeddedPostgresError      [investigate]  the embedded PostgreSQL could not start or stop
    ├── SyncError                      [retry later]  copying to the analytics database failed
    │   └── SchemaMismatchError        [fix configuration]  a target table lacks columns (``--evolve``)
    ├── SyncAborted                    [retry later]  internal: another slice failed, stop this one
    ├── AlertError                     [investigate]  no ALERT_URLS target accepted the run's message
    ├── AccountFailedError             [per outcome]  an Airflow task's account did not load
    └── RunFailedError                 [investigate]  a DAG run judged failed (accounts named)

:func:`is_retryable` is the one place that decides whether running something again may help; the
pipeline (:attr:`metaads.pipeline.AccountResult.retryable`) and the Airflow DAG both read it.

Every message is safe to log: tokens never appear in them (see :mod:`metaads.redact`).
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:
    from metaads.accounts import Account


class AccountReport(Protocol):
    """What :class:`AccountFailedError` reads of an account's result (:class:`metaads.pipeline.AccountResult`)."""

    @property
    def account(self) -> Account: ...

    @property
    def status(self) -> str: ...

    @property
    def error(self) -> str | None: ...

    @property
    def retryable(self) -> bool: ...


class Action(str, Enum):
    """What the caller of a failed operation does next."""

    RETRY_LATER = "retry later"
    WAIT_FOR_QUOTA = "wait for quota"
    ASK_FOR_LESS = "ask for less"
    FIX_CONFIGURATION = "fix configuration"
    FIX_TOKEN = "fix or replace token"  # noqa: S105 - an action, not a password
    SKIP_ACCOUNT = "skip account"
    FIX_REQUEST = "fix request"
    DATA_PROBLEM = "data problem"
    INVESTIGATE = "investigate"

    def __str__(self) -> str:
        return self.value


#: Actions after which the same call, run again later, may succeed.
RETRYABLE_ACTIONS = frozenset({Action.RETRY_LATER, Action.WAIT_FOR_QUOTA, Action.ASK_FOR_LESS})


class MetaAdsError(Exception):
    """Root of every error metaads raises on purpose."""

    action: ClassVar[Action] = Action.FIX_REQUEST

    @property
    def retryable(self) -> bool:
        """Whether running the failed operation again later may succeed."""
        return self.action in RETRYABLE_ACTIONS


def is_retryable(exc: BaseException) -> bool:
    """Whether running again later may help: the one answer the pipeline and Airflow both use.

    Errors of metaads say it themselves (their :class:`Action`); anything else is a fault nobody
    foresaw, which a retry repeats.
    """
    if isinstance(exc, MetaAdsError):
        return exc.retryable
    return False


# --------------------------------------------------------------------------- configuration


class ConfigError(MetaAdsError):
    """The configuration is wrong; a person must fix it. ``variable`` names the setting at fault."""

    action = Action.FIX_CONFIGURATION

    def __init__(self, message: str, *, variable: str | None = None) -> None:
        self.variable = variable
        super().__init__(f"{variable}: {message}" if variable else message)


# --------------------------------------------------------------------------- Graph API


class GraphAPIError(MetaAdsError):
    """A Graph API call failed. Carries the Graph error fields and the request (token redacted)."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        http_status: int | None = None,
        fbtrace_id: str | None = None,
        request: str | None = None,
        account_id: str | None = None,
        is_transient: bool = False,
    ) -> None:
        self.message = message
        self.code = code
        self.subcode = subcode
        self.http_status = http_status
        self.fbtrace_id = fbtrace_id
        self.request = request
        self.account_id = account_id
        self.is_transient = is_transient
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [self.message]
        details = []
        if self.code is not None:
            details.append(f"code={self.code}")
        if self.subcode is not None:
            details.append(f"subcode={self.subcode}")
        if self.http_status is not None:
            details.append(f"http={self.http_status}")
        if self.account_id:
            details.append(f"account={self.account_id}")
        if self.fbtrace_id:
            details.append(f"fbtrace_id={self.fbtrace_id}")
        if self.request:
            details.append(f"request={self.request}")
        if details:
            parts.append("(" + ", ".join(details) + ")")
        return " ".join(parts)


class TransientError(GraphAPIError):
    """Temporary failure (HTTP 5xx, code 1/2, timeouts, undecodable bodies): retry with back-off.

    ``retry_after_s`` is how long the server says to wait (``Retry-After``, usage headers), if it says.
    """

    action = Action.RETRY_LATER

    def __init__(self, message: str, *, retry_after_s: float | None = None, **kwargs: object) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class RateLimitedError(TransientError):
    """A quota is exhausted (codes 4, 17, 32, 613, 80000-80014, 368).

    ``retry_after_s`` is how long the API says to wait (from the usage headers or the error body);
    ``scope`` is ``"app"``, ``"account"``, ``"business"`` or ``"user"``.
    """

    action = Action.WAIT_FOR_QUOTA

    def __init__(
        self, message: str, *, retry_after_s: float | None = None, scope: str = "account", **kwargs: object
    ) -> None:
        self.scope = scope
        super().__init__(message, retry_after_s=retry_after_s, **kwargs)


class TokenInvalidError(GraphAPIError):
    """Code 190: the token is invalid or expired. Mark it unusable and use another."""

    action = Action.FIX_TOKEN


class PermissionDeniedError(GraphAPIError):
    """Codes 10, 200-299: this token may not read this object. Skip the account and report it."""

    action = Action.SKIP_ACCOUNT


class BadRequestError(GraphAPIError):
    """Code 100 (incl. subcode 33: object missing or no permission) and other client errors.

    Fix the request; retrying it as is gives the same answer, so neither the pipeline nor Airflow does.
    """

    action = Action.FIX_REQUEST


class DataTooLargeError(GraphAPIError):
    """Code 1 "reduce the amount of data" (or 100/1487534): ask for less (smaller page or range)."""

    action = Action.ASK_FOR_LESS


class DateRangeTooOldError(BadRequestError):
    """Code 3018: the start date is beyond the 37-month history. Clamp the range."""


class DeprecatedVersionError(GraphAPIError, ConfigError):
    """Code 2635: GRAPH_API_VERSION is no longer served. A configuration error."""

    action = Action.FIX_CONFIGURATION

    def __init__(self, message: str, **kwargs: object) -> None:
        GraphAPIError.__init__(self, message, **kwargs)  # type: ignore[arg-type]
        self.variable = "GRAPH_API_VERSION"


class PagingError(GraphAPIError):
    """The API's paging misbehaved: a cursor came back twice, endless empty pages, or no ``data``."""

    action = Action.RETRY_LATER


class AsyncJobError(GraphAPIError):
    """An asynchronous insights report failed, was skipped or timed out."""

    action = Action.RETRY_LATER


class AsyncJobFailedError(AsyncJobError):
    """The job ended as "Job Failed" or "Job Skipped": resubmit it, then split it."""

    def __init__(self, message: str, *, async_status: str, report_run_id: str, **kwargs: object) -> None:
        self.async_status = async_status
        self.report_run_id = report_run_id
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class AsyncJobTimeoutError(AsyncJobError):
    """The job did not start, or did not finish, within the policy's time: split it."""

    def __init__(self, message: str, *, report_run_id: str, **kwargs: object) -> None:
        self.report_run_id = report_run_id
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class NoUsableTokenError(GraphAPIError):
    """Every configured token is invalid or blocked for this account."""

    action = Action.FIX_TOKEN


# --------------------------------------------------------------------------- data and faults


class InsightRowError(MetaAdsError, ValueError):
    """An insights row is malformed (missing key, non-numeric metric): a data problem, not retryable."""

    action = Action.DATA_PROBLEM


class UnexpectedError(MetaAdsError):
    """A fault nobody foresaw (a bug, a library's surprise), caught at one account's boundary.

    The message names the original exception's type; the text is redacted.
    """

    action = Action.INVESTIGATE


# --------------------------------------------------------------------------- databases


class WarehouseError(MetaAdsError):
    """A warehouse (PostgreSQL / SQLite) operation failed; the previous data is intact."""

    action = Action.RETRY_LATER


class LoadError(WarehouseError):
    """Loading a date range failed and was rolled back."""


class RowRejectedError(LoadError):
    """The database refused a row (a value out of its column's range, bad data): the load rolled back."""

    action = Action.DATA_PROBLEM


class EmbeddedPostgresError(WarehouseError):
    """The embedded PostgreSQL server (``WAREHOUSE_URL`` unset) could not start or stop.

    The message names the data folder and its server log; fix what it says, or point ``WAREHOUSE_URL``
    at a real server.
    """

    action = Action.INVESTIGATE


class SyncError(MetaAdsError):
    """Copying warehouse views to the analytics database failed; the target is unchanged."""

    action = Action.RETRY_LATER


class SchemaMismatchError(SyncError):
    """The analytics target table lacks columns the warehouse view has."""

    action = Action.FIX_CONFIGURATION


class SyncAborted(MetaAdsError):  # noqa: N818 - an internal signal, not an error reported to anyone
    """Another slice failed: stop this one and roll it back (not a SyncError: it is never reported)."""

    action = Action.RETRY_LATER


# --------------------------------------------------------------------------- orchestration


class AccountFailedError(MetaAdsError):
    """An Airflow task's account did not load completely; ``result`` says what happened and whether to retry."""

    def __init__(self, result: AccountReport) -> None:
        self.result = result
        account = result.account
        super().__init__(
            f"account {account.display_name} ({account.act_id}) {result.status}: {result.error or 'no error text'}"
        )

    @property
    def retryable(self) -> bool:
        return self.result.retryable


class RunFailedError(MetaAdsError):
    """The run as a whole failed: accounts that did not load (named) and/or the analytics sync."""

    action = Action.INVESTIGATE

    def __init__(self, message: str, *, failed_accounts: list[str], sync_failed: bool) -> None:
        super().__init__(message)
        self.failed_accounts = list(failed_accounts)
        self.sync_failed = sync_failed


# --------------------------------------------------------------------------- operations


class AlertError(MetaAdsError):
    """An alert could not be delivered to any ``ALERT_URLS`` target; the run's data is unaffected."""

    action = Action.INVESTIGATE
