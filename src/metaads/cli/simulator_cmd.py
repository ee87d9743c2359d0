"""``metaads simulator serve``: run the Graph API simulator and print the ``.env`` lines pointing at it."""

from __future__ import annotations

import sys

import typer

from metaads.cli.app import app
from metaads.simulator import Faults, Simulator, SimulatorConfig

simulator_app = typer.Typer(help="The Graph API simulator.", no_args_is_help=True)
app.add_typer(simulator_app, name="simulator")


@simulator_app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8765, help="Port to listen on (0 = any free port)."),
    seed: int = typer.Option(1, help="Seed of the synthetic world."),
    accounts: int = typer.Option(10, help="Number of ad accounts."),
    ads_per_account: int = typer.Option(60, help="Ads per ad account."),
    tier: str = typer.Option("standard", help="Access tier for quotas: standard or development."),
    quota_scale: float = typer.Option(1.0, help="Multiply every rate-limit quota (small = throttle early)."),
    latency_ms: float = typer.Option(0.0, help="Latency added to every response, in milliseconds."),
    error_rate: float = typer.Option(0.0, help="Share of calls failing with HTTP 500 / code 1."),
    code2_rate: float = typer.Option(0.0, help="Share of calls failing with code 2 (service unavailable)."),
    slow_rate: float = typer.Option(0.0, help="Share of responses delayed by --slow-ms more."),
    slow_ms: float = typer.Option(0.0, help="Extra delay of slow responses, in milliseconds."),
    async_fail_rate: float = typer.Option(0.0, help="Share of async report runs ending 'Job Failed'."),
    async_skip_rate: float = typer.Option(0.0, help="Share of async report runs ending 'Job Skipped'."),
    empty_page_rate: float = typer.Option(0.0, help="Share of pages returned empty but with 'next'."),
    max_rows: int | None = typer.Option(
        None, help="A limit above this gets code 1 'reduce the amount of data'."
    ),
    app_secret: str | None = typer.Option(None, help="App secret: appsecret_proof is then checked."),
) -> None:
    """Serve a simulated Graph API until Ctrl-C; prints the .env lines to use it."""
    if tier not in ("standard", "development"):
        raise typer.BadParameter("must be 'standard' or 'development'", param_hint="--tier")
    faults = Faults(
        latency_s=latency_ms / 1000.0,
        error_500_rate=error_rate,
        transient_code2_rate=code2_rate,
        slow_rate=slow_rate,
        slow_s=slow_ms / 1000.0,
        async_fail_rate=async_fail_rate,
        async_skip_rate=async_skip_rate,
        empty_page_rate=empty_page_rate,
        max_rows_per_response=max_rows,
    )
    config = SimulatorConfig(
        seed=seed,
        n_accounts=accounts,
        ads_per_account=ads_per_account,
        tier="development" if tier == "development" else "standard",
        quota_scale=quota_scale,
        app_secret=app_secret,
        faults=faults,
    )
    sim = Simulator(config)
    server = sim.serve(host=host, port=port)
    typer.echo("# Graph API simulator: paste these lines into .env")
    typer.echo(f"GRAPH_API_BASE_URL={server.base_url}")
    typer.echo(f"META_ACCOUNTS={sim.meta_accounts_env()}")
    typer.echo(f"GRAPH_API_TOKENS={','.join(sim.tokens)}")
    if app_secret:
        typer.echo(f"GRAPH_API_APP_SECRET={app_secret}")
    sys.stdout.flush()
    typer.echo(f"# serving {len(sim.account_ids)} accounts on {server.base_url} (Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("# stopped", err=True)
    finally:
        server.stop()
