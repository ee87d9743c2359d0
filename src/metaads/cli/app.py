"""Root typer application, global options, and error handling; command modules register on import."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from metaads.config.settings import LOG_LEVELS, Settings, load_settings
from metaads.errors import ConfigError, MetaAdsError
from metaads.logs import configure_logging
from metaads.redact import redact_text

app = typer.Typer(
    name="metaads",
    help="Meta ads insights pipeline: Graph API -> warehouse -> analytics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # tracebacks with locals could show tokens
)


class CliState:
    """Options given before the command; settings are loaded on first use."""

    def __init__(self) -> None:
        self.env_file: Path | None = Path(".env")
        self.log_format: str | None = None
        self.log_level: str | None = None
        self.interactive = sys.stderr.isatty()
        self._settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            env_file = self.env_file if self.env_file and self.env_file.exists() else None
            self._settings = load_settings(env_file=env_file)
            configure_logging(self.log_level or self._settings.log_level, self.log_format or self._settings.log_format)
        return self._settings


state = CliState()


@app.callback()
def _global_options(
    env_file: Annotated[Path, typer.Option(help="Read settings from this file too.")] = Path(".env"),
    log_format: Annotated[str | None, typer.Option(help="text or json (default: LOG_FORMAT).")] = None,
    log_level: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING... (default: LOG_LEVEL).")] = None,
) -> None:
    if log_level is not None and log_level.strip().upper() not in LOG_LEVELS:
        raise ConfigError(f"{log_level!r} is not a log level (one of {', '.join(LOG_LEVELS)})", variable="--log-level")
    state.env_file = env_file
    state.log_format = log_format
    state.log_level = log_level
    state._settings = None
    configure_logging(log_level or "INFO", log_format or "text")


def _register_commands() -> None:
    # Imported for their side effect of adding commands to ``app``.
    from metaads.cli import (  # noqa: F401
        accounts_cmd,
        demo_cmd,
        docs_cmd,
        embedded_cmd,
        pipeline_cmd,
        simulator_cmd,
        status_cmd,
        tokens_cmd,
        verify_cmd,
    )


def main() -> None:
    """Entry point of the ``metaads`` console script."""
    _register_commands()
    try:
        app(standalone_mode=True)
    except ConfigError as exc:
        _debug_traceback()
        print(f"configuration error: {redact_text(str(exc))}", file=sys.stderr)
        sys.exit(2)
    except MetaAdsError as exc:
        _debug_traceback()
        print(f"error: {redact_text(str(exc))}", file=sys.stderr)
        sys.exit(1)


def _debug_traceback() -> None:
    # People get the message that names what to fix; the traceback is for whoever debugs metaads.
    if logging.getLogger("metaads").isEnabledFor(logging.DEBUG):
        print(redact_text(traceback.format_exc()), file=sys.stderr)
