"""Alerts: after each run, one message listing what needs a person, sent to ``ALERT_URLS`` via Apprise.

Apprise speaks Slack, Teams, e-mail, generic webhooks (``json://``) and about a hundred other services
with one URL syntax, so operators pick the channel by URL and metaads needs no per-service code. The
message is built by a pure function from plain records (:class:`AlertItem`); every item says what is
wrong and the action a person should take. Nothing is sent when nothing needs a person.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from metaads.errors import AlertError, ConfigError
from metaads.redact import redact_text

log = logging.getLogger("metaads.alerts")

ACCOUNT_FAILED = "account failed"
MISMATCH = "reconciliation mismatch"
TOKEN = "token needs attention"  # noqa: S105 - an alert kind, not a secret
STALE = "account stale"
#: The order items appear in: what stops data first.
KIND_ORDER = (ACCOUNT_FAILED, TOKEN, MISMATCH, STALE)


@dataclass(frozen=True)
class AlertItem:
    """One thing that needs a person: what (kind), about what (subject), why, and what to do."""

    kind: str
    subject: str
    reason: str
    action: str

    def line(self) -> str:
        return f"- {self.subject}: {self.reason} → {self.action}"


@dataclass(frozen=True)
class Alert:
    """The one message of a run."""

    title: str
    items: tuple[AlertItem, ...]

    def body(self) -> str:
        """Plain text grouped by kind; safe to send (secrets redacted)."""
        parts: list[str] = []
        for kind in (*KIND_ORDER, *sorted({i.kind for i in self.items} - set(KIND_ORDER))):
            lines = [item.line() for item in self.items if item.kind == kind]
            if lines:
                parts.append(f"{kind} ({len(lines)}):\n" + "\n".join(lines))
        return redact_text("\n\n".join(parts))


def build_alert(run_label: str, items: Iterable[AlertItem]) -> Alert | None:
    """The message for a run, or None when nothing needs a person."""
    chosen = tuple(items)
    if not chosen:
        return None
    counts = ", ".join(f"{sum(1 for i in chosen if i.kind == k)} {k}" for k in KIND_ORDER
                       if any(i.kind == k for i in chosen))
    return Alert(title=f"metaads {run_label}: {counts}", items=chosen)


def parse_alert_urls(raw: str) -> list[str]:
    """``ALERT_URLS``: Apprise URLs separated by commas, spaces or new lines.

    Raises:
        ConfigError: an entry Apprise does not recognise (named by position: URLs hold secrets).
    """
    apprise = _apprise()
    urls = [part for part in raw.replace(",", " ").split() if part]
    for position, url in enumerate(urls, start=1):
        with _quiet():
            usable = apprise.Apprise.instantiate(url) is not None
        if not usable:
            raise ConfigError(f"entry {position} is not an Apprise URL Apprise can use "
                              "(see https://github.com/caronc/apprise/wiki)", variable="ALERT_URLS")
    return urls


def send_alert(alert: Alert, urls: Sequence[str]) -> None:
    """Send ``alert`` to every URL.

    Raises:
        AlertError: no URL accepted the message (the run's data is unaffected).
    """
    apprise = _apprise()
    notifier = apprise.Apprise()
    for url in urls:
        notifier.add(url)
    with _quiet():
        delivered = notifier.notify(title=alert.title, body=alert.body(), body_format=apprise.NotifyFormat.TEXT)
    if not delivered:
        raise AlertError(f"the alert could not be delivered to {len(urls)} ALERT_URLS target(s); "
                         "check the URLs and that the services are reachable")
    log.info("alert sent to %d target(s): %s", len(urls), alert.title)


@contextmanager
def _quiet() -> Iterator[None]:
    # Apprise's plugins (loaded lazily) import the standard library's deprecated imghdr.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        yield


def _apprise() -> Any:
    try:
        with _quiet():
            import apprise
    except ImportError:
        raise ConfigError("is set but Apprise is not installed: pip install 'metaads[alerts]'",
                          variable="ALERT_URLS") from None
    return apprise
