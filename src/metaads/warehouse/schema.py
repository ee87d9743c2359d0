"""SQLAlchemy Core table definitions: the single source of the warehouse and analytics schemas.

Per account: an ads table (``bm_01``) and an actions table (``bm_01_actions``). The union views
``vw_graph_ads`` / ``vw_graph_ads_actions`` select exactly :data:`ADS_COLUMNS` / :data:`ACTIONS_COLUMNS`
from every configured account's tables. Those column lists are the transform's row contract
(:class:`~metaads.transform.AdsRow`, :class:`~metaads.transform.ActionsRow`): the tables here must
match them. The analytics sync builds its targets from the same
column factories, so the three always agree.

The run ledger (``metaads_runs``, ``metaads_account_runs``, ``metaads_syncs``) records what every run
loaded; the incremental sync reads it to know which (account, date range) slices changed. The account
registry (``metaads_accounts``) lists every account table the warehouse holds; the union views cover its
active (not retired) accounts, whatever configuration ran last.
``metaads_chunk_days`` keeps, per loaded chunk and day, Meta's account-level totals next to what the
warehouse holds after the load (reconciliation); ``metaads_quality`` the data-quality checks of each run.
``metaads_throttle`` holds the rate-limit state every worker shares (:mod:`metaads.warehouse.throttle`).
Every metaads table starts with :data:`RESERVED_PREFIX`; account tables may not.
"""

from __future__ import annotations

import sqlalchemy as sa

from metaads.transform import ACTIONS_COLUMNS, ADS_COLUMNS

ADS_VIEW = "vw_graph_ads"
ACTIONS_VIEW = "vw_graph_ads_actions"
ACTIONS_SUFFIX = "_actions"
RESERVED_PREFIX = "metaads_"
THROTTLE_TABLE = "metaads_throttle"
THROTTLE_REASON_CHARS = 200

ADS_TABLE_COMMENT = "Meta ads insights of one ad account: one row per ad and day (metaads)"
ACTIONS_TABLE_COMMENT = "Actions of one ad account: one row per ad, day and action type (metaads)"
#: The union views, described like tables (their columns are the ads / actions columns).
VIEW_COMMENTS = {
    ADS_VIEW: "Every registered ad account's ads rows (UNION ALL of the per-account tables)",
    ACTIONS_VIEW: "Every registered ad account's actions rows (UNION ALL of the per-account actions tables)",
}

# Money and action values: exact decimals, wide enough for any currency and Meta's fractional values.
MONEY = sa.Numeric(20, 6)
NAME = sa.Unicode(512)
ID = sa.String(32)


def _ads_columns() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "unique_id",
            sa.String(32),
            primary_key=True,
            comment="MD5 of account_id|ad_id|date: stable across Meta's restatements",
        ),
        sa.Column("account_id", ID, nullable=False, comment="ad account id, digits only (no act_ prefix)"),
        sa.Column("account_name", NAME, comment="ad account name when the row was fetched"),
        sa.Column("campaign_id", ID, comment="campaign of the ad"),
        sa.Column("campaign_name", NAME, comment="campaign name when the row was fetched"),
        sa.Column(
            "campaign_status",
            sa.String(32),
            comment="campaign status (ACTIVE, PAUSED, ARCHIVED, DELETED...) from the campaigns edge",
        ),
        sa.Column("adset_id", ID, comment="ad set of the ad"),
        sa.Column("adset_name", NAME, comment="ad set name when the row was fetched"),
        sa.Column("ad_id", ID, nullable=False, comment="the ad"),
        sa.Column("ad_name", NAME, comment="ad name when the row was fetched"),
        sa.Column("objective", sa.String(64), comment="campaign objective, e.g. OUTCOME_TRAFFIC"),
        sa.Column("spend", MONEY, nullable=False, comment="amount spent, in the account currency (exact decimal)"),
        sa.Column("clicks", sa.BigInteger, nullable=False, comment="clicks of all kinds"),
        sa.Column(
            "inline_link_clicks",
            sa.BigInteger,
            nullable=False,
            comment="clicks on links to destinations on or off Meta (link clicks)",
        ),
        sa.Column("impressions", sa.BigInteger, nullable=False, comment="times the ad was on screen"),
        sa.Column(
            "reach",
            sa.BigInteger,
            comment="people who saw the ad that day; NULL when the API did not send it (reach cannot "
            "be 0-filled, and it does not add up across days or ads)",
        ),
        sa.Column("currency", sa.String(3), comment="ISO 4217 currency of spend and action values"),
        sa.Column("date", sa.Date, nullable=False, comment="the day, in the ad account's time zone"),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), nullable=False, comment="when metaads loaded this row (UTC)"
        ),
    ]


