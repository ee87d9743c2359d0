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

# Money and action values: exact decimals, wide enough for any currency and Meta's fractional values.
MONEY = sa.Numeric(20, 6)
NAME = sa.Unicode(512)
ID = sa.String(32)


def _ads_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("unique_id", sa.String(32), primary_key=True, comment="MD5 of account_id|ad_id|date"),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("account_name", NAME),
        sa.Column("campaign_id", ID),
        sa.Column("campaign_name", NAME),
        sa.Column("campaign_status", sa.String(32)),
        sa.Column("adset_id", ID),
        sa.Column("adset_name", NAME),
        sa.Column("ad_id", ID, nullable=False),
        sa.Column("ad_name", NAME),
        sa.Column("objective", sa.String(64)),
        sa.Column("spend", MONEY, nullable=False),
        sa.Column("clicks", sa.BigInteger, nullable=False),
        sa.Column("inline_link_clicks", sa.BigInteger, nullable=False),
        sa.Column("impressions", sa.BigInteger, nullable=False),
        sa.Column("reach", sa.BigInteger,
                  comment="NULL when the API did not send it (reach cannot be 0-filled)"),
        sa.Column("currency", sa.String(3)),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _actions_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("unique_id", sa.String(32), primary_key=True,
                  comment="MD5 of account_id|ad_id|date|action_type"),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("ad_id", ID, nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("action_type", sa.String(128), nullable=False),
        sa.Column("value", MONEY, nullable=False),
        sa.Column("action_value", MONEY, comment="action_values for the same type, e.g. purchase value"),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
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
        name, metadata, *_ads_columns(),
        sa.Index(f"ix_{name}_account_date", "account_id", "date"),
        sa.Index(f"ix_{name}_campaign", "campaign_id"),
        sa.Index(f"ix_{name}_ad", "ad_id"),
        schema=schema,
    )


def actions_table(metadata: sa.MetaData, name: str, *, schema: str | None = None) -> sa.Table:
    """The actions table of one account (one row per action type per ad-day)."""
    return sa.Table(
        name, metadata, *_actions_columns(),
        sa.Index(f"ix_{name}_account_date", "account_id", "date"),
        sa.Index(f"ix_{name}_ad_action", "ad_id", "action_type"),
        schema=schema,
    )


def ledger_tables(metadata: sa.MetaData, *, schema: str | None = None) -> tuple[sa.Table, sa.Table, sa.Table]:
    """``metaads_runs``, ``metaads_account_runs`` and ``metaads_syncs``."""
    runs = sa.Table(
        "metaads_runs", metadata,
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False, comment="running | success | partial | failed"),
        sa.Column("trigger", sa.String(32), comment="cli | airflow | demo | bench"),
        sa.Column("accounts", sa.Integer),
        sa.Column("accounts_failed", sa.Integer),
        schema=schema,
    )
    account_runs = sa.Table(
        "metaads_account_runs", metadata,
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("run_id", sa.String(36), nullable=False, index=True),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("table_name", sa.String(63), nullable=False),
        sa.Column("since", sa.Date, nullable=False),
        sa.Column("until", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, comment="loaded | failed | skipped"),
        sa.Column("ads_rows", sa.BigInteger, nullable=False, default=0),
        sa.Column("actions_rows", sa.BigInteger, nullable=False, default=0),
        sa.Column("api_calls", sa.Integer, nullable=False, default=0),
        sa.Column("throttled_s", sa.Float, nullable=False, default=0.0),
        sa.Column("duration_s", sa.Float, nullable=False, default=0.0),
        sa.Column("error", sa.Text, comment="never contains secrets"),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )
    syncs = sa.Table(
        "metaads_syncs", metadata,
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False, comment="running | success | failed"),
        sa.Column("mode", sa.String(16), nullable=False, comment="incremental | full"),
        sa.Column("target", sa.String(200), comment="analytics URL without password"),
        sa.Column("watermark", sa.Integer,
                  comment="highest metaads_account_runs.id covered by this sync"),
        sa.Column("ads_rows", sa.BigInteger),
        sa.Column("actions_rows", sa.BigInteger),
        sa.Column("duration_s", sa.Float),
        sa.Column("error", sa.Text),
        schema=schema,
    )
    return runs, account_runs, syncs


def throttle_table(metadata: sa.MetaData, schema: str | None = None) -> sa.Table:
    """``metaads_throttle``: one row per quota key (rate-limit state shared by every worker)."""
    return sa.Table(
        THROTTLE_TABLE, metadata,
        sa.Column("key", sa.String(200), primary_key=True,
                  comment="app:<token fingerprint> or account:<token fingerprint>:<account id>"),
        sa.Column("not_before", sa.DateTime(timezone=True), comment="no call on this quota before (UTC)"),
        sa.Column("reason", sa.String(THROTTLE_REASON_CHARS)),
        sa.Column("usage_pct", sa.Float, comment="last usage percentage the API reported"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )


REGISTRY_TABLE = "metaads_accounts"
ACTIVE = "active"
RETIRED = "retired"


def registry_table(metadata: sa.MetaData, *, schema: str | None = None) -> sa.Table:
    """``metaads_accounts``: one row per account table pair; the views cover the ``active`` ones."""
    return sa.Table(
        REGISTRY_TABLE, metadata,
        sa.Column("table_name", sa.String(63), primary_key=True),
        sa.Column("account_id", ID, comment="NULL only for an adopted table that holds no rows"),
        sa.Column("label", NAME),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False,
                  comment="last time a run or init had the account in META_ACCOUNTS"),
        sa.Column("status", sa.String(16), nullable=False, comment="active | retired"),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
        schema=schema,
    )
