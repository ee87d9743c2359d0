"""The states a run and an account's load can end in, as stored in the ledger and shown to people.

String-valued enums (``str`` mix-in rather than ``StrEnum``, for Python 3.10): they compare equal to
the text the ledger stores, so SQL filters and XComs keep plain strings.
"""

from __future__ import annotations

from collections.abc import Sized
from enum import Enum


class AccountStatus(str, Enum):
    """How one account (or one date range of it) ended."""

    LOADED = "loaded"
    PARTIAL = "partial"
    FAILED = "failed"
    #: A date range loaded, but its ad rows' sums differ from Meta's account-level totals
    #: (docs/reconciliation.md). Under ``RECONCILE=strict`` the account then counts as failed.
    MISMATCH = "mismatch"

    def __str__(self) -> str:
        return self.value


class RunStatus(str, Enum):
    """A ledger run: ``running`` until closed, then how its accounts ended."""

    RUNNING = "running"
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    #: Left ``running`` by a process that died (recognised by a later run, sync or ``verify``).
    ABANDONED = "abandoned"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, failed: int, total: Sized | int) -> RunStatus:
        """The status of a finished run with ``failed`` of ``total`` accounts not loaded."""
        count = total if isinstance(total, int) else len(total)
        if not failed:
            return cls.SUCCESS
        return cls.FAILED if failed >= count else cls.PARTIAL
