"""Counters of what the simulator served: calls, errors by code, throttling."""

from __future__ import annotations

import threading
from collections import Counter

from metaads.simulator.errors import THROTTLING_CODES


class SimulatorStats:
    """Thread-safe counters; read the attributes, :meth:`reset` between test phases.

    - ``calls``: every request (batch operations count one each, the batch envelope does not);
    - ``calls_by_app_account``: ``(app_id, account_id)`` -> calls (account None for /me, /debug_token);
    - ``calls_by_endpoint``: e.g. ``"GET act/insights"``;
    - ``errors_by_code``: Graph error code -> responses; ``throttled``: responses with a throttling code;
    - ``throttled_by_account``: account id -> throttling responses.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0
        self.calls_by_app_account: Counter[tuple[str | None, str | None]] = Counter()
        self.calls_by_endpoint: Counter[str] = Counter()
        self.errors_by_code: Counter[int] = Counter()
        self.throttled = 0
        self.throttled_by_account: Counter[str | None] = Counter()

    def record(self, *, app_id: str | None, account_id: str | None, endpoint: str, error_code: int | None) -> None:
        with self._lock:
            self.calls += 1
            self.calls_by_app_account[(app_id, account_id)] += 1
            self.calls_by_endpoint[endpoint] += 1
            if error_code is not None:
                self.errors_by_code[error_code] += 1
                if error_code in THROTTLING_CODES:
                    self.throttled += 1
                    self.throttled_by_account[account_id] += 1

    @property
    def errors(self) -> int:
        return sum(self.errors_by_code.values())

    def calls_for_account(self, account_id: str) -> int:
        """Calls about ``account_id``, whatever the app."""
        return sum(n for (_, acc), n in self.calls_by_app_account.items() if acc == account_id)

    def reset(self) -> None:
        with self._lock:
            self.calls = 0
            self.calls_by_app_account.clear()
            self.calls_by_endpoint.clear()
            self.errors_by_code.clear()
            self.throttled = 0
            self.throttled_by_account.clear()
