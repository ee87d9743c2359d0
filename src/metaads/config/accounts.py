"""Ad accounts from ``META_ACCOUNTS``: parsing, validation, grouping and token assignment."""

from __future__ import annotations

import re
from collections.abc import Sequence

import orjson

from metaads.accounts import Account
from metaads.database import IDENTIFIER_PATTERN, is_identifier
from metaads.errors import ConfigError
from metaads.transform.entities import ENTITY_KINDS
from metaads.warehouse.entities import ENTITY_SUFFIXES, view_name
from metaads.warehouse.schema import ACTIONS_SUFFIX, ACTIONS_VIEW, ADS_VIEW, RESERVED_PREFIX

# ASCII digits only: ``\d`` would also take Arabic-Indic and other Unicode digits.
_ID_RE = re.compile(r"^(?:act_)?([0-9]{1,20})$")
# Each account owns "<table>_actions" and the entity tables "<table>_campaigns", ...: the base name must
# leave room for the longest suffix (PostgreSQL truncates identifiers beyond 63 characters).
_SUFFIXES = (ACTIONS_SUFFIX, *ENTITY_SUFFIXES)
_MAX_TABLE_LEN = 63 - max(len(suffix) for suffix in _SUFFIXES)
_VIEWS = (ADS_VIEW, ACTIONS_VIEW, *(view_name(kind) for kind in ENTITY_KINDS))

VARIABLE = "META_ACCOUNTS"


def default_table(index: int) -> str:
    return f"bm_{index + 1:02d}"


def parse_accounts(raw: str) -> list[Account]:
    """Parse ``META_ACCOUNTS``: ``ID[:TABLE[:LABEL]]`` entries separated by commas, or a JSON list.

    Raises:
        ConfigError: naming ``META_ACCOUNTS`` and the entry at fault.
    """
    text = raw.strip()
    if not text:
        raise ConfigError("no accounts configured (expected e.g. 'act_1234567890:bm_01:Acme EU')", variable=VARIABLE)
    entries = _json_entries(text) if text.startswith("[") else _colon_entries(text)
    accounts: list[Account] = []
    seen_ids: dict[str, int] = {}
    seen_tables: dict[str, int] = {}
    for position, (raw_id, table, label) in enumerate(entries):
        where = f"entry {position + 1}"
        match = _ID_RE.match(raw_id.strip())
        if not match:
            raise ConfigError(
                f"{where}: {raw_id.strip()!r} is not an ad account id (digits, optionally prefixed 'act_')",
                variable=VARIABLE,
            )
        account_id = match.group(1)
        table_name = (table or "").strip() or default_table(position)
        if not is_identifier(table_name):
            raise ConfigError(
                f"{where}: table name {table_name!r} must match {IDENTIFIER_PATTERN} "
                "(lower-case letters, digits, underscores)",
                variable=VARIABLE,
            )
        if len(table_name) > _MAX_TABLE_LEN:
            raise ConfigError(
                f"{where}: table name {table_name!r} is longer than {_MAX_TABLE_LEN} characters "
                f"(its own tables add up to {max(len(s) for s in _SUFFIXES)}: {', '.join(_SUFFIXES)})",
                variable=VARIABLE,
            )
        reserved = _reserved_clash(table_name)
        if reserved:
            raise ConfigError(f"{where}: table name {table_name!r} {reserved}; choose another name", variable=VARIABLE)
        if account_id in seen_ids:
            raise ConfigError(
                f"{where}: account {account_id} is already configured in entry {seen_ids[account_id]}",
                variable=VARIABLE,
            )
        if table_name in seen_tables:
            raise ConfigError(
                f"{where}: table {table_name!r} is already used by entry {seen_tables[table_name]}",
                variable=VARIABLE,
            )
        seen_ids[account_id] = position + 1
        seen_tables[table_name] = position + 1
        accounts.append(Account(id=account_id, table=table_name, label=(label or "").strip() or None, index=position))
    _check_actions_clash(accounts)
    return accounts


