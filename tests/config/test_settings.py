from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from metaads.config.settings import DEFAULT_GRAPH_API_VERSION, Settings, load_settings, settings_from_mapping
from metaads.database import create_engine_for
from metaads.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"META_ACCOUNTS": "act_1:bm_01:A,2", "GRAPH_API_TOKENS": "tokenAAAA1111,tokenBBBB2222"}


def test_defaults_follow_the_original_design_with_a_supported_version() -> None:
    settings = settings_from_mapping(GOOD)
    assert settings.lookback_days == 15
    assert settings.account_group_size == 5
    assert settings.graph_api_base_url == "https://graph.facebook.com"
    assert settings.graph_api_version == DEFAULT_GRAPH_API_VERSION
    assert int(DEFAULT_GRAPH_API_VERSION[1:].split(".")[0]) >= 25
    assert settings.tokens == ["tokenAAAA1111", "tokenBBBB2222"]
    assert [a.table for a in settings.accounts] == ["bm_01", "bm_02"]
    assert (settings.reconcile, settings.reconcile_tolerance) == ("strict", "0.001")


def test_env_file_and_environment_are_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("META_ACCOUNTS=act_9:bm_09:From File\nGRAPH_API_TOKENS=fileTOKEN123\nLOOKBACK_DAYS=20\n")
    monkeypatch.setenv("LOOKBACK_DAYS", "7")
    settings = load_settings(env_file=env_file)
    assert settings.accounts[0].label == "From File"
    assert settings.lookback_days == 7


