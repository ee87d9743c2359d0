"""One logical Graph API call: authentication, pacing, classification, retries and token fail-over.

Every request of the client goes through :meth:`GraphSession.call`. The token travels in the
``Authorization`` header, never in the URL, so URLs (which httpx logs) stay free of it; ``paging.next``
URLs, which carry the token, are stripped of it before they are used (see :func:`split_url`).
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import orjson

from metaads.accounts import Account
from metaads.clock import Clock
from metaads.errors import (
    GraphAPIError,
    NoUsableTokenError,
    RateLimitedError,
    TokenInvalidError,
    TransientError,
)
from metaads.graph.classify import classify
from metaads.graph.policy import ClientPolicy
from metaads.graph.stats import StatsBook
from metaads.graph.throttle import QuotaKeys, Throttle
from metaads.graph.tokens import TokenLease, TokenPool
from metaads.graph.usage import Usage, parse_usage
from metaads.redact import redact_text

logger = logging.getLogger(__name__)

AUTH_PARAMS = frozenset({"access_token", "appsecret_proof"})
_VERSION_PATH_RE = re.compile(r"/v\d+\.\d+/(.*)$")
_MAX_REQUEST_TEXT = 400


def split_url(url: str) -> tuple[str, dict[str, str]]:
    """A Graph URL (e.g. ``paging.next``) as (path below the version, query without credentials)."""
    parts = urlsplit(url)
    match = _VERSION_PATH_RE.search(parts.path)
    path = match.group(1) if match else parts.path.lstrip("/")
    params = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in AUTH_PARAMS}
    return path, params


class GraphSession:
    """Sends Graph API requests for a :class:`~metaads.graph.client.GraphClient`. Thread-safe."""

    def __init__(self, *, base_url: str, version: str, http: httpx.Client, pool: TokenPool,
                 policy: ClientPolicy, clock: Clock, throttle: Throttle, stats: StatsBook,
                 rng: random.Random) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.http = http
        self.pool = pool
        self.policy = policy
        self.clock = clock
        self.throttle = throttle
        self.stats = stats
        self.rng = rng

    def describe(self, method: str, path: str, params: Mapping[str, str]) -> str:
        """A request as shown in logs and errors: no credentials, bounded length."""
        query = urlencode({k: v for k, v in params.items() if k not in AUTH_PARAMS})
        text = f"{method} /{self.version}/{path}" + (f"?{query}" if query else "")
        text = redact_text(text)
        return text if len(text) <= _MAX_REQUEST_TEXT else text[:_MAX_REQUEST_TEXT] + "..."

    def call(self, method: str, path: str, params: Mapping[str, str] | None = None, *,
             account: Account | None = None, lease: TokenLease | None = None) -> dict[str, object]:
        """Send one request until it succeeds or fails for good; returns the JSON body.

        Waits out rate limits (as long as the API says, capped by the policy), retries transient
        failures with jittered exponential back-off and fails over to another token on code 190
        (unless ``lease`` pins the token to use).

        Raises:
            GraphAPIError: a subclass saying what the caller should do (see :mod:`metaads.errors`).
        """
        params = {k: v for k, v in (params or {}).items() if k not in AUTH_PARAMS}
        account_id = account.id if account is not None else None
        request_text = self.describe(method, path, params)
        transient_attempts = 0
        throttle_repeats = 0
        last_token_error: TokenInvalidError | None = None
        while True:
            try:
                current = lease or self.pool.lease_for(account, self.clock.now())
            except NoUsableTokenError as exc:
                if last_token_error is not None:
                    raise exc from last_token_error
                raise
            keys = QuotaKeys.for_call(current.fingerprint, account_id)
            waited = self.throttle.wait_turn(keys)
            if waited.seconds > 0:
                slowdown = waited.seconds if waited.reason == "slowdown" else 0.0
                self.stats.add(account_id, throttled_s=waited.seconds, slowdown_s=slowdown)
                logger.debug("account %s: waited %.1f s before %s (%s)", account_id or "-",
                             waited.seconds, request_text, waited.reason)
            error = self._send(method, path, params, current, keys, account_id, request_text)
            if isinstance(error, dict):
                return error
            if isinstance(error, RateLimitedError):
                throttle_repeats += 1
                self.stats.add(account_id, throttled_errors=1)
                if throttle_repeats > self.policy.max_throttle_waits:
                    raise error
                wait = self.throttle.block(keys, error, throttle_repeats)
                if error.scope == "app" and len(self.pool) > 1 and lease is None:
                    self.pool.block_app(current, self.clock.now() + timedelta(seconds=wait))
                logger.warning("account %s: rate limited (code %s, %s scope); next call in %.0f s",
                               account_id or "-", error.code, error.scope, wait)
                continue
            if isinstance(error, TokenInvalidError):
                last_token_error = error
                self.pool.mark_invalid(current, f"code {error.code}/{error.subcode}: {error.message}")
                if lease is not None:
                    raise error
                continue
            if isinstance(error, TransientError):
                transient_attempts += 1
                self.stats.add(account_id, transient_errors=1)
                if transient_attempts > self.policy.max_retries:
                    raise error
                delay = self.policy.backoff_s(transient_attempts, self.rng)
                logger.info("account %s: transient error (%s); retry %d/%d in %.1f s", account_id or "-",
                            error, transient_attempts, self.policy.max_retries, delay)
                self.clock.sleep(delay)
                self.stats.add(account_id, retries=1, backoff_s=delay)
                continue
            raise error

    def _send(self, method: str, path: str, params: dict[str, str], lease: TokenLease, keys: QuotaKeys,
              account_id: str | None, request_text: str) -> dict[str, object] | GraphAPIError:
        """One HTTP exchange: the JSON body on success, else the classified error (not raised)."""
        query = dict(params) if method == "GET" else {}
        form = None if method == "GET" else dict(params)
        if lease.appsecret_proof is not None:
            query["appsecret_proof"] = lease.appsecret_proof
        url = f"{self.base_url}/{self.version}/{path}"
        started = self.clock.monotonic()
        self.stats.add(account_id, api_calls=1)
        try:
            response = self.http.request(method, url, params=query, data=form,
                                         headers={"Authorization": f"Bearer {lease.token}"})
        except httpx.TimeoutException as exc:
            return TransientError(f"timed out ({type(exc).__name__})", request=request_text,
                                  account_id=account_id)
        except httpx.TransportError as exc:
            return TransientError(f"network error ({type(exc).__name__}: {redact_text(str(exc))})",
                                  request=request_text, account_id=account_id)
        try:
            body: object = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        usage = parse_usage(response.headers)
        if not usage.is_empty:
            self.throttle.observe(keys, usage)
        logger.debug("%s -> HTTP %d in %.0f ms%s", request_text, response.status_code,
                     (self.clock.monotonic() - started) * 1000, _usage_text(usage))
        error = classify(response.status_code, body, usage=usage, request=request_text, account_id=account_id)
        if error is not None:
            return error
        if not isinstance(body, dict):
            return TransientError(f"HTTP {response.status_code} with a body that is not a JSON object",
                                  http_status=response.status_code, request=request_text,
                                  account_id=account_id)
        return body


def _usage_text(usage: Usage) -> str:
    if usage.is_empty:
        return ""
    app, account = usage.app_pct, usage.account_level_pct
    return f" (usage app {'-' if app is None else app}%, account {'-' if account is None else account}%)"
