"""Logging setup: human text or one JSON object per line, always with secrets redacted."""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone
from typing import Any

import orjson

from metaads.redact import RedactingFilter, redact_text


class JsonFormatter(logging.Formatter):
    """One JSON object per record; structured fields from ``extra={"metaads": {...}}`` are merged in."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "metaads", None)
        if isinstance(fields, dict):
            payload.update(fields)
        if record.exc_info:
            payload["exception"] = redact_text(self.formatException(record.exc_info))
        return orjson.dumps(payload, default=str).decode()


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Send metaads logs to stderr in ``fmt`` ("text" or "json"), redacting tokens."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("metaads")
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
    # httpx logs every request URL at INFO, and Graph URLs carry access tokens: keep it quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpx").addFilter(RedactingFilter())
