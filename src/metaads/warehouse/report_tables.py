"""Tables of the extra reports (``INSIGHTS_REPORTS``): per account ``<table>__<report>`` and its ``_lists``.

Built from the report's :class:`~metaads.transform.report_spec.ReportLayout` (the transform's row
contract) with SQL types from the catalogue's storage kinds; the analytics sync builds its targets
from the same factories, so the account tables, the union views and the targets agree.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from metaads.transform.report_spec import Column, ReportLayout

# Rates and ratios carry more decimals than money: exact, wide, and within SQL Server's 38 digits.
DECIMAL = sa.Numeric(38, 12)
_TYPES: dict[str, Any] = {
    "key": sa.String(32),
    "id": sa.String(64),
    "date": sa.Date,
    "timestamp": sa.DateTime(timezone=True),
    "breakdown": sa.Unicode(256),
    "name": sa.String(128),
    "action_type": sa.String(128),
    "text": sa.UnicodeText,
    "json": sa.UnicodeText,
    "integer": sa.BigInteger,
    "decimal": DECIMAL,
}


def _column(column: Column) -> sa.Column[Any]:
    return sa.Column(
        column.name,
        _TYPES[column.kind],
        primary_key=column.name == "unique_id",
        nullable=column.nullable,
        comment=column.description,
    )


def report_columns(layout: ReportLayout) -> list[sa.Column[Any]]:
    """Fresh main-table columns (a Column belongs to one Table)."""
    return [_column(c) for c in layout.columns]


def report_list_columns(layout: ReportLayout) -> list[sa.Column[Any]]:
    """Fresh lists-table columns."""
    return [_column(c) for c in layout.list_columns]


def index_name(table: str, suffix: str) -> str:
    """``ix_<table>_<suffix>``, shortened with a hash when it would pass 63 characters."""
    name = f"ix_{table}_{suffix}"
    if len(name) <= 63:
        return name
    digest = hashlib.md5(table.encode(), usedforsecurity=False).hexdigest()[:10]
    return f"ix_{table[: 63 - 5 - len(suffix) - 10]}_{digest}_{suffix}"


def report_tables(
    metadata: sa.MetaData, layout: ReportLayout, account_table: str, *, schema: str | None = None
) -> tuple[sa.Table, sa.Table]:
    """One account's (report, lists) tables."""
    spec = layout.spec
    main_name, lists_name = spec.table(account_table), spec.lists_table(account_table)
    main = sa.Table(
        main_name,
        metadata,
        *report_columns(layout),
        sa.Index(index_name(main_name, "account_date"), "account_id", "date"),
        comment=layout.table_comment,
        schema=schema,
    )
    lists = sa.Table(
        lists_name,
        metadata,
        *report_list_columns(layout),
        sa.Index(index_name(lists_name, "account_date"), "account_id", "date"),
        sa.Index(index_name(lists_name, "parent"), "parent_id"),
        comment=layout.lists_comment,
        schema=schema,
    )
    return main, lists
