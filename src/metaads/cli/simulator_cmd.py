"""``metaads simulator serve``: run the Graph API simulator and print the ``.env`` lines pointing at it."""

from __future__ import annotations

import sys
from typing import Annotated

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
    max_rows: int | None = typer.Option(None, help="A limit above this gets code 1 'reduce the amount of data'."),
    app_secret: str | None = typer.Option(None, help="App secret: appsecret_proof is then checked."),
    missing_rows_rate: float = typer.Option(
        0.0, help="Share of ad-day rows silently missing below account level (account totals stay complete)."
    ),
    empty_answer_rate: float = typer.Option(0.0, help="Share of insights requests answered with no rows."),
    empty_answer_account: Annotated[
        list[str] | None,
        typer.Option(help="An account whose insights answers are always empty: position (1 = bm_01) or act_<id>."),
    ] = None,
    new_account: Annotated[
        list[str] | None,
        typer.Option(help="POSITION:DAYS (or act_<id>:DAYS): that account was created DAYS ago, no insights before."),
    ] = None,
    restatement_days: int = typer.Option(28, help="Recent days whose figures change as the clock moves."),
    restatement_scale: float = typer.Option(1.0, help="Size of restatement changes (0 = figures never change)."),
    status_change_rate: float = typer.Option(
        0.05, help="Share of live campaigns, ad sets and ads paused, archived or deleted after the start (0 = none)."
    ),
    status_change_days: int = typer.Option(120, help="Days after the start within which those changes happen."),
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
        missing_rows_rate=missing_rows_rate,
        empty_answer_rate=empty_answer_rate,
    )
    config = SimulatorConfig(
        seed=seed,
        n_accounts=accounts,
        ads_per_account=ads_per_account,
        tier="development" if tier == "development" else "standard",
        quota_scale=quota_scale,
        app_secret=app_secret,
        restatement_days=restatement_days,
        restatement_scale=restatement_scale,
        status_change_rate=status_change_rate,
        status_change_days=status_change_days,
        faults=faults,
    )
    sim = Simulator(config)
    apply_account_faults(sim, empty_answer_account or [], new_account or [])
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


def apply_account_faults(sim: Simulator, empty_answer_accounts: list[str], new_accounts: list[str]) -> None:
    """``--empty-answer-account`` and ``--new-account`` values into ``sim.faults`` (accounts by position or id)."""
    for selector in empty_answer_accounts:
        sim.faults.empty_answer_accounts.add(_account_id(sim, selector, "--empty-answer-account"))
    for entry in new_accounts:
        selector, _, days = entry.rpartition(":")
        if not selector or not days.isdigit():
            raise typer.BadParameter(f"{entry!r}: expected POSITION:DAYS or act_<id>:DAYS", param_hint="--new-account")
        sim.faults.account_created_days_ago[_account_id(sim, selector, "--new-account")] = int(days)


def _account_id(sim: Simulator, selector: str, hint: str) -> str:
    """An account of the world by position (``3`` = bm_03, as ``META_ACCOUNTS`` numbers them) or by id."""
    ids = sim.account_ids
    text = selector.strip().removeprefix("act_")
    if text in ids:
        return text
    if text.isdigit() and 1 <= int(text) <= len(ids):
        return ids[int(text) - 1]
    raise typer.BadParameter(f"{selector!r} is neither a position 1-{len(ids)} nor an account id", param_hint=hint)