def _actions_columns() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "unique_id",
            sa.String(32),
            primary_key=True,
            comment="MD5 of account_id|ad_id|date|action_type: stable across Meta's restatements",
        ),
        sa.Column("account_id", ID, nullable=False, comment="ad account id, digits only (no act_ prefix)"),
        sa.Column("ad_id", ID, nullable=False, comment="the ad (joins the ads table on account_id, ad_id, date)"),
        sa.Column("date", sa.Date, nullable=False, comment="the day, in the ad account's time zone"),
        sa.Column(
            "action_type",
            sa.String(128),
            nullable=False,
            comment="Meta's action type, e.g. link_click, purchase, offsite_conversion.fb_pixel_lead",
        ),
        sa.Column(
            "value",
            MONEY,
            nullable=False,
            comment="number of actions (default attribution; fractional for modelled conversions)",
        ),
        sa.Column(
            "action_value",
            MONEY,
            comment="action_values for the same type, e.g. purchase value in the account currency",
        ),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), nullable=False, comment="when metaads loaded this row (UTC)"
        ),
    ]


def ads_columns() -> list[sa.Column[object]]:
    """Fresh ads-table columns (a Column belongs to one Table), for tables defined elsewhere."""
    return _ads_columns()


def actions_columns() -> list[sa.Column[object]]:
    """Fresh actions-table columns, for tables defined elsewhere (the analytics targets)."""
    return _actions_columns()


def _check_contract(columns: list[sa.Column[object]], contract: tuple[str, ...], row: str) -> None:
    names = tuple(c.name for c in columns)
    if names != contract:  # pragma: no cover - guards the contract with the transform
        raise RuntimeError(f"warehouse columns {names} drifted from the transform's {row} fields {contract}")


_check_contract(_ads_columns(), ADS_COLUMNS, "AdsRow")
_check_contract(_actions_columns(), ACTIONS_COLUMNS, "ActionsRow")


def ads_table(metadata: sa.MetaData, name: str, *, schema: str | None = None) -> sa.Table:
    """The ads table of one account, with the original design's indexes."""
    return sa.Table(
        name,
        metadata,
        *_ads_columns(),
        sa.Index(f"ix_{name}_account_date", "account_id", "date"),
        sa.Index(f"ix_{name}_campaign", "campaign_id"),
        sa.Index(f"ix_{name}_ad", "ad_id"),
        comment=ADS_TABLE_COMMENT,
        schema=schema,
    )


def actions_table(metadata: sa.MetaData, name: str, *, schema: str | None = None) -> sa.Table:
    """The actions table of one account (one row per action type per ad-day)."""
    return sa.Table(
        name,
        metadata,
        *_actions_columns(),
        sa.Index(f"ix_{name}_account_date", "account_id", "date"),
        sa.Index(f"ix_{name}_ad_action", "ad_id", "action_type"),
        comment=ACTIONS_TABLE_COMMENT,
        schema=schema,
    )


