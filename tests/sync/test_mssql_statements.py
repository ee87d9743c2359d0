"""Every statement the SQL Server path issues, compiled by SQLAlchemy's mssql dialects and parsed as T-SQL.

No SQL Server runs here (see test_mssql_live.py for the real one): the statements come from the same
functions the sync calls, compiled for ``mssql+pyodbc`` (qmark) and ``mssql+pymssql`` (pyformat)
against a SQL Server 2019 dialect, then parsed by sqlglot's T-SQL grammar and checked for SQL Server's
limits (2,100 parameters and 1,000 VALUES rows per statement).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
import sqlglot
from sqlalchemy.dialects.mssql import pymssql as mssql_pymssql
from sqlalchemy.dialects.mssql import pyodbc as mssql_pyodbc
from sqlglot import exp

from metaads.sync import Slice, analytics_tables
from metaads.sync.plan import END_OF_TIME, accounts_in
from metaads.sync.targets import COLUMNS_SQL, SCHEMA_EXISTS_SQL, TargetPair, add_column_sql
from metaads.sync.transfer import CLUSTERED, delete_slice, source_select
from metaads.sync.writers import (
    EXECUTEMANY,
    MULTIVALUES,
    choose_method,
    insert_sql,
    multivalues_statement,
    rows_per_statement,
    write_multivalues,
)

SQL_SERVER_MAX_PARAMETERS = 2100
SQL_SERVER_MAX_VALUES_ROWS = 1000
SQL_SERVER_2019 = (15, 0, 2000)


def mssql(driver: str) -> sa.Dialect:
    """A SQL Server 2019 dialect as a live pyodbc/pymssql connection would configure it."""
    dialect: sa.Dialect = (
        mssql_pyodbc.dialect(paramstyle="qmark") if driver == "pyodbc" else mssql_pymssql.dialect(paramstyle="pyformat")
    )
    dialect.server_version_info = SQL_SERVER_2019
    dialect._setup_version_attributes()  # type: ignore[attr-defined]  # what initialize() does on connect
    return dialect


DRIVERS = ["pyodbc", "pymssql"]


@pytest.fixture
def pairs() -> tuple[TargetPair, TargetPair]:
    return analytics_tables(sa.MetaData(), schema="graph")


def tsql(statement: str) -> exp.Expression:
    """Parse as T-SQL (pyformat parameters become @variables, as pymssql substitutes them)."""
    parsed = sqlglot.parse_one(re.sub(r"%\((\w+)\)s", r"@\1", statement), read="tsql")
    assert parsed is not None
    return parsed


def parameters(statement: str) -> int:
    return statement.count("?") + len(re.findall(r"%\(\w+\)s", statement))


def compiled(element: Any, dialect: sa.Dialect) -> str:
    return str(element.compile(dialect=dialect))


def ddl_statements(table: sa.Table, dialect: sa.Dialect) -> list[str]:
    """What ``table.create(conn)`` (the sync's creation step) emits, in order."""
    captured: list[str] = []
    engine = sa.create_mock_engine("mssql+pyodbc://", lambda sql, *a, **k: captured.append(compiled(sql, dialect)))
    table.create(engine, checkfirst=False)
    return captured


@pytest.mark.parametrize("driver", DRIVERS)
def test_target_tables_use_sql_server_types_and_parse_as_tsql(
    pairs: tuple[TargetPair, TargetPair], driver: str
) -> None:
    dialect = mssql(driver)
    ads_ddl = ddl_statements(pairs[0].table, dialect)
    actions_ddl = ddl_statements(pairs[1].table, dialect)

    assert [type(tsql(s)) for s in ads_ddl + actions_ddl] == [exp.Create] * 2  # the key is the only index
    create_ads = ads_ddl[0]
    for declaration in (
        "account_name NVARCHAR(512) NULL",
        "ad_name NVARCHAR(512) NULL",
        "spend DECIMAL(20, 6) NOT NULL",
        "clicks BIGINT NOT NULL",
        "date DATE NOT NULL",
        "loaded_at DATETIME2 NOT NULL",
        "unique_id VARCHAR(32) NOT NULL",
        "CONSTRAINT pk_graph_ads PRIMARY KEY CLUSTERED (account_id, date, unique_id)",
    ):
        assert declaration in create_ads
    assert "action_value DECIMAL(20, 6) NULL" in actions_ddl[0]
    assert "PRIMARY KEY CLUSTERED (account_id, date, unique_id)" in actions_ddl[0]
    table = tsql(create_ads).find(exp.Table)
    assert table is not None
    assert (table.db, table.name) == ("graph", "graph_ads")


@pytest.mark.parametrize("driver", DRIVERS)
def test_schema_creation_and_catalog_queries_are_tsql(driver: str) -> None:
    dialect = mssql(driver)
    create_schema = compiled(sa.schema.CreateSchema("graph"), dialect)
    schema_exists = compiled(SCHEMA_EXISTS_SQL, dialect)
    columns = compiled(COLUMNS_SQL, dialect)

    assert create_schema == "CREATE SCHEMA graph"  # T-SQL has no IF NOT EXISTS here: we check first
    assert isinstance(tsql(create_schema), exp.Create)
    for statement, bound in ((schema_exists, 1), (columns, 2)):
        parsed = tsql(statement)
        assert isinstance(parsed, exp.Select)
        assert {t.name.upper() for t in parsed.find_all(exp.Table)} <= {"SCHEMATA", "COLUMNS"}
        assert parameters(statement) == bound


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize(
    "item",
    [Slice("1111111111", date(2026, 11, 1), date(2026, 11, 15)), Slice("1111111111", date(2026, 8, 23), END_OF_TIME)],
    ids=["bounded", "open-ended"],
)
def test_slice_deletes_and_pruning_are_tsql(pairs: tuple[TargetPair, TargetPair], driver: str, item: Slice) -> None:
    dialect = mssql(driver)
    for pair in pairs:
        delete = compiled(delete_slice(pair.table, item), dialect)
        prune = compiled(sa.delete(pair.table).where(pair.table.c.date < date(2026, 8, 23)), dialect)

        for statement in (delete, prune):
            parsed = tsql(statement)
            assert isinstance(parsed, exp.Delete)
            assert parsed.find(exp.Table).name == pair.table.name  # type: ignore[union-attr]
        assert parameters(delete) == (3 if item.until != END_OF_TIME else 2)
        assert parameters(prune) == 1


@pytest.mark.parametrize("driver", DRIVERS)
def test_adding_a_column_with_evolve_is_tsql(pairs: tuple[TargetPair, TargetPair], driver: str) -> None:
    dialect = mssql(driver)
    statements = [
        add_column_sql(dialect, pairs[0].table, pairs[0].table.c.reach),
        add_column_sql(dialect, pairs[0].table, pairs[0].table.c.loaded_at),
        add_column_sql(dialect, pairs[1].table, pairs[1].table.c.action_value),
    ]

    assert statements == [
        "ALTER TABLE graph.graph_ads ADD reach BIGINT NULL",
        "ALTER TABLE graph.graph_ads ADD loaded_at DATETIME2 NULL",
        "ALTER TABLE graph.graph_ads_actions ADD action_value DECIMAL(20, 6) NULL",
    ]
    assert all(isinstance(tsql(s), exp.Alter) for s in statements)


def test_pyodbc_inserts_one_row_per_statement_with_parameter_arrays(pairs: tuple[TargetPair, TargetPair]) -> None:
    """fast_executemany binds arrays of rows to a one-row INSERT: its parameters are the columns."""
    dialect = mssql("pyodbc")
    for pair in pairs:
        statement = insert_sql(dialect, pair.table)
        parsed = tsql(statement)

        assert isinstance(parsed, exp.Insert)
        assert parameters(statement) == len(pair.table.columns) <= SQL_SERVER_MAX_PARAMETERS
        assert [c.name for c in parsed.this.expressions] == list(pair.table.columns.keys())


@pytest.mark.parametrize("driver", DRIVERS)
def test_multirow_inserts_stay_within_sql_server_limits(pairs: tuple[TargetPair, TargetPair], driver: str) -> None:
    dialect = mssql(driver)
    for pair in pairs:
        width = len(pair.table.columns)
        rows = rows_per_statement(dialect, width)
        statement, names = multivalues_statement(dialect, pair.table, rows)
        parsed = tsql(statement)

        assert rows == min(SQL_SERVER_MAX_VALUES_ROWS, (SQL_SERVER_MAX_PARAMETERS - 1) // width)
        assert parameters(statement) == len(names) == rows * width <= SQL_SERVER_MAX_PARAMETERS
        assert isinstance(parsed, exp.Insert)
        values = parsed.find(exp.Values)
        assert values is not None
        assert len(values.expressions) == rows
        assert rows_per_statement(dialect, width) * width + width > SQL_SERVER_MAX_PARAMETERS - 1


class RecordingConnection:
    """Stands in for a SQL Server connection (none can run here): records what would be sent."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self.dialect = dialect
        self.sent: list[tuple[str, Any]] = []

    def exec_driver_sql(self, statement: str, parameters: Any) -> None:
        self.sent.append((statement, parameters))


def test_a_batch_for_pymssql_is_split_into_statements_under_2100_parameters(
    pairs: tuple[TargetPair, TargetPair],
) -> None:
    dialect = mssql("pymssql")
    table = pairs[0].table
    row = (
        "0" * 32,
        "1111111111",
        "Café ☕",
        None,
        None,
        None,
        None,
        None,
        "2",
        "Ad",
        None,
        Decimal("1.5"),
        1,
        1,
        1,
        None,
        "EUR",
        date(2026, 11, 1),
        None,
    )
    conn = RecordingConnection(dialect)

    written = write_multivalues(conn, table, [[row] * 5000])

    assert written == 5000
    assert sum(len(params) // len(row) for _, params in conn.sent) == 5000
    for statement, params in conn.sent:
        assert len(params) <= SQL_SERVER_MAX_PARAMETERS
        assert parameters(statement) == len(params)
    assert {type(tsql(statement)) for statement in {s for s, _ in conn.sent}} == {exp.Insert}


@pytest.mark.parametrize("driver", DRIVERS)
def test_reading_target_accounts_for_a_full_sync_is_tsql(pairs: tuple[TargetPair, TargetPair], driver: str) -> None:
    dialect = mssql(driver)
    captured: list[str] = []

    class Capture:
        def execute(self, statement: Any) -> list[Any]:
            captured.append(compiled(statement, dialect))
            return []

    accounts_in(Capture(), pairs[0].table, date(2026, 8, 23))

    parsed = tsql(captured[0])
    assert isinstance(parsed, exp.Select)
    assert parsed.args.get("distinct") is not None
    assert parameters(captured[0]) == 1


@pytest.mark.parametrize(("driver", "method"), [("pyodbc", EXECUTEMANY), ("pymssql", MULTIVALUES)])
def test_sql_server_gets_its_fast_path_and_rows_in_clustered_key_order(
    pairs: tuple[TargetPair, TargetPair], driver: str, method: str
) -> None:
    class Target:
        dialect = mssql(driver)

    source = sa.create_engine("sqlite://").dialect
    select = source_select(
        pairs[0], None, Slice("1", date(2026, 11, 1), END_OF_TIME), source=source, target=Target.dialect
    )

    assert choose_method(source, Target()) == method
    assert "mssql" in CLUSTERED
    assert [c.name for c in select._order_by_clauses] == ["account_id", "date", "unique_id"]
