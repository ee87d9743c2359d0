"""Alerts: after each run, one message listing what needs a person, sent to ``ALERT_URLS`` via Apprise.

Apprise speaks Slack, Teams, e-mail, generic webhooks (``json://``) and about a hundred other services
with one URL syntax, so operators pick the channel by URL and metaads needs no per-service code. The
message is built by a pure function from plain records (:class:`AlertItem`); every item says what is
wrong and the action a person should take. Nothing is sent when nothing needs a person.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from metaads.config.alert_urls import apprise_quiet, load_apprise
from metaads.errors import AlertError
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
    counts = ", ".join(
        f"{sum(1 for i in chosen if i.kind == k)} {k}" for k in KIND_ORDER if any(i.kind == k for i in chosen)
    )
    return Alert(title=f"metaads {run_label}: {counts}", items=chosen)


def send_alert(alert: Alert, urls: Sequence[str]) -> None:
    """Send ``alert`` to every URL (see :func:`send_message`)."""
    send_message(alert.title, alert.body(), urls)


def send_message(title: str, body: str, urls: Sequence[str]) -> None:
    """Send one plain-text message to every Apprise URL.

    Raises:
        AlertError: no URL accepted the message (the run's data is unaffected).
    """
    apprise = load_apprise()
    notifier = apprise.Apprise()
    for url in urls:
        notifier.add(url)
    with apprise_quiet():
        delivered = notifier.notify(title=title, body=redact_text(body), body_format=apprise.NotifyFormat.TEXT)
    if not delivered:
        raise AlertError(
            f"the alert could not be delivered to {len(urls)} ALERT_URLS target(s); "
            "check the URLs and that the services are reachable"
        )
    log.info("alert sent to %d target(s): %s", len(urls), title)
