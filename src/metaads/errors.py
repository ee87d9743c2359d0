"""The exception hierarchy: grouped by what the caller should do.

- :class:`ConfigError`: fix the configuration (bad variable, bad token set, deprecated API version).
- :class:`GraphAPIError` and its children: classified Graph API failures. Transient ones
  (:class:`TransientError`, :class:`RateLimitedError`) mean *retry later*; the others mean *fix the
  request*, *use another token* or *skip this account*.
- :class:`WarehouseError` / :class:`SyncError`: database failures, translated at the boundary.

Every message is safe to log: tokens never appear in them (see :mod:`metaads.redact`).
"""

from __future__ import annotations


class MetaAdsError(Exception):
    """Root of every error metaads raises on purpose."""


# --------------------------------------------------------------------------- configuration


class ConfigError(MetaAdsError):
    """The configuration is wrong; a person must fix it. ``variable`` names the setting at fault."""

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
    """Temporary failure (HTTP 5xx, code 1/2, timeouts): retry with back-off."""


class RateLimitedError(TransientError):
    """A quota is exhausted (codes 4, 17, 32, 613, 80000-80014, 368).

    ``retry_after_s`` is how long the API says to wait (from the usage headers or the error body);
    ``scope`` is ``"app"``, ``"account"``, ``"business"`` or ``"user"``.
    """

    def __init__(self, message: str, *, retry_after_s: float | None = None, scope: str = "account",
                 **kwargs: object) -> None:
        self.retry_after_s = retry_after_s
        self.scope = scope
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class TokenInvalidError(GraphAPIError):
    """Code 190: the token is invalid or expired. Mark it unusable and use another."""


class PermissionDeniedError(GraphAPIError):
    """Codes 10, 200-299: this token may not read this object. Skip the account and report it."""


class BadRequestError(GraphAPIError):
    """Code 100 and other client errors: fix the request, do not retry it as is."""


class DataTooLargeError(GraphAPIError):
    """Code 1 "reduce the amount of data" (or 100/1487534): ask for less (smaller page or range)."""


class DateRangeTooOldError(BadRequestError):
    """Code 3018: the start date is beyond the 37-month history. Clamp the range."""


class DeprecatedVersionError(GraphAPIError, ConfigError):
    """Code 2635: GRAPH_API_VERSION is no longer served. A configuration error."""

    def __init__(self, message: str, **kwargs: object) -> None:
        GraphAPIError.__init__(self, message, **kwargs)  # type: ignore[arg-type]
        self.variable = "GRAPH_API_VERSION"


class AsyncJobError(GraphAPIError):
    """An asynchronous insights report failed, was skipped or timed out."""


class NoUsableTokenError(GraphAPIError):
    """Every configured token is invalid or blocked for this account."""


# --------------------------------------------------------------------------- databases


class WarehouseError(MetaAdsError):
    """A warehouse (PostgreSQL / SQLite) operation failed; the previous data is intact."""


class LoadError(WarehouseError):
    """Loading a date range failed and was rolled back."""


class SyncError(MetaAdsError):
    """Copying warehouse views to the analytics database failed; the target is unchanged."""


class SchemaMismatchError(SyncError):
    """The analytics target table lacks columns the warehouse view has."""


# --------------------------------------------------------------------------- operations


class AlertError(MetaAdsError):
    """An alert could not be delivered to any ``ALERT_URLS`` target; the run's data is unaffected."""
