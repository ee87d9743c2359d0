"""Token health: what ``debug_token`` says about each configured token, and which accounts it can read.

A token that expires or loses ``ads_read`` is otherwise found out when a run fails. System-user tokens
never expire (``expires_at`` 0); long-lived user tokens last about 60 days, and ``data_access_expires_at``
(90 days after the user last used the app) ends data access even for a token that is still valid.
See ``graph-api-spec.md`` "Authentication".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from metaads.accounts import Account
from metaads.errors import GraphAPIError, TokenInvalidError
from metaads.graph.client import GraphClient
from metaads.graph.tokens import TokenLease
from metaads.redact import token_hint

logger = logging.getLogger(__name__)

#: The permission insights need (``ads_management`` includes it).
READ_SCOPES = frozenset({"ads_read", "ads_management"})


@dataclass(frozen=True)
class TokenHealth:
    """One token's state, safe to show and store: the token appears only as hint and fingerprint."""

    slot: int
    hint: str
    fingerprint: str
    valid: bool
    app_id: str | None = None
    app_name: str | None = None
    type: str | None = None
    scopes: tuple[str, ...] = ()
    expires_at: datetime | None = None
    data_access_expires_at: datetime | None = None
    readable_accounts: tuple[str, ...] = ()
    unreadable_accounts: tuple[str, ...] = ()
    error: str | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def has_ads_read(self) -> bool:
        return bool(READ_SCOPES & set(self.scopes))

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def next_expiry(self) -> datetime | None:
        """The earlier of the token's expiry and its data-access expiry."""
        moments = [m for m in (self.expires_at, self.data_access_expires_at) if m is not None]
        return min(moments) if moments else None


def _when(value: object) -> datetime | None:
    # debug_token gives unix seconds; 0 means "never".
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return datetime.fromtimestamp(value, tz=timezone.utc)


def problems_of(health: TokenHealth, now: datetime, warn_days: int) -> tuple[str, ...]:
    """What a person must fix about a token, each with the action (empty when the token is fine)."""
    if not health.valid:
        return (f"invalid ({health.error or 'rejected by Meta'}): replace it in GRAPH_API_TOKENS",)
    found: list[str] = []
    if not health.has_ads_read:
        found.append("lacks the ads_read permission: grant ads_read to the app's user and issue a new token")
    horizon = now + timedelta(days=warn_days)
    for label, moment in (("expires", health.expires_at), ("loses data access", health.data_access_expires_at)):
        if moment is not None and moment <= horizon:
            found.append(
                f"{label} on {moment:%Y-%m-%d %H:%M} UTC (within {warn_days} days): "
                "issue a new token, ideally a system-user token that does not expire"
            )
    if health.unreadable_accounts:
        found.append(
            f"cannot read {len(health.unreadable_accounts)} configured account(s) "
            f"({', '.join(health.unreadable_accounts)}): give its user a role on them, "
            "or let another token serve them"
        )
    return tuple(found)


def inspect_token(client: GraphClient, lease: TokenLease) -> TokenHealth:
    """``GET /debug_token`` for one token, asked with the token itself (a token may inspect itself)."""
    slot, hint, fingerprint = lease.slot, token_hint(lease.token), lease.fingerprint
    try:
        body = client.session.call("GET", "debug_token", {"input_token": lease.token}, lease=lease)
    except TokenInvalidError as exc:
        return TokenHealth(slot, hint, fingerprint, valid=False, error=f"code {exc.code}/{exc.subcode}: {exc.message}")
    data = body.get("data")
    if not isinstance(data, dict):
        return TokenHealth(slot, hint, fingerprint, valid=False, error="debug_token answered without data")
    error = data.get("error")
    scopes = data.get("scopes")
    return TokenHealth(
        slot,
        hint,
        fingerprint,
        valid=data.get("is_valid") is True,
        app_id=str(data["app_id"]) if data.get("app_id") else None,
        app_name=str(data["application"]) if data.get("application") else None,
        type=str(data["type"]) if data.get("type") else None,
        scopes=tuple(str(s) for s in scopes) if isinstance(scopes, list) else (),
        expires_at=_when(data.get("expires_at")),
        data_access_expires_at=_when(data.get("data_access_expires_at")),
        error=str(error.get("message")) if isinstance(error, dict) and error.get("message") else None,
    )


def check_tokens(
    client: GraphClient,
    accounts: Sequence[Account],
    *,
    now: datetime,
    warn_days: int,
    assigned: Mapping[int, Sequence[Account]] | None = None,
) -> list[TokenHealth]:
    """Inspect every configured token and try each valid one on the accounts (``GET /act_{id}``).

    Costs one call per token plus one per (valid token, account) tried: every account, or with
    ``assigned`` (token slot -> accounts) only the accounts each token serves, which is what a run
    needs to know and keeps the daily check at about one call per account. An account's call is paced
    like the run's own (the check may run beside the extractions, which spend each quota exactly).
    """
    results: list[TokenHealth] = []
    for lease in client.pool.leases():
        health = inspect_token(client, lease)
        if health.valid:
            readable, unreadable = [], []
            for account in accounts if assigned is None else assigned.get(lease.slot, ()):
                try:
                    client.session.call("GET", f"act_{account.id}", {"fields": "id"}, account=account, lease=lease)
                except GraphAPIError as exc:
                    logger.debug("token %s cannot read act_%s: %s", health.hint, account.id, exc.message)
                    unreadable.append(account.id)
                else:
                    readable.append(account.id)
            health = replace(health, readable_accounts=tuple(readable), unreadable_accounts=tuple(unreadable))
        results.append(replace(health, problems=problems_of(health, now, warn_days)))
    return results
