"""Tables of the extra reports (``INSIGHTS_REPORTS``): per account ``<table>__<report>`` and its ``_lists``.

Built from the report's :class:`~metaads.transform.report_spec.ReportLayout` (the transform's row
contract) with SQL types from the catalogue's storage kinds; the analytics sync builds its targets
from the same factories, so the account tables, the union views and the targets agree.

A report whose configuration changed is compared with its existing tables by :func:`plan_table`:
columns of newly requested fields are added (nullable), columns of fields no longer requested are kept
(nullable, never dropped: loads name the layout's columns only, so new rows leave them NULL), and a
changed key (breakdowns, action breakdowns, level, ``time_increment``) or column type is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from metaads.errors import ConfigError
from metaads.transform.report_spec import (
    REPORT_VARIABLE,
    Column,
    ReportLayout,
    is_breakdown_column,
    retained_column,
)

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


def column_type(column: Column) -> Any:
    """The SQL type of a report column's storage kind."""
    return _TYPES[column.kind]


def _column(column: Column) -> sa.Column[Any]:
    return sa.Column(
        column.name,
        _TYPES[column.kind],
        primary_key=column.name == "unique_id",
        nullable=column.nullable,
        comment=column.description,
    )


def report_columns(layout: ReportLayout, retained: Sequence[str] = ()) -> list[sa.Column[Any]]:
    """Fresh main-table columns (a Column belongs to one Table), then the ``retained`` ones (see
    :func:`~metaads.transform.report_spec.retained_column`; names that are not retained fields are ignored)."""
    return [_column(c) for c in (*layout.columns, *_retained(retained, lists=False))]


def report_list_columns(layout: ReportLayout, retained: Sequence[str] = ()) -> list[sa.Column[Any]]:
    """Fresh lists-table columns, then the ``retained`` ones."""
    return [_column(c) for c in (*layout.list_columns, *_retained(retained, lists=True))]


def _retained(names: Sequence[str], *, lists: bool) -> list[Column]:
    return [c for c in (retained_column(name, lists=lists) for name in names) if c is not None]


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


# --------------------------------------------------------------------------- evolving existing tables


@dataclass(frozen=True)
class TablePlan:
    """How an existing report table meets its report's configured layout."""

    table: str
    #: Layout columns the table lacks: added nullable (rows already there were not fetched with them).
    add: tuple[sa.Column[Any], ...] = ()
    #: Columns of fields the report no longer requests: kept (nullable), in the views, never loaded again.
    kept: tuple[str, ...] = ()


def _family(kind: Any) -> tuple[object, ...]:
    """What must not change in a column's type: its family, and a numeric's precision and scale."""
    if isinstance(kind, sa.DateTime):
        return ("timestamp",)
    if isinstance(kind, sa.Date):
        return ("date",)
    if isinstance(kind, sa.Integer):
        return ("integer",)
    if isinstance(kind, sa.Float):
        return ("float",)
    if isinstance(kind, sa.Numeric):
        return ("numeric", kind.precision, kind.scale)
    if isinstance(kind, sa.String):
        return ("text",)
    return (type(kind).__name__.lower(),)


def _type_changed(have: Any, want: Any) -> bool:
    if _family(have) != _family(want):
        return True
    # Text may be wider than the layout asks (a hand-widened column), never narrower.
    have_length = getattr(have, "length", None)
    want_length = getattr(want, "length", None)
    return have_length is not None and (want_length is None or have_length < want_length)


def _key_problem(layout: ReportLayout, table: str, lists: bool, reasons: list[str]) -> ConfigError:
    spec = layout.spec
    main, lists_table = table.removesuffix("_lists") if lists else table, table if lists else f"{table}_lists"
    return ConfigError(
        f"report {spec.name!r}: its key changed since table {table} was created ({'; '.join(reasons)}). "
        "Rows are keyed (unique_id) by account, object, day and breakdown values, so the table cannot be "
        f"evolved in place: give the report a new name (new tables), or drop its tables ({main}, "
        f"{lists_table}, and those of the other accounts) and let the next run re-create them",
        variable=REPORT_VARIABLE,
    )


def plan_table(
    table: sa.Table, existing: Sequence[Mapping[str, Any]], layout: ReportLayout, *, lists: bool
) -> TablePlan:
    """Compare an existing report table (``existing``: its reflected columns) with ``table``, its layout.

    Raises:
        ConfigError: naming ``INSIGHTS_REPORTS`` and the report: the table's key columns differ from the
            layout's (breakdowns, action breakdowns, level, ``time_increment`` changed), or a column's
            type would change.
    """
    have = {str(c["name"]): c for c in existing}
    wanted = {c.name: c for c in (layout.list_columns if lists else layout.columns)}
    reasons: list[str] = []
    add: list[sa.Column[Any]] = []
    for name, spec_column in wanted.items():
        found = have.get(name)
        if found is None:
            if spec_column.kind == "breakdown":
                reasons.append(f"{'action ' if lists else ''}breakdown {name} is new")
            elif not spec_column.nullable and name != "loaded_at":
                reasons.append(f"key column {name} is new")
            else:
                add.append(table.c[name])
            continue
        if _type_changed(found["type"], table.c[name].type):
            raise ConfigError(
                f"report {layout.spec.name!r}: column {name} of table {table.name} is "
                f"{found['type']}, the report's layout needs {table.c[name].type}; metaads does not change "
                "column types: give the report a new name, or drop its tables and let the next run re-create them",
                variable=REPORT_VARIABLE,
            )
    kept: list[str] = []
    for name, found in have.items():
        if name in wanted:
            continue
        if is_breakdown_column(name, lists=lists):
            reasons.append(f"{'action ' if lists else ''}breakdown {name} was removed")
        elif not found.get("nullable", True) and found.get("default") is None:
            # A NOT NULL column loads could not fill: the key of another level or time_increment.
            reasons.append(f"key column {name} is no longer part of the report")
        elif retained_column(name, lists=lists) is not None:
            kept.append(name)
    if reasons:
        raise _key_problem(layout, table.name, lists, reasons)
    return TablePlan(table.name, tuple(add), tuple(kept))
