"""One logical Graph API call: authentication, pacing, classification, retries and token fail-over.

Every request of the client goes through :meth:`GraphSession.call`. The token travels in the
``Authorization`` header, never in the URL, so URLs (which httpx logs) stay free of it; ``paging.next``
URLs, which carry the token, are stripped of it before they are used (see :func:`split_url`).
"""

from __future__ import annotations

import logging
import random
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import orjson
import tenacity

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
from metaads.graph.gate import ACCOUNT_EXTENSION, WAIT_EXTENSION
from metaads.graph.page_rows import parse_page
from metaads.graph.pages import PageHold, PageSlots
from metaads.graph.policy import ClientPolicy
from metaads.graph.stats import StatsBook
from metaads.graph.throttle import QuotaKeys, Throttle
from metaads.graph.tokens import TokenLease, TokenPool
from metaads.graph.usage import Usage, parse_usage
from metaads.redact import redact_text, token_hint

logger = logging.getLogger(__name__)

AUTH_PARAMS = frozenset({"access_token", "appsecret_proof"})
_VERSION_PATH_RE = re.compile(r"/v\d+\.\d+/(.*)$")
_MAX_REQUEST_TEXT = 400
#: Waits at least this long are logged at INFO (account, why, until when); shorter ones only at DEBUG.
ANNOUNCE_WAITS_FROM_S = 5.0


def split_url(url: str) -> tuple[str, dict[str, str]]:
    """A Graph URL (e.g. ``paging.next``) as (path below the version, query without credentials)."""
    parts = urlsplit(url)
    match = _VERSION_PATH_RE.search(parts.path)
    path = match.group(1) if match else parts.path.lstrip("/")
    params = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in AUTH_PARAMS}
    return path, params


