from __future__ import annotations

import pytest

from metaads.config.accounts import (
    Account,
    group_accounts,
    parse_accounts,
    parse_tokens,
    token_index_for,
)
from metaads.errors import ConfigError


def test_colon_entries_with_defaults_labels_and_act_prefix() -> None:
    accounts = parse_accounts("act_1234567890:bm_01:Acme EU,987654321:bm_02, 555")
    assert accounts == [
        Account(id="1234567890", table="bm_01", label="Acme EU", index=0),
        Account(id="987654321", table="bm_02", label=None, index=1),
        Account(id="555", table="bm_03", label=None, index=2),
    ]
    assert accounts[0].act_id == "act_1234567890"
    assert accounts[0].actions_table == "bm_01_actions"
    assert accounts[1].display_name == "bm_02"


def test_label_may_contain_colons_and_unicode() -> None:
    (account,) = parse_accounts("1:shop:Café: FR 🇫🇷")
    assert account.label == "Café: FR 🇫🇷"


def test_json_list_form() -> None:
    accounts = parse_accounts('[{"id": "act_1", "table": "eu", "name": "Acme EU"}, {"id": 2}]')
    assert [(a.id, a.table, a.label) for a in accounts] == [("1", "eu", "Acme EU"), ("2", "bm_02", None)]


BAD_ACCOUNTS = [
    ("", "no accounts configured"),
    ("   ", "no accounts configured"),
    ("12a", "entry 1: '12a' is not an ad account id"),
    ("act_", "entry 1: 'act_' is not an ad account id"),
    ("1,,2", "entry 2 is empty"),
    ("1,", "entry 2 is empty"),
    ("1:bm_01,1:bm_02", "entry 2: account 1 is already configured in entry 1"),
    ("act_1,1", "entry 2: account 1 is already configured in entry 1"),
    ("1:t,2:t", "entry 2: table 't' is already used by entry 1"),
    ("1:Bad-Name", "entry 1: table name 'Bad-Name' must match"),
    ("1:9lives", "entry 1: table name '9lives' must match"),
    ("1:" + "a" * 64, "must match"),
    ("1:" + "a" * 60, "is longer than 53 characters"),
    ("1:x,2:x_actions", "clashes with another entry's table"),
    ("[1, 2", "looks like JSON but does not parse"),
    ('{"id": 1}', "is not an ad account id"),
    ('[{"table": "x"}]', "entry 1: expected an object with an 'id' key"),
    ('[{"id": 1, "tabel": "x"}]', "entry 1: unknown keys ['tabel']"),
    ("[]", "the JSON list is empty"),
    ("act_\u0661\u0662\u0663\u0664\u0665", "entry 1: 'act_\u0661\u0662\u0663\u0664\u0665' is not an ad account id"),
    ("\uff11\uff12", "entry 1: '\uff11\uff12' is not an ad account id"),
    ("1:metaads_runs", "table name 'metaads_runs' starts with 'metaads_'"),
    ("1:metaads_account_runs", "table name 'metaads_account_runs' starts with 'metaads_'"),
    ("1:metaads_syncs", "table name 'metaads_syncs' starts with 'metaads_'"),
    ("1:metaads_throttle", "table name 'metaads_throttle' starts with 'metaads_'"),
    ("1:metaads_future", "table name 'metaads_future' starts with 'metaads_'"),
    ("1:vw_graph_ads", "table name 'vw_graph_ads' collides with the union view 'vw_graph_ads'"),
    ("1:vw_graph_ads_actions", "collides with the union view 'vw_graph_ads_actions'"),
    ("1:vw_graph_campaigns", "collides with the union view 'vw_graph_campaigns'"),
    ("1:vw_graph", "collides with the union view 'vw_graph_campaigns'"),  # its campaigns table would
    ("1:x,2:x_ads", "table 'x' has an ads table 'x_ads' that clashes with another entry's table"),
    ("1:x_campaigns,2:x", "table 'x' has a campaigns table 'x_campaigns' that clashes"),
]


@pytest.mark.parametrize(("raw", "message"), BAD_ACCOUNTS, ids=[m for _, m in BAD_ACCOUNTS])
def test_bad_accounts_name_the_variable_and_the_entry(raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_accounts(raw)
    assert caught.value.variable == "META_ACCOUNTS"
    assert str(caught.value).startswith("META_ACCOUNTS: ")
    assert message in str(caught.value)


BAD_TOKENS = [
    ("", "at least one access token"),
    ("SECRETaaaa1,,SECRETbbbb2", "token 2 is empty"),
    ("SECRETabc SECRETdef", "token 1 contains whitespace"),
    ("SECRETaaaa1,SECRETbbbb2,SECRETaaaa1", "token 3 repeats token 1"),
]


@pytest.mark.parametrize(("raw", "message"), BAD_TOKENS, ids=[m for _, m in BAD_TOKENS])
def test_bad_tokens_are_rejected_without_echoing_them(raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_tokens(raw)
    assert caught.value.variable == "GRAPH_API_TOKENS"
    assert message in str(caught.value)
    assert "SECRET" not in str(caught.value)


def test_token_rotation_is_index_mod_token_count() -> None:
    accounts = parse_accounts(",".join(str(i) for i in range(1, 8)))
    assert [token_index_for(a, 3) for a in accounts] == [0, 1, 2, 0, 1, 2, 0]


def test_groups_are_consecutive_slices() -> None:
    accounts = parse_accounts(",".join(str(i) for i in range(1, 12)))
    groups = group_accounts(accounts, 5)
    assert [[a.id for a in g] for g in groups] == [["1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"], ["11"]]
    with pytest.raises(ConfigError, match="ACCOUNT_GROUP_SIZE"):
        group_accounts(accounts, 0)
