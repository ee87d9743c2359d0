"""The `metaads` command as a user runs it: a real process, real HTTP to the simulator, real databases."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from metaads.cli.demo_cmd import DEMO_DATABASE
from metaads.embedded_postgres import status as embedded_status
from metaads.embedded_postgres import stop as embedded_stop
from tests.integration.conftest import World

ROOT = Path(__file__).resolve().parents[2]


def metaads(*args: str, env: dict[str, str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    # A clean environment: only what the test sets (plus what Python needs), no developer .env.
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"}}
    return subprocess.run(
        [sys.executable, "-m", "metaads", *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_config_check_shows_accounts_groups_and_only_token_tails(live_world: World, tmp_path: Path) -> None:
    env = {**live_world.base_env, "ACCOUNT_GROUP_SIZE": "2"}
    done = metaads("config", "check", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for account_id in live_world.sim.account_ids:
        assert f"act_{account_id}" in done.stdout
    tokens = live_world.sim.tokens
    for index in range(len(live_world.sim.account_ids)):  # account i shows the tail of token i mod T
        assert tokens[index % len(tokens)][-4:] in done.stdout
    for token in tokens:
        assert token not in done.stdout + done.stderr
    assert "configuration OK" in done.stdout


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("META_ACCOUNTS", "123,12x", "META_ACCOUNTS: entry 2: '12x' is not an ad account id"),
        ("LOOKBACK_DAYS", "-1", "LOOKBACK_DAYS"),
        ("GRAPH_API_TOKENS", "", "GRAPH_API_TOKENS: at least one access token is required"),
    ],
    ids=["bad-account-id", "negative-lookback", "no-tokens"],
)
def test_malformed_config_exits_2_naming_the_variable(
    live_world: World, tmp_path: Path, variable: str, value: str, message: str
) -> None:
    done = metaads("config", "check", env={**live_world.base_env, variable: value}, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


_TODAY = datetime.now(timezone.utc).date()  # the real clock, which simulator and process both read


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ({"--since": _TODAY + timedelta(days=3)}, "--since: "),
        ({"--since": _TODAY - timedelta(days=5), "--until": _TODAY - timedelta(days=6)}, "--until: "),
        ({"--since": _TODAY - timedelta(days=2000), "--until": _TODAY - timedelta(days=1500)}, "--until: "),
    ],
    ids=["since-in-the-future", "until-before-since", "range-older-than-37-months"],
)
def test_impossible_date_range_exits_2_naming_the_option(
    live_world: World, tmp_path: Path, bounds: dict[str, object], message: str
) -> None:
    warehouse = tmp_path / "wh.db"
    args = [part for option, day in bounds.items() for part in (option, str(day))]
    done = metaads("run", *args, env={**live_world.base_env, "WAREHOUSE_URL": f"sqlite:///{warehouse}"}, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not warehouse.exists(), "refused before touching the warehouse"
    assert live_world.sim.stats.calls == 0, "refused before calling the API"


def _unimportable_pyodbc(folder: Path) -> dict[str, str]:
    # SQL Server without the ``mssql`` extra, whatever this machine has installed.
    folder.mkdir()
    (folder / "pyodbc.py").write_text("raise ModuleNotFoundError(\"No module named 'pyodbc'\", name='pyodbc')\n")
    return {"PYTHONPATH": str(folder)}


BAD_CONFIG = [
    ("log-level", ["config", "check"], {"LOG_LEVEL": "loud"}, "LOG_LEVEL: 'loud' is not a log level"),
    ("log-level-option", ["--log-level", "loud", "config", "check"], {}, "--log-level: 'loud' is not a log level"),
    (
        "unknown-dialect",
        ["config", "check"],
        {"WAREHOUSE_URL": "nosuchdb://u:SeCrEtPw@h/db"},
        "WAREHOUSE_URL: unknown database dialect 'nosuchdb'",
    ),
    (
        "mssql-without-extra",
        ["config", "check"],
        {"ANALYTICS_URL": "mssql+pyodbc://u:SeCrEtPw@h/db"},
        "pip install 'metaads[mssql]'",
    ),
    (
        "bad-analytics-url",
        ["config", "check"],
        {"ANALYTICS_URL": "not a url"},
        "ANALYTICS_URL: is not a SQLAlchemy database URL",
    ),
    (
        "sqlite-folder",
        ["init-db"],
        {"WAREHOUSE_URL": "sqlite:///{tmp}/a-file/sub/warehouse.db"},
        "WAREHOUSE_URL: cannot create the SQLite folder",
    ),
    (
        "metaads-table-name",
        ["config", "check"],
        {"META_ACCOUNTS": "1:metaads_runs"},
        "META_ACCOUNTS: entry 1: table name 'metaads_runs' starts with 'metaads_'",
    ),
    (
        "view-table-name",
        ["config", "check"],
        {"META_ACCOUNTS": "1:vw_graph_ads"},
        "collides with the union view 'vw_graph_ads'",
    ),
    ("non-ascii-digits", ["config", "check"], {"META_ACCOUNTS": "act_\u0661\u0662\u0663"}, "is not an ad account id"),
]


@pytest.mark.parametrize(
    ("args", "values", "message"), [case[1:] for case in BAD_CONFIG], ids=[case[0] for case in BAD_CONFIG]
)
def test_bad_configuration_exits_2_with_a_message_naming_what_to_fix(
    live_world: World, tmp_path: Path, args: list[str], values: dict[str, str], message: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    env = {
        **live_world.base_env,
        **{k: v.format(tmp=tmp_path) for k, v in values.items()},
        **_unimportable_pyodbc(tmp_path / "no-mssql-extra"),
    }
    done = metaads(*args, env=env, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert "SeCrEtPw" not in done.stdout + done.stderr


def test_bad_configuration_shows_the_traceback_at_debug_level(live_world: World, tmp_path: Path) -> None:
    env = {**live_world.base_env, "WAREHOUSE_URL": "nosuchdb://u:SeCrEtPw@h/db"}
    done = metaads("--log-level", "DEBUG", "config", "check", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" in done.stderr
    assert "WAREHOUSE_URL: unknown database dialect" in done.stderr
    assert "SeCrEtPw" not in done.stdout + done.stderr


def test_run_exits_nonzero_when_one_account_fails_while_the_others_load(live_world: World, tmp_path: Path) -> None:
    accounts = live_world.sim.account_ids
    tokens = [live_world.sim.add_token(accounts=[accounts[0], accounts[2]]) for _ in range(3)]
    live_world.sim.invalidate_token(tokens[0])  # 190: fail-over to the next token, logged
    live_world.sim.faults.error_500_rate = 0.15  # transient errors: retried, logged
    warehouse = tmp_path / "wh.db"
    env = {
        **live_world.base_env,
        "GRAPH_API_TOKENS": ",".join(tokens),
        "WAREHOUSE_URL": f"sqlite:///{warehouse}",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",
    }
    done = metaads("run", env=env, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 account(s) failed" in done.stderr
    with sqlite3.connect(warehouse) as db:
        counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("bm_01", "bm_02", "bm_03")}
    assert counts["bm_01"] > 0
    assert counts["bm_03"] > 0
    assert counts["bm_02"] == 0
    # one JSON log line per account, with counts and timings; never a token, even at DEBUG
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    per_account = [line for line in lines if line.get("logger") == "metaads.pipeline" and "ads_rows" in line]
    assert sorted(line["account_id"] for line in per_account) == sorted(accounts)
    assert {line["status"] for line in per_account} == {"loaded", "failed"}
    assert all("duration_s" in line and "api_calls" in line for line in per_account)
    for token in [*tokens, *live_world.sim.tokens]:
        assert token not in done.stdout
        assert token not in done.stderr


def _demo_warehouse_counts(pgdata: Path) -> tuple[int, int, float, int]:
    """Accounts, ad rows, total spend and action rows in the demo database of the embedded server."""
    server = embedded_status(pgdata)
    assert server is not None, f"the demo left no running PostgreSQL in {pgdata}"
    engine = sa.create_engine(server.url(DEMO_DATABASE), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            accounts, rows, spend = conn.execute(
                sa.text("SELECT COUNT(DISTINCT account_id), COUNT(*), SUM(spend) FROM meta_ads.vw_graph_ads")
            ).one()
            actions = conn.execute(sa.text("SELECT COUNT(*) FROM meta_ads.vw_graph_ads_actions")).scalar_one()
            # the production path: exact NUMERIC columns in real PostgreSQL tables
            spend_type = conn.execute(
                sa.text(
                    "SELECT data_type FROM information_schema.columns WHERE table_schema = 'meta_ads' "
                    "AND table_name = 'bm_01' AND column_name = 'spend'"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    assert spend_type == "numeric"
    return accounts, rows, float(spend), actions


def test_demo_from_a_fresh_clone_loads_into_embedded_postgres(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.fail("the demo test needs git and a git checkout to clone")
    # As root the embedded server runs as another user, who must be able to enter the folder.
    top = Path(tempfile.mkdtemp(prefix="metaads-demo-"))
    top.chmod(0o755)
    clone = top / "clone"
    pgdata = clone / "demo-data" / "postgres"
    try:
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
        # The clone's own sources, not the installed package, with this interpreter's dependencies.
        env = {"PYTHONPATH": str(clone / "src")}
        done = metaads("demo", "--dir", "demo-data", env=env, cwd=clone, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "where the data is" in done.stdout
        accounts, rows, spend, actions = _demo_warehouse_counts(pgdata)
        assert accounts == 10
        assert rows > 500
        assert spend > 0
        assert actions > rows
        with sqlite3.connect(clone / "demo-data" / "demo" / "analytics.db") as db:
            synced = db.execute("SELECT COUNT(*) FROM graph_ads").fetchone()[0]
        assert synced == rows
        # a second command reuses the running server (same postmaster), then stops it cleanly
        first = embedded_status(pgdata)
        again = metaads("embedded", "status", "--pgdata", str(pgdata), env=env, cwd=clone)
        assert again.returncode == 0, again.stderr
        assert first is not None
        assert str(first.pid) in again.stdout
        stopped = metaads("embedded", "stop", "--pgdata", str(pgdata), env=env, cwd=clone)
        assert "stopped" in stopped.stdout
        assert embedded_status(pgdata) is None
    finally:
        embedded_stop(pgdata)
        shutil.rmtree(top, ignore_errors=True)


@pytest.mark.slow
def test_readme_first_command_runs_the_demo_on_embedded_postgres_from_a_fresh_venv() -> None:
    """The README's first command, verbatim, in a fresh clone: a new virtual environment, no servers."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.fail("the demo test needs git and a git checkout to clone")
    readme = (ROOT / "README.md").read_text()
    command = next(line for line in readme.splitlines() if line.startswith("python3 -m venv .venv"))
    assert command.endswith(".venv/bin/metaads demo")
    top = Path(tempfile.mkdtemp(prefix="metaads-venv-"))
    top.chmod(0o755)
    clone = top / "clone"
    pgdata = clone / "metaads-data" / "postgres"
    try:
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
        base = {
            k: v
            for k, v in os.environ.items()
            if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"} or k.startswith("PIP_")
        }
        # pip reuses its wheel cache (HOME); the command is the README's, run by a shell like a user would.
        done = subprocess.run(
            ["bash", "-c", command], cwd=clone, env=base, capture_output=True, text=True, timeout=170, check=False
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        # the fresh environment has its own copy of the server binaries
        assert list((clone / ".venv").glob("lib/python*/site-packages/embedded_postgres/pginstall/bin/postgres"))
        accounts, rows, spend, actions = _demo_warehouse_counts(pgdata)
        assert (accounts, rows > 500, spend > 0, actions > rows) == (10, True, True, True)
    finally:
        embedded_stop(pgdata)
        shutil.rmtree(top, ignore_errors=True)


def test_tokens_check_exits_3_naming_each_token_that_needs_a_person(live_world: World, tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    sim = live_world.sim
    healthy = sim.tokens[0]
    expiring = sim.add_token(expires_at=datetime.now(timezone.utc) + timedelta(days=3))
    scopeless = sim.add_token(scopes=["pages_show_list"])
    invalid = sim.add_token()
    sim.invalidate_token(invalid)
    env = {**live_world.base_env, "GRAPH_API_TOKENS": ",".join([healthy, expiring, scopeless, invalid])}
    done = metaads("tokens", "check", "--json", env=env, cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    report = {item["token"]: item for item in json.loads(done.stdout)}
    assert report[f"…{healthy[-4:]}"]["problems"] == []
    assert report[f"…{healthy[-4:]}"]["type"] == "SYSTEM_USER"
    assert "expires on" in report[f"…{expiring[-4:]}"]["problems"][0]
    assert not report[f"…{scopeless[-4:]}"]["has_ads_read"]
    assert report[f"…{invalid[-4:]}"]["valid"] is False
    for token in (healthy, expiring, scopeless, invalid):
        assert token not in done.stdout + done.stderr

    healthy_only = metaads("tokens", "check", env={**live_world.base_env, "GRAPH_API_TOKENS": healthy}, cwd=tmp_path)
    assert healthy_only.returncode == 0, healthy_only.stdout + healthy_only.stderr
    assert "ok" in healthy_only.stdout


def test_status_shows_freshness_per_account_and_exits_3_while_one_is_stale(live_world: World, tmp_path: Path) -> None:
    sim = live_world.sim
    accounts = sim.account_ids
    narrow = sim.add_token(accounts=accounts[:2])  # the third account cannot be read: it never loads
    env = {**live_world.base_env, "GRAPH_API_TOKENS": narrow, "WAREHOUSE_URL": f"sqlite:///{tmp_path / 'wh.db'}"}
    assert metaads("run", "--no-sync", env=env, cwd=tmp_path).returncode == 1
    done = metaads("status", "--json", env=env, cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    report = {row["account_id"]: row for row in json.loads(done.stdout)["accounts"]}
    for account_id in accounts[:2]:
        assert report[account_id]["stale"] is False
        assert report[account_id]["last_loaded_day"] is not None
        assert report[account_id]["last_error"] is None
    third = report[accounts[2]]
    assert third["stale"] is True
    assert third["last_success"] is None
    assert "(#200)" in third["last_error"]
    # A system-user token never expires, but its data access does (90 days after the last use).
    from datetime import datetime, timezone

    days_left = (datetime.fromisoformat(third["token_expires"]) - datetime.now(timezone.utc)).days
    assert 85 <= days_left <= 90

    healthy = {**env, "GRAPH_API_TOKENS": ",".join(sim.tokens)}
    assert metaads("run", "--no-sync", env=healthy, cwd=tmp_path).returncode == 0
    again = metaads("status", env=healthy, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "stale" not in again.stdout.replace("stale after", "")


def test_verify_exits_0_when_everything_matches_3_when_a_day_differs(live_world: World, tmp_path: Path) -> None:
    warehouse, analytics = tmp_path / "wh.db", tmp_path / "analytics.db"
    # verify looks at the last 28 days by default: load them all.
    env = {
        **live_world.base_env,
        "WAREHOUSE_URL": f"sqlite:///{warehouse}",
        "ANALYTICS_URL": f"sqlite:///{analytics}",
        "LOOKBACK_DAYS": "28",
    }
    assert metaads("run", env=env, cwd=tmp_path).returncode == 0
    done = metaads("verify", "--json", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["exit_code"] == 0
    assert {(a["table"], a["source"]) for a in report["accounts"]} == {
        (t, s) for t in ("bm_01", "bm_02", "bm_03") for s in ("warehouse", "analytics")
    }
    assert all(a["days_checked"] == a["days_equal"] == 28 for a in report["accounts"])
    assert {q["check"] for q in report["quality"]} >= {
        "duplicate_unique_id",
        "negative_metrics",
        "orphan_actions",
        "api_spend_no_rows",
        "freshness",
    }

    # A row changed behind the pipeline's back: that day differs in the warehouse, not in analytics.
    with sqlite3.connect(warehouse) as db:
        day = db.execute("SELECT date FROM bm_02 ORDER BY date DESC LIMIT 1").fetchone()[0]
        db.execute(
            "UPDATE bm_02 SET spend = spend + 1 WHERE rowid = (SELECT rowid FROM bm_02 WHERE date = ? LIMIT 1)", (day,)
        )
    done = metaads("verify", "--accounts", "bm_02", env=env, cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "some days differ" in done.stdout
    report = json.loads(metaads("verify", "--accounts", "bm_02", "--json", env=env, cwd=tmp_path).stdout)
    by_source = {a["source"]: a for a in report["accounts"]}
    assert by_source["warehouse"]["first_bad_day"] == day
    assert set(by_source["warehouse"]["worst_difference"]) == {"spend"}
    assert float(by_source["warehouse"]["worst_difference"]["spend"]) == pytest.approx(1.0)
    assert by_source["analytics"]["first_bad_day"] is None


def test_verify_exits_1_when_meta_cannot_be_asked(live_world: World, tmp_path: Path) -> None:
    env = {
        **live_world.base_env,
        "WAREHOUSE_URL": f"sqlite:///{tmp_path / 'wh.db'}",
        "GRAPH_API_TOKENS": live_world.sim.add_token(accounts=[]),
        "GRAPH_API_MAX_RETRIES": "0",
    }
    done = metaads("verify", "--json", "--since", "2026-01-01", "--until", "2026-01-05", env=env, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert all(a["error"] for a in report["accounts"])


def test_run_with_strict_reconciliation_fails_the_account_whose_ad_rows_are_short(
    live_world: World, tmp_path: Path
) -> None:
    live_world.sim.faults.missing_rows_rate = 0.2
    env = {**live_world.base_env, "WAREHOUSE_URL": f"sqlite:///{tmp_path / 'wh.db'}", "LOG_FORMAT": "json"}
    strict = metaads("run", "--accounts", "bm_01", env=env, cwd=tmp_path)
    warn = metaads("run", "--accounts", "bm_01", env={**env, "RECONCILE": "warn"}, cwd=tmp_path)
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "differ from Meta's account totals" in strict.stderr
    assert warn.returncode == 0, warn.stdout + warn.stderr
    with sqlite3.connect(tmp_path / "wh.db") as db:
        statuses = [row[0] for row in db.execute("SELECT status FROM metaads_account_runs ORDER BY id")]
    assert statuses == ["mismatch", "mismatch"]


def test_status_shows_a_run_whose_process_was_killed_as_abandoned(live_world: World, tmp_path: Path) -> None:
    import signal

    from tests.integration.test_ledger_holes import _KILLED_RUN

    url = f"sqlite:///{tmp_path / 'wh.db'}"
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_RUN, url, ""], capture_output=True, text=True, timeout=120, check=False
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    run_id = killed.stdout.strip()
    env = {**live_world.base_env, "WAREHOUSE_URL": url}
    done = metaads("status", "--json", env=env, cwd=tmp_path)
    report = json.loads(done.stdout)
    assert report["runs_abandoned"] == [run_id]
    assert report["abandoned_now"]["runs"] == [run_id], "recorded by this status call"
    assert report["runs_running"] == 0
    shown = metaads("status", env=env, cwd=tmp_path)
    assert "1 run(s) abandoned" in shown.stdout
    assert run_id[:8] in shown.stdout


def test_run_without_a_terminal_prints_each_accounts_stages_as_plain_lines(live_world: World, tmp_path: Path) -> None:
    env = {**live_world.base_env, "WAREHOUSE_URL": f"sqlite:///{tmp_path / 'wh.db'}"}
    done = metaads("run", "--no-sync", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for account_id in live_world.sim.account_ids:
        name = live_world.sim.account(account_id).name.replace(",", " ").replace(":", " ").strip()
        stages = [line.split(": ", 1)[1] for line in done.stderr.splitlines() if line.startswith(f"{name}: ")]
        kinds = [stage.split(" ")[0] for stage in stages]
        assert kinds[0] == "started", stages
        for expected in ("fetching", "reconciling", "loading", "reconciled"):
            assert expected in kinds, stages
        assert stages[-1] == "done: loaded"
        assert sum(1 for kind in kinds if kind == "fetching") <= 2, "one line per stage change, not per page"


def test_accounts_list_and_retire_keep_or_remove_an_account_that_left_meta_accounts(
    live_world: World, tmp_path: Path
) -> None:
    warehouse, analytics = tmp_path / "wh.db", tmp_path / "analytics.db"
    env = {**live_world.base_env, "WAREHOUSE_URL": f"sqlite:///{warehouse}", "ANALYTICS_URL": f"sqlite:///{analytics}"}
    assert metaads("run", env=env, cwd=tmp_path).returncode == 0
    gone = live_world.sim.account_ids[2]
    short = {**env, "META_ACCOUNTS": ",".join(env["META_ACCOUNTS"].split(",")[:2])}

    listed = metaads("accounts", "list", env=short, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if "bm_03" in line)
    assert f"act_{gone}" in line
    assert "active" in line
    assert "no" in line.split("│")[5]  # no longer fetched

    refused = metaads("accounts", "retire", "bm_01", env=short, cwd=tmp_path)
    assert refused.returncode == 2
    assert "still configured" in refused.stderr
    retired = metaads("accounts", "retire", f"act_{gone}", env=short, cwd=tmp_path)
    assert retired.returncode == 0, retired.stderr
    assert "next full sync" in retired.stdout
    assert "retired" in next(
        line for line in metaads("accounts", "list", env=short, cwd=tmp_path).stdout.splitlines() if "bm_03" in line
    )
    with sqlite3.connect(warehouse) as db:
        assert {r[0] for r in db.execute("SELECT DISTINCT account_id FROM vw_graph_ads")} == set(
            live_world.sim.account_ids[:2]
        )
        assert db.execute("SELECT COUNT(*) FROM bm_03").fetchone()[0] > 0

    assert metaads("sync", "--full", env=short, cwd=tmp_path).returncode == 0
    with sqlite3.connect(analytics) as db:
        assert {r[0] for r in db.execute("SELECT DISTINCT account_id FROM graph_ads")} == set(
            live_world.sim.account_ids[:2]
        )
