"""Keep access tokens out of logs, errors and reprs.

Meta's ``paging.next`` URLs carry the access token, so every URL and free text we log or put in an
exception goes through :func:`redact_text`, which masks token-bearing parameters and also any token
registered with :func:`register_secret` (the configured tokens and app secret are registered at start).
"""

from __future__ import annotations

import logging
import re
import threading

_SECRET_PARAMS = ("access_token", "appsecret_proof", "input_token", "client_secret", "fb_exchange_token")
_PARAM_RE = re.compile(r"((?:" + "|".join(_SECRET_PARAMS) + r")=)[^&\s\"']+", re.IGNORECASE)
_BEARER_RE = re.compile(r"(Bearer\s+)[A-Za-z0-9._\-|]+", re.IGNORECASE)
# Shape of real user/system-user/app tokens ("EAAB..."), in case one arrives in an unexpected place.
_EAA_RE = re.compile(r"\bEAA[A-Za-z0-9]{20,}\b")

_lock = threading.Lock()
_secrets: set[str] = set()
_secrets_re: re.Pattern[str] | None = None

MASK = "***"


def register_secret(secret: str) -> None:
    """Remember a secret so :func:`redact_text` masks it wherever it appears."""
    global _secrets_re
    if not secret or len(secret) < 4:
        return
    with _lock:
        if secret in _secrets:
            return
        _secrets.add(secret)
        ordered = sorted(_secrets, key=len, reverse=True)
        _secrets_re = re.compile("|".join(re.escape(s) for s in ordered))


def redact_text(text: str) -> str:
    """Mask token-bearing query parameters, bearer headers and registered secrets in ``text``."""
    text = _PARAM_RE.sub(r"\1" + MASK, text)
    text = _BEARER_RE.sub(r"\1" + MASK, text)
    text = _EAA_RE.sub(MASK, text)
    pattern = _secrets_re
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return text


def token_hint(token: str) -> str:
    """How a token is shown to people: its last 4 characters only."""
    return f"…{token[-4:]}" if len(token) >= 8 else "…"


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not hide the record
            message = str(record.msg)
        record.msg = redact_text(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True
