"""Apps and access tokens: who may call, for which app, on which ad accounts."""

from __future__ import annotations

import hashlib
import hmac
import random
import string
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from metaads.simulator import errors
from metaads.simulator.config import SimulatorConfig

_ALPHABET = string.ascii_letters + string.digits
_SCOPES = ("ads_read", "ads_management", "business_management", "read_insights")


@dataclass(frozen=True)
class App:
    id: str
    name: str


@dataclass
class TokenInfo:
    """One access token's state; ``accounts`` None means every account of the world."""

    token: str
    app_id: str
    user_id: str
    type: str = "SYSTEM_USER"
    valid: bool = True
    subcode: int | None = None  # why it is invalid: 463 expired, 467 invalid, ...
    expires_at: datetime | None = None  # None: never (system-user tokens)
    accounts: frozenset[str] | None = None
    scopes: tuple[str, ...] = field(default=_SCOPES)


def appsecret_proof(token: str, secret: str) -> str:
    """hex HMAC-SHA256 of the token keyed with the app secret (what the SDK sends)."""
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


class TokenRegistry:
    """The world's apps and tokens; deterministic from the seed."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._config = config
        self._rng = random.Random(f"metaads-tokens-{config.seed}")
        self._lock = threading.Lock()
        self.apps = tuple(
            App(id=str(self._rng.randrange(10**14, 10**16)), name=f"metaads sim app {i + 1}")
            for i in range(max(1, config.n_apps))
        )
        self._tokens: dict[str, TokenInfo] = {}
        self.initial: list[str] = []
        for position in range(len(self.apps) * max(1, config.tokens_per_app)):
            # Round-robin over apps, so consecutive tokens (and the accounts using them) differ in app.
            self.initial.append(self.add(app_id=self.apps[position % len(self.apps)].id))

    def _new_token(self) -> str:
        body = "".join(self._rng.choice(_ALPHABET) for _ in range(60))
        return f"EAAsim{body}"

    def add(
        self,
        token: str | None = None,
        *,
        app_id: str | None = None,
        valid: bool = True,
        expired: bool = False,
        accounts: Iterable[str] | None = None,
        expires_at: datetime | None = None,
        scopes: Iterable[str] | None = None,
    ) -> str:
        """Register a token (a new random one when ``token`` is None) and return it."""
        with self._lock:
            token = token or self._new_token()
            app = app_id or self.apps[len(self._tokens) % len(self.apps)].id
            if app not in {a.id for a in self.apps}:
                raise ValueError(f"unknown app id {app!r}; apps: {[a.id for a in self.apps]}")
            subcode = 463 if expired else (None if valid else 467)
            self._tokens[token] = TokenInfo(
                token=token,
                app_id=app,
                user_id=str(self._rng.randrange(10**14, 10**15)),
                # System-user tokens never expire; a token with an expiry is a (long-lived) user token.
                type="USER" if expires_at is not None or expired else "SYSTEM_USER",
                valid=valid and not expired,
                subcode=subcode,
                expires_at=expires_at,
                accounts=None if accounts is None else frozenset(a.removeprefix("act_") for a in accounts),
                scopes=_SCOPES if scopes is None else tuple(scopes),
            )
            return token

    def invalidate(self, token: str, subcode: int = 463) -> None:
        with self._lock:
            info = self._tokens[token]
            info.valid = False
            info.subcode = subcode

    def lookup(self, token: str) -> TokenInfo | None:
        return self._tokens.get(token)

    def authenticate(self, token: str | None, proof: str | None, now: datetime) -> TokenInfo:
        """The token's info, or the error the API gives (104, 190/..., 100 appsecret_proof)."""
        if not token:
            raise errors.missing_token()
        info = self._tokens.get(token)
        if info is None:
            raise errors.unparsable_token()
        if info.valid and info.expires_at is not None and info.expires_at <= now:
            info.valid, info.subcode = False, 463
        if not info.valid:
            expired_at = info.expires_at or now - timedelta(days=1)
            raise errors.token_invalid(info.subcode or 467, app_id=info.app_id, expired_at=expired_at, now=now)
        secret = self._config.app_secret
        if secret is not None:
            if proof is None:
                if self._config.require_appsecret_proof:
                    raise errors.bad_appsecret_proof(missing=True)
            elif not hmac.compare_digest(proof, appsecret_proof(token, secret)):
                raise errors.bad_appsecret_proof(missing=False)
        return info

    def check_account(self, info: TokenInfo, account_id: str) -> None:
        if info.accounts is not None and account_id not in info.accounts:
            raise errors.no_permission(account_id)
        # Reading an ad account needs ads_read (or ads_management, which includes it).
        if not {"ads_read", "ads_management"} & set(info.scopes):
            raise errors.no_permission(account_id)