BAD = [
    ({"LOOKBACK_DAYS": "0"}, "LOOKBACK_DAYS"),
    ({"LOOKBACK_DAYS": "2000"}, "LOOKBACK_DAYS"),
    ({"LOOKBACK_DAYS": "ten"}, "LOOKBACK_DAYS"),
    ({"ACCOUNT_GROUP_SIZE": "0"}, "ACCOUNT_GROUP_SIZE"),
    ({"GRAPH_API_VERSION": "25.0"}, "GRAPH_API_VERSION"),
    ({"GRAPH_API_BASE_URL": "graph.facebook.com"}, "GRAPH_API_BASE_URL"),
    ({"GRAPH_API_PAGE_SIZE": "-5"}, "GRAPH_API_PAGE_SIZE"),
    ({"WAREHOUSE_SCHEMA": "Meta-Ads"}, "WAREHOUSE_SCHEMA"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ({"META_ACCOUNTS": "1,1"}, "META_ACCOUNTS"),
    ({"GRAPH_API_TOKENS": ""}, "GRAPH_API_TOKENS"),
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
    ({"WAREHOUSE_URL": "not a url"}, "WAREHOUSE_URL"),
    ({"WAREHOUSE_URL": "nosuchdb://h/db"}, "WAREHOUSE_URL"),
    ({"ANALYTICS_URL": "not a url"}, "ANALYTICS_URL"),
    ({"ANALYTICS_URL": "nosuchdb://h/db"}, "ANALYTICS_URL"),
    ({"META_ACCOUNTS": "1:metaads_throttle"}, "META_ACCOUNTS"),
    ({"RECONCILE": "sometimes"}, "RECONCILE"),
    ({"RECONCILE_TOLERANCE": "5%"}, "RECONCILE_TOLERANCE"),
    ({"RECONCILE_TOLERANCE": "2"}, "RECONCILE_TOLERANCE"),
]


@pytest.mark.parametrize(("values", "variable"), BAD, ids=[f"{v}" for v, _ in BAD])
def test_malformed_setting_names_the_variable(values: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping({**GOOD, **values})
    assert caught.value.variable == variable
    assert str(caught.value).startswith(variable)


def test_config_errors_never_echo_tokens() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping({**GOOD, "GRAPH_API_TOKENS": "goodTOKEN1234,goodTOKEN1234"})
    assert "goodTOKEN1234" not in str(caught.value)


def test_env_example_documents_every_setting() -> None:
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    expected = {name.upper() for name in Settings.model_fields}
    assert expected - documented == set(), "undocumented in .env.example"
    assert documented - expected == set(), ".env.example documents unknown variables"


def test_select_accounts_by_id_table_or_label() -> None:
    settings = settings_from_mapping(GOOD)
    assert [a.id for a in settings.select_accounts(["act_1"])] == ["1"]
    assert [a.id for a in settings.select_accounts(["bm_02", "A"])] == ["2", "1"]
    with pytest.raises(ConfigError, match="not a configured account"):
        settings.select_accounts(["nope"])


def test_log_level_is_case_insensitive_and_normalised() -> None:
    assert settings_from_mapping({**GOOD, "LOG_LEVEL": "debug"}).log_level == "DEBUG"


@pytest.mark.parametrize(
    ("variable", "url", "extra"),
    [
        ("ANALYTICS_URL", "mssql+pyodbc://sa:SeCrEtPw@sql/analytics", "mssql"),
        ("WAREHOUSE_URL", "mssql+pyodbc://sa:SeCrEtPw@sql/warehouse", "mssql"),
        ("ANALYTICS_URL", "mysql+pymysql://root:SeCrEtPw@db/analytics", "mysql"),
    ],
    ids=["mssql-analytics", "mssql-warehouse", "mysql-analytics"],
)
def test_missing_driver_names_the_variable_and_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, variable: str, url: str, extra: str
) -> None:
    # A None entry in sys.modules makes ``import`` fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "pyodbc", None)
    monkeypatch.setitem(sys.modules, "pymysql", None)
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping({**GOOD, variable: url})
    assert caught.value.variable == variable
    assert f"pip install 'metaads[{extra}]'" in str(caught.value)
    assert "SeCrEtPw" not in str(caught.value)


def test_sqlite_folder_that_cannot_be_created_names_the_variable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where a folder should be")
    settings = settings_from_mapping({**GOOD, "WAREHOUSE_URL": f"sqlite:///{blocker}/sub/warehouse.db"})
    with pytest.raises(ConfigError, match="^WAREHOUSE_URL: cannot create the SQLite folder") as caught:
        create_engine_for(settings.warehouse_url, variable="WAREHOUSE_URL")
    assert caught.value.variable == "WAREHOUSE_URL"


def test_no_password_or_token_in_repr_dump_or_vars() -> None:
    tokens = "tokenAAAA1111secret,tokenBBBB2222secret"
    settings = settings_from_mapping(
        {
            **GOOD,
            "GRAPH_API_TOKENS": tokens,
            "GRAPH_API_APP_SECRET": "appSECRET99",
            "WAREHOUSE_URL": "postgresql+psycopg://etl:WhPassw0rd@db/warehouse",
            "ANALYTICS_URL": "postgresql+psycopg://sync:AnPassw0rd@db/analytics",
        }
    )
    assert settings.tokens == tokens.split(",")  # parsed on use...
    assert settings.warehouse_url == "postgresql+psycopg://etl:WhPassw0rd@db/warehouse"  # ...and usable
    shown = " ".join(
        [
            repr(settings),
            str(settings),
            repr(settings.model_dump()),
            settings.model_dump_json(),
            repr(vars(settings)),
            repr(settings.warehouse_url),
        ]
    )
    for secret in ("tokenAAAA1111secret", "tokenBBBB2222secret", "appSECRET99", "WhPassw0rd", "AnPassw0rd"):
        assert secret not in shown
    assert "postgresql+psycopg://etl:***@db/warehouse" in shown


def test_an_alert_url_apprise_cannot_use_is_a_config_error_that_does_not_echo_the_url() -> None:
    from metaads import ConfigError
    from metaads.config.settings import settings_from_mapping

    secret_hook = "nonsense://hooks.example/T000/B000/XXXXsecretXXXX"
    with pytest.raises(ConfigError, match=r"^ALERT_URLS: entry 2 is not an Apprise URL") as caught:
        settings_from_mapping(
            {
                "META_ACCOUNTS": "act_1",
                "GRAPH_API_TOKENS": "tok_abcdefgh",
                "WAREHOUSE_URL": "sqlite:///x.db",
                "ALERT_URLS": f"json://127.0.0.1:9/ok, {secret_hook}",
            }
        )
    assert "XXXXsecretXXXX" not in str(caught.value)