def ledger_tables(metadata: sa.MetaData, *, schema: str | None = None) -> tuple[sa.Table, sa.Table, sa.Table]:
    """``metaads_runs``, ``metaads_account_runs`` and ``metaads_syncs``."""
    runs = sa.Table(
        "metaads_runs",
        metadata,
        sa.Column("run_id", sa.String(36), primary_key=True, comment="the run's id (UUID)"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, comment="when the run started (UTC)"),
        sa.Column("finished_at", sa.DateTime(timezone=True), comment="when the run ended (UTC); NULL while running"),
        sa.Column("status", sa.String(16), nullable=False, comment="running | success | partial | failed | abandoned"),
        sa.Column("trigger", sa.String(32), comment="cli | airflow | demo | bench"),
        sa.Column("accounts", sa.Integer, comment="accounts the run was asked to load"),
        sa.Column("accounts_failed", sa.Integer, comment="accounts that did not load completely"),
        *_owner_columns(),
        comment="One row per pipeline run (metaads ledger)",
        schema=schema,
    )
    account_runs = sa.Table(
        "metaads_account_runs",
        metadata,
        sa.Column(
            "id",
            sa.Integer,
            sa.Identity(),
            primary_key=True,
            comment="ledger id; the incremental sync's watermark moves over these",
        ),
        sa.Column("run_id", sa.String(36), nullable=False, index=True, comment="the run (metaads_runs.run_id)"),
        sa.Column("account_id", ID, nullable=False, comment="ad account id, digits only"),
        sa.Column("table_name", sa.String(63), nullable=False, comment="the account's ads table"),
        sa.Column("since", sa.Date, nullable=False, comment="first day of the range (account time zone)"),
        sa.Column("until", sa.Date, nullable=False, comment="last day of the range (account time zone)"),
        sa.Column("status", sa.String(16), nullable=False, comment="loaded | mismatch | failed | skipped"),
        sa.Column("ads_rows", sa.BigInteger, nullable=False, default=0, comment="ads rows loaded for the range"),
        sa.Column(
            "actions_rows", sa.BigInteger, nullable=False, default=0, comment="actions rows loaded for the range"
        ),
        sa.Column("api_calls", sa.Integer, nullable=False, default=0, comment="Graph API calls this range cost"),
        sa.Column(
            "throttled_s", sa.Float, nullable=False, default=0.0, comment="seconds this range waited for rate limits"
        ),
        sa.Column("duration_s", sa.Float, nullable=False, default=0.0, comment="seconds this range took"),
        sa.Column("error", sa.Text, comment="never contains secrets"),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False, comment="when the range finished (UTC)"),
        sa.Column(
            "report",
            sa.String(31),
            comment="the INSIGHTS_REPORTS report loaded (rows: report rows, actions_rows: its list rows); "
            "NULL: the default report",
        ),
        comment="One row per account and loaded (or failed) date range (metaads ledger)",
        schema=schema,
    )
    syncs = sa.Table(
        "metaads_syncs",
        metadata,
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True, comment="sync id"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, comment="when the sync started (UTC)"),
        sa.Column("finished_at", sa.DateTime(timezone=True), comment="when the sync ended (UTC); NULL while running"),
        sa.Column("status", sa.String(16), nullable=False, comment="running | success | failed | abandoned"),
        sa.Column("mode", sa.String(16), nullable=False, comment="incremental | full"),
        sa.Column("target", sa.String(200), comment="analytics URL without password"),
        sa.Column("watermark", sa.Integer, comment="highest metaads_account_runs.id covered by this sync"),
        sa.Column("ads_rows", sa.BigInteger, comment="rows copied to graph_ads"),
        sa.Column("actions_rows", sa.BigInteger, comment="rows copied to graph_ads_actions"),
        sa.Column("duration_s", sa.Float, comment="seconds the sync took"),
        sa.Column("error", sa.Text, comment="why the sync failed (never contains secrets)"),
        *_owner_columns(),
        comment="One row per analytics sync, with its watermark (metaads ledger)",
        schema=schema,
    )
    return runs, account_runs, syncs


def _owner_columns() -> list[sa.Column[object]]:
    # Who runs a ``running`` row: a later run or sync (or ``verify``) marks it ``abandoned`` when that
    # process is gone (same host) or its heartbeat is stale (another host). Nullable: added to old ledgers.
    return [
        sa.Column("owner_host", sa.String(255), comment="host name of the process running it (NULL: no single owner)"),
        sa.Column("owner_pid", sa.Integer, comment="pid of the process running it"),
        sa.Column("owner_started", sa.String(64), comment="the owner process's start time (pid reuse check)"),
        sa.Column(
            "heartbeat_at",
            sa.DateTime(timezone=True),
            comment="last sign of life (UTC): the start, then every chunk recorded",
        ),
    ]


