"""``ALERT_URLS``: Apprise URLs, checked when settings load so a bad one is a configuration error."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from metaads.errors import ConfigError


def parse_alert_urls(raw: str) -> list[str]:
    """``ALERT_URLS``: Apprise URLs separated by commas, spaces or new lines.

    Raises:
        ConfigError: an entry Apprise does not recognise (named by position: URLs hold secrets).
    """
    apprise = load_apprise()
    urls = [part for part in raw.replace(",", " ").split() if part]
    for position, url in enumerate(urls, start=1):
        with apprise_quiet():
            usable = apprise.Apprise.instantiate(url) is not None
        if not usable:
            raise ConfigError(
                f"entry {position} is not an Apprise URL Apprise can use (see https://github.com/caronc/apprise/wiki)",
                variable="ALERT_URLS",
            )
    return urls


@contextmanager
def apprise_quiet() -> Iterator[None]:
    # Apprise's plugins (loaded lazily) import the standard library's deprecated imghdr.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        yield


def load_apprise() -> Any:
    try:
        with apprise_quiet():
            import apprise
    except ImportError:
        raise ConfigError(
            "is set but Apprise is not installed: pip install 'metaads[alerts]'", variable="ALERT_URLS"
        ) from None
    return apprise
