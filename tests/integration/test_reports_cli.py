"""`metaads config check` and `metaads run` with INSIGHTS_REPORTS, as a user runs them (a real process)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.integration.conftest import World
from tests.integration.test_cli import metaads

REPORTS_TOML = """
[[reports]]
name = "age_gender"
fields = ["spend", "impressions", "actions"]
breakdowns = ["age", "gender"]

[[reports]]
name = "placement"
level = "adset"
fields = ["adset_name", "spend"]
breakdowns = ["publisher_platform", "platform_position"]
lookback_days = 3
"""


def test_config_check_lists_the_default_and_the_extra_reports(live_world: World, tmp_path: Path) -> None:
    (tmp_path / "reports.toml").write_text(REPORTS_TOML)
    done = metaads("config", "check", env={**live_world.base_env, "INSIGHTS_REPORTS": "reports.toml"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 insights reports" in done.stdout
    for text in ("age_gender", "placement", "publisher_platform", "vw_graph_age_gender", "(default)"):
        assert text in done.stdout


def test_config_check_refuses_a_report_meta_would_refuse_naming_report_and_field(
    live_world: World, tmp_path: Path
) -> None:
    (tmp_path / "reports.toml").write_text(
        REPORTS_TOML.replace('"publisher_platform", "platform_position"', '"platform_position"')
    )
    done = metaads("config", "check", env={**live_world.base_env, "INSIGHTS_REPORTS": "reports.toml"}, cwd=tmp_path)
    assert done.returncode == 2
    assert "INSIGHTS_REPORTS: report 'placement', breakdowns: platform_position needs publisher_platform" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_loads_extra_reports_into_sqlite(live_world: World, tmp_path: Path) -> None:
    (tmp_path / "reports.toml").write_text(REPORTS_TOML)
    warehouse = tmp_path / "warehouse.db"
    env = {**live_world.base_env, "INSIGHTS_REPORTS": "reports.toml", "WAREHOUSE_URL": f"sqlite:///{warehouse}"}
    done = metaads("run", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    table = live_world.sim.meta_accounts_env().split(",")[0].split(":")[1]
    with sqlite3.connect(warehouse) as conn:
        rows = conn.execute(f'SELECT count(*), count(DISTINCT age || gender) FROM "{table}__age_gender"').fetchone()
        days = conn.execute(f'SELECT count(DISTINCT date) FROM "{table}__placement"').fetchone()
        reports = {r[0] for r in conn.execute("SELECT DISTINCT report FROM metaads_account_runs")}
    assert rows[0] > 0
    assert rows[1] > 6
    assert days[0] <= 3
    assert reports == {None, "age_gender", "placement"}
