"""Access tokens: assignment to accounts, fail-over, ``appsecret_proof``. Never shown in full.

Account *i* (configuration order) uses token *i mod T*. A token that turns out invalid (code 190) is
retired for everyone; a token whose app is blocked (code 4) is passed over until the block ends, but
only in favour of a token of another app (tokens of one app share the app's quota). Every switch is
reported: logged with the tokens' last four characters and counted per account.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from metaads.accounts import Account
from metaads.errors import NoUsableTokenError
from metaads.graph.throttle import token_fingerprint
from metaads.redact import register_secret, token_hint

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenLease:
    """The token a call uses. ``repr`` shows only the slot and the token's last four characters."""

    slot: int
    token: str
    fingerprint: str
    appsecret_proof: str | None

    def __repr__(self) -> str:
        return f"TokenLease(slot={self.slot}, token={token_hint(self.token)})"

    __str__ = __repr__


@dataclass(frozen=True)
class Failover:
    """One account moving from one token to another."""

    account_id: str
    from_slot: int
    to_slot: int
    reason: str


class _Slot:
    __slots__ = ("app_id", "blocked_until", "invalid_reason", "lease")

    def __init__(self, lease: TokenLease, app_id: str | None) -> None:
        self.lease = lease
        self.app_id = app_id
        self.invalid_reason: str | None = None
        self.blocked_until: datetime | None = None


class TokenPool:
    """The configured tokens, shared by all threads of a client."""

    def __init__(
        self, tokens: Sequence[str], app_secret: str | None = None, *, app_ids: Sequence[str | None] | None = None
    ) -> None:
        """Args: tokens in configuration order; the app secret for ``appsecret_proof``; optionally the
        app each token belongs to (unknown apps are assumed distinct)."""
        if not tokens:
            raise ValueError("TokenPool needs at least one token")
        if app_ids is not None and len(app_ids) != len(tokens):
            raise ValueError("app_ids must give one entry per token")
        if app_secret:
            register_secret(app_secret)
        self._slots: list[_Slot] = []
        for slot, token in enumerate(tokens):
            register_secret(token)
            proof = None
            if app_secret:
                # appsecret_proof: hex HMAC-SHA256 of the token keyed with the app secret (Meta: "Securing
                # Requests"). It is as sensitive as the token for the lifetime of the token.
                proof = hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
                register_secret(proof)
            lease = TokenLease(slot, token, token_fingerprint(token), proof)
            self._slots.append(_Slot(lease, app_ids[slot] if app_ids else None))
        self._lock = threading.Lock()
        self._current: dict[str, int] = {}
        self._failovers: list[Failover] = []

    def __len__(self) -> int:
        return len(self._slots)

    def __repr__(self) -> str:
        with self._lock:
            shown = []
            for slot in self._slots:
                state = " invalid" if slot.invalid_reason else ""
                shown.append(f"{token_hint(slot.lease.token)}{state}")
        return f"TokenPool([{', '.join(shown)}])"

    __str__ = __repr__

    def lease_for(self, account: Account | None, now: datetime) -> TokenLease:
        """The token ``account`` should use now (fails over past invalid and app-blocked tokens).

        Raises:
            NoUsableTokenError: every token is invalid.
        """
        with self._lock:
            first = account.index % len(self._slots) if account is not None else 0
            order = [self._slots[(first + k) % len(self._slots)] for k in range(len(self._slots))]
            valid = [s for s in order if s.invalid_reason is None]
            if not valid:
                raise NoUsableTokenError(
                    f"all {len(self._slots)} configured tokens are invalid",
                    account_id=account.id if account is not None else None,
                )
            chosen = valid[0]
            if chosen.blocked_until is not None and chosen.blocked_until > now:
                blocked_apps = {
                    self._app_key(s) for s in valid if s.blocked_until is not None and s.blocked_until > now
                }
                free = [s for s in valid if self._app_key(s) not in blocked_apps]
                if free:
                    chosen = free[0]
            if account is not None:
                self._note_choice(account, chosen, now)
            return chosen.lease

    def mark_invalid(self, lease: TokenLease, reason: str) -> None:
        """Retire a token for every account (code 190)."""
        with self._lock:
            slot = self._slots[lease.slot]
            if slot.invalid_reason is None:
                slot.invalid_reason = reason
                logger.warning("token %s (slot %d) is unusable: %s", token_hint(lease.token), lease.slot, reason)

    def block_app(self, lease: TokenLease, until: datetime) -> None:
        """The token's app is rate limited until ``until``: prefer tokens of other apps meanwhile."""
        with self._lock:
            key = self._app_key(self._slots[lease.slot])
            for slot in self._slots:
                if self._app_key(slot) == key and (slot.blocked_until is None or slot.blocked_until < until):
                    slot.blocked_until = until

    def set_app_id(self, slot: int, app_id: str) -> None:
        """Record which app a token belongs to (tokens of one app share app-level quotas)."""
        with self._lock:
            self._slots[slot].app_id = app_id

    def failovers(self, account_id: str | None = None) -> list[Failover]:
        """Token switches so far (for one account, or all)."""
        with self._lock:
            return [f for f in self._failovers if account_id is None or f.account_id == account_id]

    def leases(self) -> list[TokenLease]:
        """Every token's lease, in configuration order."""
        with self._lock:
            return [slot.lease for slot in self._slots]

    def app_ids(self) -> list[str | None]:
        """The app of each token, where known."""
        with self._lock:
            return [slot.app_id for slot in self._slots]

    def usable_count(self) -> int:
        with self._lock:
            return sum(1 for s in self._slots if s.invalid_reason is None)

    def _note_choice(self, account: Account, chosen: _Slot, now: datetime) -> None:
        previous = self._current.get(account.id)
        new = chosen.lease.slot
        if previous is None:
            self._current[account.id] = new
            return
        if previous == new:
            return
        old = self._slots[previous]
        self._current[account.id] = new
        if old.invalid_reason is None and (old.blocked_until is None or old.blocked_until <= now):
            logger.info("account %s: back on token %s", account.id, token_hint(chosen.lease.token))
            return
        reason = old.invalid_reason or "its app is rate limited"
        self._failovers.append(Failover(account.id, previous, new, reason))
        logger.warning(
            "account %s: switching from token %s to token %s (%s)",
            account.id,
            token_hint(old.lease.token),
            token_hint(chosen.lease.token),
            reason,
        )

    @staticmethod
    def _app_key(slot: _Slot) -> str:
        return slot.app_id if slot.app_id is not None else f"token:{slot.lease.slot}"
