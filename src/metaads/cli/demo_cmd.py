"""``metaads demo``: the whole flow with zero configuration (simulator + local SQLite files)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.table import Table

from metaads.cli.app import app, state
from metaads.cli.render import RichProgress, console, err_console, key_value_table, summary_table
from metaads.config.settings import settings_from_mapping
from metaads.logs import configure_logging
from metaads.pipeline import Pipeline

DEMO_ACCOUNTS = 10
DEMO_TOKENS = 5

TRY_QUERY = "SELECT account_name, date, ROUND(SUM(spend), 2) FROM vw_graph_ads GROUP BY 1, 2 ORDER BY 2 DESC LIMIT 10"
EXAMPLE_QUERY = """SELECT account_name, currency, date, ROUND(SUM(spend), 2) AS spend, SUM(clicks) AS clicks,
SUM(impressions) AS impressions FROM vw_graph_ads GROUP BY account_name, currency, date
ORDER BY date DESC, account_name LIMIT 10"""


@app.command("demo")
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where the SQLite files go.")] = Path("metaads-data/demo"),
    seed: Annotated[int, typer.Option(help="Simulator seed (same seed, same data).")] = 42,
    ads_per_account: Annotated[int, typer.Option(min=1, help="Ads per demo account.")] = 40,
    lookback: Annotated[int, typer.Option(min=1, help="Days fetched (look-back, deep look-back and initial "
                                          "history of the demo accounts).")] = 15,
) -> None:
    """Start the Graph API simulator, run the pipeline for 10 demo accounts, sync, show the data."""
    from metaads.simulator import Simulator, SimulatorConfig

    directory.mkdir(parents=True, exist_ok=True)
    warehouse_db = (directory / "warehouse.db").resolve()
    analytics_db = (directory / "analytics.db").resolve()
    sim = Simulator(SimulatorConfig(seed=seed, n_accounts=DEMO_ACCOUNTS, ads_per_account=ads_per_account))
    tokens = list(sim.tokens)
    while len(tokens) < DEMO_TOKENS:
        tokens.append(sim.add_token())
    with sim.serve(host="127.0.0.1", port=0) as server:
        settings = settings_from_mapping({
            "META_ACCOUNTS": sim.meta_accounts_env(),
            "GRAPH_API_TOKENS": ",".join(tokens[:DEMO_TOKENS]),
            "GRAPH_API_BASE_URL": server.base_url,
            "WAREHOUSE_URL": f"sqlite:///{warehouse_db}",
            "ANALYTICS_URL": f"sqlite:///{analytics_db}",
            "LOOKBACK_DAYS": str(lookback),
            "DEEP_LOOKBACK_DAYS": str(lookback),
            "INITIAL_HISTORY_DAYS": str(lookback),
        })
        configure_logging(state.log_level or "WARNING", state.log_format or "text")
        console.print(f"[bold]metaads demo[/]: simulator at {server.base_url}, {DEMO_ACCOUNTS} accounts, "
                      f"{DEMO_TOKENS} tokens, {lookback} days")
        with Pipeline.from_settings(settings) as pipeline:
            with RichProgress(settings.accounts, enabled=state.interactive) as progress:
                summary = pipeline.run(trigger="demo", listener=progress)
            console.print(summary_table(summary))
            sync_result = pipeline.sync()
            if sync_result is not None:
                console.print(key_value_table("sync to analytics", sync_result.summary()))
            _show_example(pipeline.warehouse_engine)
    console.print(key_value_table("where the data is", {
        "warehouse (SQLite)": warehouse_db,
        "analytics (SQLite)": analytics_db,
        "try": f"sqlite3 {warehouse_db} {TRY_QUERY!r}",
    }))
    if not summary.ok:
        err_console.print("[red]some demo accounts failed[/]")
        raise typer.Exit(1)


def _show_example(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        result = conn.execute(sa.text(EXAMPLE_QUERY))
        table = Table(title="example query: spend per account and day (warehouse view vw_graph_ads)")
        for column in result.keys():
            table.add_column(column)
        for row in result:
            table.add_row(*(str(v) for v in row))
    console.print(table)
