"""``metaads demo``: the whole flow with zero configuration (simulator + embedded PostgreSQL + SQLite)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.table import Table

from metaads.cli.app import app, state
from metaads.cli.render import RichProgress, console, err_console, key_value_table, summary_table
from metaads.config.settings import DEFAULT_DATA_DIR, settings_from_mapping
from metaads.embedded_postgres import embedded_url, is_embedded_url
from metaads.embedded_postgres import status as embedded_status
from metaads.logs import configure_logging
from metaads.pipeline import Pipeline
from metaads.pipeline.engines import describe_url

DEMO_ACCOUNTS = 10
DEMO_TOKENS = 5

DEMO_DATABASE = "metaads_demo"

TRY_QUERY = (
    "SELECT account_name, date, ROUND(SUM(spend), 2) FROM {views}vw_graph_ads GROUP BY 1, 2 ORDER BY 2 DESC LIMIT 10"
)
EXAMPLE_QUERY = """SELECT account_name, currency, date, ROUND(SUM(spend), 2) AS spend, SUM(clicks) AS clicks,
SUM(impressions) AS impressions FROM {views}vw_graph_ads GROUP BY account_name, currency, date
ORDER BY date DESC, account_name LIMIT 10"""


@app.command("demo")
def demo(
    directory: Annotated[
        Path,
        typer.Option(
            "--dir",
            help="Data folder: the embedded PostgreSQL in DIR/postgres, the analytics file in DIR/demo.",
        ),
    ] = Path(DEFAULT_DATA_DIR),
    warehouse_url: Annotated[
        str | None,
        typer.Option(help="Warehouse instead of the embedded PostgreSQL (e.g. sqlite:///demo.db or a server)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Simulator seed (same seed, same data).")] = 42,
    ads_per_account: Annotated[int, typer.Option(min=1, help="Ads per demo account.")] = 40,
    lookback: Annotated[
        int,
        typer.Option(min=1, help="Days fetched (look-back, deep look-back and initial history of the demo accounts)."),
    ] = 15,
) -> None:
    """Start the Graph API simulator, run the pipeline for 10 demo accounts, sync, show the data.

    The warehouse is the embedded PostgreSQL (database metaads_demo, left running for queries;
    `metaads embedded stop` stops it); the analytics side is a SQLite file.
    """
    from metaads.simulator import Simulator, SimulatorConfig

    directory = directory.absolute()
    (directory / "demo").mkdir(parents=True, exist_ok=True)
    pgdata = directory / "postgres"
    warehouse = warehouse_url or embedded_url(pgdata, DEMO_DATABASE)
    analytics_db = directory / "demo" / "analytics.db"
    sim = Simulator(SimulatorConfig(seed=seed, n_accounts=DEMO_ACCOUNTS, ads_per_account=ads_per_account))
    tokens = list(sim.tokens)
    while len(tokens) < DEMO_TOKENS:
        tokens.append(sim.add_token())
    with sim.serve(host="127.0.0.1", port=0) as server:
        settings = settings_from_mapping(
            {
                "META_ACCOUNTS": sim.meta_accounts_env(),
                "GRAPH_API_TOKENS": ",".join(tokens[:DEMO_TOKENS]),
                "GRAPH_API_BASE_URL": server.base_url,
                "WAREHOUSE_URL": warehouse,
                "ANALYTICS_URL": f"sqlite:///{analytics_db}",
                "LOOKBACK_DAYS": str(lookback),
                "DEEP_LOOKBACK_DAYS": str(lookback),
                "INITIAL_HISTORY_DAYS": str(lookback),
            }
        )
        configure_logging(state.log_level or "WARNING", state.log_format or "text")
        console.print(
            f"[bold]metaads demo[/]: simulator at {server.base_url}, {DEMO_ACCOUNTS} accounts, "
            f"{DEMO_TOKENS} tokens, {lookback} days, warehouse {describe_url(warehouse)}"
        )
        with Pipeline.from_settings(settings) as pipeline:
            with RichProgress(settings.accounts, enabled=state.interactive) as progress:
                summary = pipeline.run(trigger="demo", listener=progress)
            console.print(summary_table(summary))
            sync_result = pipeline.sync()
            if sync_result is not None:
                console.print(key_value_table("sync to analytics", sync_result.summary()))
            views = _views_prefix(pipeline.warehouse_engine, settings.warehouse_schema)
            _show_example(pipeline.warehouse_engine, views)
            where = _where_is_the_warehouse(pipeline.warehouse_engine, warehouse, pgdata, views)
    console.print(
        key_value_table(
            "where the data is",
            {
                **where,
                "analytics (SQLite)": analytics_db,
            },
        )
    )
    if not summary.ok:
        err_console.print("[red]some demo accounts failed[/]")
        raise typer.Exit(1)


def _views_prefix(engine: sa.Engine, schema: str) -> str:
    """SQLite has no schemas; elsewhere the views live in WAREHOUSE_SCHEMA."""
    return "" if engine.dialect.name == "sqlite" else f"{schema}."


def _where_is_the_warehouse(engine: sa.Engine, warehouse: str, pgdata: Path, views: str) -> dict[str, object]:
    query = TRY_QUERY.format(views=views)
    if is_embedded_url(warehouse):
        server = embedded_status(pgdata)
        psql = server.psql_command(DEMO_DATABASE) if server else "(server not running)"
        return {
            "warehouse (embedded PostgreSQL, left running)": f"{pgdata}, database {DEMO_DATABASE}",
            "try": f"{psql} -c {query!r}",
            "stop the server": f"metaads embedded stop --pgdata {pgdata}",
        }
    if engine.dialect.name == "sqlite":
        return {"warehouse (SQLite)": engine.url.database, "try": f"sqlite3 {engine.url.database} {query!r}"}
    return {"warehouse": describe_url(warehouse), "try": query}


def _show_example(engine: sa.Engine, views: str) -> None:
    with engine.connect() as conn:
        result = conn.execute(sa.text(EXAMPLE_QUERY.format(views=views)))
        table = Table(title="example query: spend per account and day (warehouse view vw_graph_ads)")
        for column in result.keys():
            table.add_column(column)
        for row in result:
            table.add_row(*(str(v) for v in row))
    console.print(table)
