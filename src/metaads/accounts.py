"""The ad account, the unit everything works per: extraction, tables, ledger rows, tokens.

A domain type of its own so the Graph client and the warehouse need not import the configuration
(:mod:`metaads.config.accounts` parses ``META_ACCOUNTS`` into these).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Account:
    """One configured ad account.

    ``id`` is the numeric id without the ``act_`` prefix; ``index`` its position in the configuration
    (it decides the token: ``index mod len(tokens)``).
    """

    id: str
    table: str
    label: str | None
    index: int

    @property
    def act_id(self) -> str:
        """The Graph API node id, ``act_<id>``."""
        return f"act_{self.id}"

    @property
    def actions_table(self) -> str:
        return f"{self.table}_actions"

    @property
    def display_name(self) -> str:
        """What people see: the label, else the table name."""
        return self.label or self.table
