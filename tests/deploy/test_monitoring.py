"""The shipped monitoring config: Prometheus alert rules (checked and unit-tested by promtool) and the
Grafana dashboard, which may only chart metrics metaads exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from metaads.observability import METRIC_NAMES
from tests.databases import IN_CI

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
ALERTS_TEST = DEPLOY / "prometheus" / "alerts_test.yml"
DASHBOARD = DEPLOY / "grafana" / "metaads.json"
METRIC_RE = re.compile(r"\bmetaads_[a-z_]+")


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        message = "promtool not found (Debian: apt-get install prometheus); scripts/test installs it"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(f"SKIPPED LOUDLY: {message}")
    return found


@pytest.mark.parametrize(
    "args", [["check", "rules", str(ALERTS)], ["test", "rules", str(ALERTS_TEST)]], ids=["check-rules", "test-rules"]
)
def test_alert_rules_pass_promtool(args: list[str]) -> None:
    done = subprocess.run(
        [promtool(), *args], capture_output=True, text=True, timeout=120, check=False, cwd=ALERTS.parent
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_is_unit_tested() -> None:
    alerts = set(re.findall(r"^\s+- alert: (\w+)", ALERTS.read_text(), re.MULTILINE))
    tested = set(re.findall(r"alertname: (\w+)", ALERTS_TEST.read_text()))
    assert alerts == {
        "MetaadsAccountStale",
        "MetaadsTokenExpiringSoon",
        "MetaadsRunFailed",
        "MetaadsReconciliationMismatch",
        "MetaadsMetricsMissing",
    }
    assert tested == alerts


def _rule_exprs(text: str) -> list[str]:
    """The PromQL of each ``expr:`` (one line, or the indented block under ``expr: |``)."""
    exprs: list[str] = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.strip().startswith("expr:"):
            indent = len(line) - len(line.lstrip())
            block = [line.split("expr:", 1)[1]]
            for following in lines[number + 1 :]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                block.append(following)
            exprs.append("\n".join(block))
    return exprs


def test_alert_rules_use_only_exported_metrics() -> None:
    exprs = _rule_exprs(ALERTS.read_text())
    assert len(exprs) == 5
    used = {name for expr in exprs for name in METRIC_RE.findall(expr)}
    assert used <= set(METRIC_NAMES), f"unknown metrics: {used - set(METRIC_NAMES)}"
    assert {
        "metaads_account_last_success_timestamp_seconds",
        "metaads_token_expiry_timestamp_seconds",
        "metaads_run_failed_accounts",
        "metaads_reconcile_difference",
    } <= used


def _exprs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        query = node.get("query")
        if isinstance(query, dict) and isinstance(query.get("query"), str):
            found.append(query["query"])
        return found + [e for value in node.values() for e in _exprs(value)]
    if isinstance(node, list):
        return [e for item in node for e in _exprs(item)]
    return []


def test_dashboard_charts_only_exported_metrics_and_covers_each_concern() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = _exprs(dashboard)
    used = {name for expr in exprs for name in METRIC_RE.findall(expr)}
    assert used <= set(METRIC_NAMES), f"unknown metrics: {used - set(METRIC_NAMES)}"
    # freshness, rows, calls, throttling, usage, mismatches, token expiry, failures, duration
    assert used == set(METRIC_NAMES)


def test_dashboard_is_provisionable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "metaads"
    assert "id" not in dashboard  # provisioning assigns database ids
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    for panel in dashboard["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