def chunk_days_table(metadata: sa.MetaData, *, schema: str | None = None) -> sa.Table:
    """``metaads_chunk_days``: per loaded chunk (a ``metaads_account_runs`` row) and day, Meta's account-level
    totals (``api_*``), the sums of Meta's ad-level answer (``answer_*``) and the warehouse's sums after
    the load (``loaded_*``: the answer where it replaced the day, else the rows kept).

    Written in the chunk's load transaction, so ``SELECT matches ... WHERE account_id = X AND date = D
    ORDER BY ledger_id DESC`` answers "did account X match on day D" for the last load of that day.
    """
    columns: list[sa.Column[object]] = [
        sa.Column("ledger_id", sa.Integer, primary_key=True, comment="the chunk (metaads_account_runs.id)"),
        sa.Column("date", sa.Date, primary_key=True, comment="the day (account time zone)"),
        sa.Column("account_id", ID, nullable=False, comment="ad account id, digits only"),
    ]
    whose = {
        "api": "Meta's account-level total",
        "answer": "sum of Meta's ad-level answer",
        "loaded": "sum of the rows the warehouse holds after the load",
    }
    for prefix, what in whose.items():
        columns += [
            sa.Column(f"{prefix}_spend", MONEY, nullable=False, comment=f"spend: {what}"),
            sa.Column(f"{prefix}_impressions", sa.BigInteger, nullable=False, comment=f"impressions: {what}"),
            sa.Column(f"{prefix}_clicks", sa.BigInteger, nullable=False, comment=f"clicks: {what}"),
            sa.Column(
                f"{prefix}_inline_link_clicks", sa.BigInteger, nullable=False, comment=f"inline link clicks: {what}"
            ),
        ]
    columns += [
        sa.Column("answer_rows", sa.BigInteger, nullable=False, comment="ad rows in Meta's answer for the day"),
        sa.Column("loaded_rows", sa.BigInteger, nullable=False, comment="ad rows the warehouse holds for the day"),
        sa.Column("replaced", sa.Boolean, nullable=False, comment="false: the stored rows were kept"),
        sa.Column("matches", sa.Boolean, nullable=False, comment="loaded_* equal api_* within the tolerance"),
    ]
    return sa.Table(
        "metaads_chunk_days",
        metadata,
        *columns,
        sa.Index("ix_metaads_chunk_days_account_date", "account_id", "date"),
        comment="Reconciliation per loaded chunk and day: Meta's account totals vs rows (metaads ledger)",
        schema=schema,
    )


def quality_table(metadata: sa.MetaData, *, schema: str | None = None) -> sa.Table:
    """``metaads_quality``: one row per data-quality check and account, after each run (and ``verify``)."""
    return sa.Table(
        "metaads_quality",
        metadata,
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True, comment="check id"),
        sa.Column("run_id", sa.String(36), comment="the run checked; NULL for metaads verify"),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False, comment="when it was checked (UTC)"),
        sa.Column(
            "check_name",
            sa.String(64),
            nullable=False,
            comment="duplicate_unique_id | negative_metrics | orphan_actions | api_spend_no_rows | freshness",
        ),
        sa.Column("account_id", ID, comment="ad account id, digits only"),
        sa.Column("value", sa.BigInteger, comment="offending rows or days (freshness: days since the last loaded day)"),
        sa.Column("detail", sa.Text, comment="e.g. the first offending days"),
        sa.Column("ok", sa.Boolean, nullable=False, comment="the check passed"),
        comment="Data-quality checks after each run and each metaads verify (metaads ledger)",
        schema=schema,
    )