def _reserved_clash(table: str) -> str | None:
    """Why ``table`` (or its actions table) would collide with a table or view metaads owns, else None."""
    if table.startswith(RESERVED_PREFIX):
        return f"starts with {RESERVED_PREFIX!r}, reserved for metaads's own tables (run ledger, throttle state)"
    for name in (table, *(f"{table}{suffix}" for suffix in _SUFFIXES)):
        if name in _VIEWS:
            return f"collides with the union view {name!r}"
    return None


def _colon_entries(text: str) -> list[tuple[str, str | None, str | None]]:
    entries: list[tuple[str, str | None, str | None]] = []
    for position, chunk in enumerate(text.split(",")):
        if not chunk.strip():
            raise ConfigError(f"entry {position + 1} is empty (stray comma?)", variable=VARIABLE)
        parts = chunk.strip().split(":", 2)
        entries.append((parts[0], parts[1] if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None))
    return entries


def _json_entries(text: str) -> list[tuple[str, str | None, str | None]]:
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"looks like JSON but does not parse: {exc}", variable=VARIABLE) from None
    if not isinstance(data, list):
        raise ConfigError("JSON form must be a list of objects", variable=VARIABLE)
    entries: list[tuple[str, str | None, str | None]] = []
    for position, item in enumerate(data):
        if not isinstance(item, dict) or "id" not in item:
            raise ConfigError(f"entry {position + 1}: expected an object with an 'id' key", variable=VARIABLE)
        unknown = set(item) - {"id", "table", "name", "label"}
        if unknown:
            raise ConfigError(f"entry {position + 1}: unknown keys {sorted(unknown)}", variable=VARIABLE)
        label = item.get("name", item.get("label"))
        table = item.get("table")
        entries.append((str(item["id"]), None if table is None else str(table), None if label is None else str(label)))
    if not entries:
        raise ConfigError("the JSON list is empty", variable=VARIABLE)
    return entries


def _check_actions_clash(accounts: Sequence[Account]) -> None:
    # "bm_01_actions" (or "bm_01_ads") as a table name would collide with bm_01's actions (ads) table.
    tables = {a.table for a in accounts}
    for account in accounts:
        for suffix in _SUFFIXES:
            owned = f"{account.table}{suffix}"
            if owned in tables:
                kind = f"{'an' if suffix[1] in 'aeiou' else 'a'} {suffix[1:]}"
                raise ConfigError(
                    f"entry {account.index + 1}: table {account.table!r} has {kind} table "
                    f"{owned!r} that clashes with another entry's table",
                    variable=VARIABLE,
                )


def parse_tokens(raw: str, *, variable: str = "GRAPH_API_TOKENS") -> list[str]:
    """Comma-separated access tokens; at least one, no empty entries, no duplicates."""
    if not raw.strip():
        raise ConfigError("at least one access token is required", variable=variable)
    tokens: list[str] = []
    for position, chunk in enumerate(raw.split(",")):
        token = chunk.strip()
        if not token:
            raise ConfigError(f"token {position + 1} is empty (stray comma?)", variable=variable)
        if any(ch.isspace() for ch in token):
            raise ConfigError(f"token {position + 1} contains whitespace", variable=variable)
        if token in tokens:
            raise ConfigError(f"token {position + 1} repeats token {tokens.index(token) + 1}", variable=variable)
        tokens.append(token)
    return tokens


def group_accounts(accounts: Sequence[Account], size: int) -> list[list[Account]]:
    """Split accounts into consecutive groups of ``size`` (the original design's task groups)."""
    if size < 1:
        raise ConfigError("must be at least 1", variable="ACCOUNT_GROUP_SIZE")
    return [list(accounts[i : i + size]) for i in range(0, len(accounts), size)]


def token_index_for(account: Account, token_count: int) -> int:
    """The token an account starts with: account *i* uses token *i mod T*."""
    return account.index % token_count