class GraphSession:
    """Sends Graph API requests for a :class:`~metaads.graph.client.GraphClient`. Thread-safe."""

    def __init__(
        self,
        *,
        base_url: str,
        version: str,
        http: httpx.Client,
        pool: TokenPool,
        policy: ClientPolicy,
        clock: Clock,
        throttle: Throttle,
        stats: StatsBook,
        rng: random.Random,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.http = http
        self.pool = pool
        self.policy = policy
        self.clock = clock
        self.throttle = throttle
        self.stats = stats
        self.rng = rng
        self._apps_lock = threading.Lock()
        self._apps_known = False
        #: Bounds the pages held parsed at once, across threads (``policy.parsed_pages``; see pages.py).
        self.pages = PageSlots(policy.parsed_pages)
        #: Told of every wait before it starts: (account id or None, until when, why). Progress displays.
        self.on_wait: Callable[[str | None, datetime, str], None] | None = None

    def describe(self, method: str, path: str, params: Mapping[str, str]) -> str:
        """A request as shown in logs and errors: no credentials, bounded length."""
        query = urlencode({k: v for k, v in params.items() if k not in AUTH_PARAMS})
        text = f"{method} /{self.version}/{path}" + (f"?{query}" if query else "")
        text = redact_text(text)
        return text if len(text) <= _MAX_REQUEST_TEXT else text[:_MAX_REQUEST_TEXT] + "..."

    def call(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        account: Account | None = None,
        lease: TokenLease | None = None,
        page: PageHold | None = None,
    ) -> dict[str, object]:
        """Send one request until it succeeds or fails for good; returns the JSON body.

        With ``page``, the body is parsed only once ``page`` holds a page slot (:mod:`metaads.graph.pages`),
        and it still holds it when the body is returned: the caller gives it back once done with the page.
        A failed attempt gives it back before it waits or retries.

        Three policies, each in its own place: transient failures are retried with jittered exponential
        back-off (or as long as the server's ``Retry-After`` says) by :mod:`tenacity`
        (:meth:`_transient_retrying`); rate limits are waited out, as long as the API says and capped
        by the policy (:meth:`_wait_for_quota`); code 190 fails over to another token and an app-level
        block to a token of another app (:meth:`_fail_over`), unless ``lease`` pins the token.

        Raises:
            GraphAPIError: a subclass saying what the caller should do (see :mod:`metaads.errors`).
        """
        params = {k: v for k, v in (params or {}).items() if k not in AUTH_PARAMS}
        attempt = _Attempt(method, path, params, account, lease, self.describe(method, path, params), page)
        retrying = self._transient_retrying(attempt.account_id)
        return retrying(self._call_through_limits, attempt)

    # ------------------------------------------------------------------ transient failures

    def _transient_retrying(self, account_id: str | None) -> tenacity.Retrying:
        """Retries of transient failures (5xx, codes 1/2, timeouts): up to ``policy.max_retries``."""

        def counted(state: tenacity.RetryCallState) -> None:
            self.stats.add(account_id, transient_errors=1)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            delay = state.upcoming_sleep
            error = state.outcome.exception() if state.outcome is not None else None
            logger.info(
                "account %s: transient error (%s); retry %d/%d in %.1f s",
                account_id or "-",
                error,
                state.attempt_number,
                self.policy.max_retries,
                delay,
            )
            self.stats.add(account_id, retries=1, backoff_s=delay)

        return tenacity.Retrying(
            retry=tenacity.retry_if_exception(_is_transient),
            stop=tenacity.stop_after_attempt(self.policy.max_retries + 1),
            wait=self._transient_wait,
            sleep=self.clock.sleep,
            after=counted,
            before_sleep=before_sleep,
            reraise=True,
        )

    def _transient_wait(self, state: tenacity.RetryCallState) -> float:
        """Jittered exponential back-off, but never shorter than the server's ``Retry-After``."""
        delay = self.policy.backoff_s(state.attempt_number, self.rng)
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, TransientError) and error.retry_after_s:
            delay = max(delay, min(error.retry_after_s, self.policy.max_wait_s))
        return delay

    # ------------------------------------------------------------------ rate limits and tokens

    def _call_through_limits(self, attempt: _Attempt) -> dict[str, object]:
        """One attempt as far as transient failures go: waits out rate limits, fails over tokens."""
        while True:
            current = self._lease(attempt)
            keys = QuotaKeys.for_call(current.fingerprint, attempt.account_id)
            self._pace(keys, attempt)
            try:
                return self._send(
                    attempt.method,
                    attempt.path,
                    attempt.params,
                    current,
                    keys,
                    attempt.account_id,
                    attempt.request_text,
                    attempt.page,
                )
            except RateLimitedError as error:
                self._wait_for_quota(error, keys, current, attempt)
            except TokenInvalidError as error:
                self._fail_over(error, current, attempt)

    def _lease(self, attempt: _Attempt) -> TokenLease:
        if attempt.lease is not None:
            return attempt.lease
        try:
            return self.pool.lease_for(attempt.account, self.clock.now())
        except NoUsableTokenError as exc:
            if attempt.last_token_error is not None:
                raise exc from attempt.last_token_error
            raise

    def _pace(self, keys: QuotaKeys, attempt: _Attempt) -> None:
        """Wait while the quota this call spends is blocked or nearly used up."""
        waited = self.throttle.wait_turn(keys, lambda seconds, why: self._announce(attempt, seconds, why))
        if waited.seconds > 0:
            slowdown = waited.seconds if waited.reason == "slowdown" else 0.0
            self.stats.add(attempt.account_id, throttled_s=waited.seconds, slowdown_s=slowdown)
            logger.debug(
                "account %s: waited %.1f s before %s (%s)",
                attempt.account_id or "-",
                waited.seconds,
                attempt.request_text,
                waited.reason,
            )

    def _announce(self, attempt: _Attempt, seconds: float, why: str) -> None:
        """Say that a call waits: at INFO when the wait is long enough for a person to wonder."""
        until = self.clock.now() + timedelta(seconds=seconds)
        if seconds >= ANNOUNCE_WAITS_FROM_S:
            reason = "to stay within its quota" if why == "slowdown" else f"because it is {why}"
            logger.info(
                "account %s: waiting %.0f s %s, until %s UTC",
                attempt.account_id or "-",
                seconds,
                reason,
                until.astimezone(timezone.utc).strftime("%H:%M:%S"),
            )
        if self.on_wait is not None:
            self.on_wait(attempt.account_id, until, why)

    def _wait_for_quota(self, error: RateLimitedError, keys: QuotaKeys, current: TokenLease, attempt: _Attempt) -> None:
        """Block the exhausted quota for as long as the API says (the next :meth:`_pace` waits)."""
        attempt.throttle_repeats += 1
        self.stats.add(attempt.account_id, throttled_errors=1)
        if attempt.throttle_repeats > self.policy.max_throttle_waits:
            raise error
        wait = self.throttle.block(keys, error, attempt.throttle_repeats)
        if error.scope == "app" and len(self.pool) > 1 and attempt.lease is None:
            self._learn_token_apps()
            self.pool.block_app(current, self.clock.now() + timedelta(seconds=wait))
        logger.warning(
            "account %s: rate limited (code %s, %s scope); next call in %.0f s",
            attempt.account_id or "-",
            error.code,
            error.scope,
            wait,
        )

    def _fail_over(self, error: TokenInvalidError, current: TokenLease, attempt: _Attempt) -> None:
        """Retire an invalid token for everyone; the next lease is another one (unless pinned)."""
        attempt.last_token_error = error
        self.pool.mark_invalid(current, f"code {error.code}/{error.subcode}: {error.message}")
        if attempt.lease is not None:
            raise error

    def _learn_token_apps(self) -> None:
        """Ask once, on the first app-level block, which app each token belongs to.

        Tokens of one app share its quota: only knowing the apps lets the pool move an account to a
        token of *another* app. Asked lazily because most runs never hit an app-level limit.
        """
        with self._apps_lock:
            if self._apps_known:
                return
            self._apps_known = True
        self.discover_token_apps()

    def discover_token_apps(self) -> list[str | None]:
        """Ask ``/debug_token`` which app each token belongs to (one call per token of unknown app).

        A token that cannot be inspected keeps an unknown app (treated as an app of its own).
        """
        with self._apps_lock:
            self._apps_known = True
        leases = self.pool.leases()
        for lease, app_id in zip(leases, self.pool.app_ids(), strict=True):
            if app_id is None:
                found = self._inspect(lease, leases)
                if found is not None:
                    self.pool.set_app_id(lease.slot, found)
        return self.pool.app_ids()

    def _inspect(self, target: TokenLease, leases: list[TokenLease]) -> str | None:
        """The app of ``target``, asked with the token itself, else with any other token.

        One attempt each, no waiting: the token's own app may be the one that is blocked right now.
        """
        last: GraphAPIError | None = None
        for asking in [target, *(lease for lease in leases if lease is not target)]:
            try:
                body = self._send(
                    "GET",
                    "debug_token",
                    {"input_token": target.token},
                    asking,
                    QuotaKeys.for_call(asking.fingerprint, None),
                    None,
                    self.describe("GET", "debug_token", {}),
                )
            except GraphAPIError as exc:
                last = exc
                continue
            data = body.get("data")
            if isinstance(data, dict) and data.get("app_id"):
                return str(data["app_id"])
            return None
        logger.warning(
            "token %s: cannot inspect it (%s)", token_hint(target.token), last.message if last else "no answer"
        )
        return None

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        lease: TokenLease,
        keys: QuotaKeys,
        account_id: str | None,
        request_text: str,
        page: PageHold | None = None,
    ) -> dict[str, object]:
        """One HTTP exchange: the JSON body. With ``page``, read and parsed once ``page`` holds a page slot
        (still held when the body is returned; given back on any failure).

        Raises:
            GraphAPIError: the classified failure; what httpx raises (timeouts, network errors, a body
                that does not decode as its ``Content-Encoding`` says) becomes a TransientError.
        """
        query = dict(params) if method == "GET" else {}
        form = None if method == "GET" else dict(params)
        if lease.appsecret_proof is not None:
            query["appsecret_proof"] = lease.appsecret_proof
        url = f"{self.base_url}/{self.version}/{path}"
        started = self.clock.monotonic()
        self.stats.add(account_id, api_calls=1)
        try:
            response, content = self._exchange(method, url, query, form, lease.token, page, request_text, account_id)
            # A page's rows stay JSON until consumed, a batch at a time (metaads.graph.page_rows).
            parsed = parse_page(content) if page is not None and response.status_code == 200 else None
            body = _json_or_none(content) if parsed is None else parsed
            del content  # parsed whole, the body is freed now, not with the next garbage collection
            return self._answer(response, body, keys, account_id, request_text, started)
        except BaseException:
            if page is not None:
                page.give_back()  # never held through a wait, a retry or a failure
            raise

    def _answer(
        self,
        response: httpx.Response,
        body: object,
        keys: QuotaKeys,
        account_id: str | None,
        request_text: str,
        started: float,
    ) -> dict[str, object]:
        """The JSON object of a response, once its usage headers are noted; else its classified failure."""
        usage = parse_usage(response.headers)
        if not usage.is_empty:
            self.throttle.observe(keys, usage)
        logger.debug(
            "%s -> HTTP %d in %.0f ms%s",
            request_text,
            response.status_code,
            (self.clock.monotonic() - started) * 1000,
            _usage_text(usage),
        )
        error = classify(response.status_code, body, usage=usage, request=request_text, account_id=account_id)
        if isinstance(error, TransientError) and error.retry_after_s is None:
            error.retry_after_s = _retry_after_header(response.headers.get("Retry-After"))
        if error is not None:
            raise error
        if not isinstance(body, dict):
            raise TransientError(
                f"HTTP {response.status_code} with a body that is not a JSON object",
                http_status=response.status_code,
                request=request_text,
                account_id=account_id,
            )
        return body

    def _exchange(
        self,
        method: str,
        url: str,
        query: dict[str, str],
        form: dict[str, str] | None,
        token: str,
        page: PageHold | None,
        request_text: str,
        account_id: str | None,
    ) -> tuple[httpx.Response, bytes]:
        """Send a request and read its whole body: (the response, without its body; the body).

        With ``page``, the body is read only once ``page`` holds a page slot (:mod:`metaads.graph.pages`):
        until then it waits on the connection, not in this process's memory.

        The body is not left on the response. httpx's response and its stream refer to each other (a
        reference cycle), so a body kept there (``response.content``) lives until the cyclic garbage
        collector runs, which may be many pages later: with an account per thread, a page body or two
        each (up to a few MB apiece) in the process's peak RSS. Read from the stream, the body is ours
        alone and goes as soon as it is parsed; the response keeps only its status and headers.

        Raises:
            TransientError: what httpx raises (timeouts, network errors, a body that does not decode as
                its ``Content-Encoding`` says).
        """
        headers = {"Authorization": f"Bearer {token}"}
        try:
            extensions = {ACCOUNT_EXTENSION: account_id} if account_id is not None else None
            with self.http.stream(
                method, url, params=query, data=form, headers=headers, extensions=extensions
            ) as response:
                gate_wait = response.extensions.get(WAIT_EXTENSION)
                if gate_wait:
                    self.stats.add(account_id, gate_wait_s=gate_wait)
                if page is not None:
                    self._take_page_slot(page, account_id)
                content = b"".join(response.iter_bytes())
        except httpx.TimeoutException as exc:
            raise TransientError(
                f"timed out ({type(exc).__name__})", request=request_text, account_id=account_id
            ) from None
        except httpx.DecodingError as exc:
            raise TransientError(
                f"response body could not be decoded ({type(exc).__name__}: {redact_text(str(exc))})",
                request=request_text,
                account_id=account_id,
            ) from None
        except httpx.HTTPError as exc:  # TransportError, TooManyRedirects, ...
            raise TransientError(
                f"network error ({type(exc).__name__}: {redact_text(str(exc))})",
                request=request_text,
                account_id=account_id,
            ) from None
        return response, content

    def _take_page_slot(self, page: PageHold, account_id: str | None) -> None:
        """Wait for a page slot; the wait is counted apart (``page_wait_s``), not as the API's answer time."""
        before = self.clock.monotonic()
        page.take()
        waited = self.clock.monotonic() - before
        if waited > 0:
            self.stats.add(account_id, page_wait_s=waited)


@dataclass
class _Attempt:
    """One logical call and what its retries have learnt so far (shared by every tenacity attempt)."""

    method: str
    path: str
    params: dict[str, str]
    account: Account | None
    lease: TokenLease | None
    request_text: str
    page: PageHold | None = None
    throttle_repeats: int = 0
    last_token_error: TokenInvalidError | None = None

    @property
    def account_id(self) -> str | None:
        return self.account.id if self.account is not None else None


def _json_or_none(content: bytes) -> object:
    """The parsed body; None when it is not JSON (classified by its HTTP status then)."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


def _is_transient(error: BaseException) -> bool:
    # Rate limits are transient too, but waited out inside the attempt (their own policy), never here.
    return isinstance(error, TransientError) and not isinstance(error, RateLimitedError)


def _retry_after_header(value: str | None) -> float | None:
    """Seconds from an HTTP ``Retry-After`` header given in seconds (dates are ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def _usage_text(usage: Usage) -> str:
    if usage.is_empty:
        return ""
    app, account = usage.app_pct, usage.account_level_pct
    return f" (usage app {'-' if app is None else app}%, account {'-' if account is None else account}%)"