def throttle_table(metadata: sa.MetaData, schema: str | None = None) -> sa.Table:
    """``metaads_throttle``: one row per quota key (rate-limit state shared by every worker)."""
    return sa.Table(
        THROTTLE_TABLE,
        metadata,
        sa.Column(
            "key",
            sa.String(200),
            primary_key=True,
            comment="app:<token fingerprint> or account:<token fingerprint>:<account id>",
        ),
        sa.Column("not_before", sa.DateTime(timezone=True), comment="no call on this quota before (UTC)"),
        sa.Column(
            "reason",
            sa.String(THROTTLE_REASON_CHARS),
            comment="why the quota is held (slow-down or the throttling error code)",
        ),
        sa.Column("usage_pct", sa.Float, comment="last usage percentage the API reported"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, comment="when this row last changed (UTC)"),
        comment="Rate-limit state shared by every worker, one row per quota (metaads)",
        schema=schema,
    )


TOKEN_CHECKS = "metaads_token_checks"  # noqa: S105 - a table name


def token_checks_table(metadata: sa.MetaData, *, schema: str | None = None) -> sa.Table:
    """``metaads_token_checks``: one row per token per daily health check (tokens only by fingerprint)."""
    return sa.Table(
        TOKEN_CHECKS,
        metadata,
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True, comment="check row id"),
        sa.Column(
            "checked_at",
            sa.DateTime(timezone=True),
            nullable=False,
            index=True,
            comment="when the tokens were checked (UTC)",
        ),
        sa.Column("fingerprint", sa.String(16), nullable=False, comment="short hash of the token, never the token"),
        sa.Column("hint", sa.String(8), nullable=False, comment="last 4 characters of the token"),
        sa.Column("valid", sa.Boolean, nullable=False, comment="debug_token says the token is valid"),
        sa.Column("app_id", sa.String(32), comment="the Meta app the token belongs to"),
        sa.Column("token_type", sa.String(32), comment="SYSTEM_USER | USER | PAGE | APP"),
        sa.Column("has_ads_read", sa.Boolean, nullable=False, comment="the token has ads_read (or ads_management)"),
        sa.Column("expires_at", sa.DateTime(timezone=True), comment="NULL: never expires"),
        sa.Column(
            "data_access_expires_at",
            sa.DateTime(timezone=True),
            comment="when data access ends unless the user uses the app again",
        ),
        sa.Column("accounts_readable", sa.Integer, nullable=False, comment="configured accounts this token can read"),
        sa.Column(
            "accounts_unreadable", sa.Integer, nullable=False, comment="configured accounts this token cannot read"
        ),
        sa.Column("problems", sa.Text, comment="what a person must fix, one per line; empty when healthy"),
        comment="Daily health check of every access token, by fingerprint (metaads)",
        schema=schema,
    )


REGISTRY_TABLE = "metaads_accounts"
ACTIVE = "active"
RETIRED = "retired"


def registry_table(metadata: sa.MetaData, *, schema: str | None = None) -> sa.Table:
    """``metaads_accounts``: one row per account table pair; the views cover the ``active`` ones."""
    return sa.Table(
        REGISTRY_TABLE,
        metadata,
        sa.Column(
            "table_name",
            sa.String(63),
            primary_key=True,
            comment="the account's ads table (its actions table adds _actions)",
        ),
        sa.Column("account_id", ID, comment="ad account id, digits only; NULL only for an adopted empty table"),
        sa.Column("label", NAME, comment="label from META_ACCOUNTS when last configured"),
        sa.Column(
            "first_seen",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="when the account was first registered (UTC)",
        ),
        sa.Column(
            "last_seen",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="last time a run or init-db had the account in META_ACCOUNTS (UTC)",
        ),
        sa.Column(
            "status",
            sa.String(16),
            nullable=False,
            comment="active (in the union views) | retired (metaads accounts retire)",
        ),
        sa.Column("retired_at", sa.DateTime(timezone=True), comment="when it was retired (UTC); NULL while active"),
        schema=schema,
        comment="Account registry: every account table pair the warehouse holds; the union views cover the "
        "active ones, whatever META_ACCOUNTS ran last",
    )
