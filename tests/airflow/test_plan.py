"""The DAG's layout from configuration (task ids, groups, time zone) and how the run is judged.

Pure metaads code: no Airflow needed.
"""

from __future__ import annotations

import pytest

from metaads import settings_from_mapping
from metaads.errors import (
    BadRequestError,
    ConfigError,
    LoadError,
    PermissionDeniedError,
    RateLimitedError,
    TokenInvalidError,
    TransientError,
)
from metaads.orchestration import (
    AccountFailedError,
    AccountOutcome,
    RunFailedError,
    finish_run,
    is_retryable,
    plan_from_settings,
    task_slug,
)


def settings(accounts: str, **extra: str):  # type: ignore[no-untyped-def]
    return settings_from_mapping({"META_ACCOUNTS": accounts, "GRAPH_API_TOKENS": "tok_a", **extra})


@pytest.mark.parametrize(("label", "slug"), [
    ("Acme EU", "acme_eu"),
    ("  Acme -- EU  ", "acme_eu"),
    ("Café Olé – FR", "cafe_ole_fr"),
    ("서울 쇼핑", ""),
    ("Shop #2 (new)", "shop_2_new"),
    ("x" * 300, "x" * 100),
], ids=["spaces", "punctuation-runs", "accents-folded", "no-latin-letters", "symbols", "capped-length"])
def test_task_slug_keeps_ascii_letters_digits_and_single_underscores(label: str, slug: str) -> None:
    assert task_slug(label) == slug


def test_accounts_are_grouped_in_configuration_order_with_label_task_ids() -> None:
    plan = plan_from_settings(settings(
        "act_1:bm_01:Acme EU,act_2:bm_02:서울 쇼핑,act_3:bm_03:Acme-EU,act_4:shop:bm_01x,act_5:bm_05:shop",
        ACCOUNT_GROUP_SIZE="2"))
    assert [[t.full_task_id for t in g.tasks] for g in plan.groups] == [
        # "Acme EU" and "Acme-EU" would share an id: both use their tables instead.
        ["accounts_group_1.extract_bm_01", "accounts_group_1.extract_bm_02"],
        ["accounts_group_2.extract_bm_03", "accounts_group_2.extract_bm_01x"],
        # label "shop" is another account's table: the table name avoids the confusion
        ["accounts_group_3.extract_bm_05"],
    ]
    assert plan.task_for("2").display_name == "서울 쇼핑 (act_2)"
    assert plan.timezone == "UTC"


def test_unknown_time_zone_is_a_config_error_naming_pipeline_timezone() -> None:
    with pytest.raises(ConfigError, match="PIPELINE_TIMEZONE"):
        plan_from_settings(settings("act_1", PIPELINE_TIMEZONE="Europe/Atlantis"))


@pytest.mark.parametrize(("error", "retry"), [
    (TransientError("HTTP 500", code=1), True),
    (RateLimitedError("throttled", retry_after_s=60.0), True),
    (LoadError("database went away"), True),
    (PermissionDeniedError("no ads_read", code=200), False),
    (TokenInvalidError("expired", code=190), False),
    (BadRequestError("bad field", code=100), False),
    (ConfigError("not configured", variable="META_ACCOUNTS"), False),
], ids=["transient", "rate-limited", "load-error", "permission", "token", "bad-request", "config"])
def test_only_failures_that_time_can_fix_are_retried(error: Exception, retry: bool) -> None:
    assert is_retryable(error) is retry


def outcome(account_id: str, name: str, status: str, error: str | None = None) -> AccountOutcome:
    return AccountOutcome(account_id=account_id, name=name, table=f"t_{account_id}", status=status,
                          error=error, retryable=status == "loaded")


def test_account_outcome_survives_the_xcom_round_trip_and_its_failure_says_whether_to_retry() -> None:
    failed = outcome("2", "Beta", "failed", "(#200) no permission")
    assert AccountOutcome.from_xcom(failed.to_xcom()) == failed
    error = AccountFailedError(failed)
    assert error.retryable is False
    assert "Beta (act_2) failed: (#200) no permission" in str(error)


def test_finish_fails_naming_every_account_that_did_not_load() -> None:
    config = settings("act_1:bm_01:Alpha,act_2:bm_02:Beta,act_3:bm_03:Gamma")
    plan = plan_from_settings(config)
    outcomes = {"1": outcome("1", "Alpha", "loaded").to_xcom(),
                "2": outcome("2", "Beta", "failed", "(#200) no permission").to_xcom(),
                "3": None}
    with pytest.raises(RunFailedError) as caught:
        finish_run(config, None, plan.tasks, outcomes, {"ads_rows": 10})
    message = str(caught.value)
    assert message.startswith("2 of 3 account(s) did not load: ")
    assert "Beta (act_2) failed: (#200) no permission" in message
    assert "Gamma (act_3) no result reported (see the log of task accounts_group_1.extract_gamma)" in message
    assert "Alpha" not in message
    assert caught.value.failed_accounts == ["Beta", "Gamma"]
    assert caught.value.sync_failed is False


def test_finish_fails_when_only_the_sync_failed_and_passes_when_all_is_well() -> None:
    config = settings("act_1:bm_01:Alpha")
    plan = plan_from_settings(config)
    loaded = {"1": outcome("1", "Alpha", "loaded").to_xcom()}
    with pytest.raises(RunFailedError, match="the analytics sync failed") as caught:
        finish_run(config, None, plan.tasks, loaded, None)
    assert caught.value.failed_accounts == []
    report = finish_run(config, None, plan.tasks, loaded, {"skipped": "ANALYTICS_URL is not set"})
    assert (report.status, report.failed, report.sync_ok) == ("success", [], True)
