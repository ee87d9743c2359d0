"""The simulator's answers recorded once, then replayed: the API as the API-bound ideal assumes it.

The API-bound ideal (``calls x latency / concurrency``) counts an API that costs its client nothing but
latency, as Meta's servers do: they run elsewhere. The simulator runs here instead, on the same cores as
the pipeline and PostgreSQL, and producing its answers takes it about as much CPU as the pipeline takes
to load them. :class:`ReplayApp` takes that work out of the measured run: a first run of the same
pipeline against a fresh warehouse records every answer (status, headers, body) by its request; the
measured run, against another fresh warehouse, makes the same requests (the same days, cursors, page
sizes and tokens) and gets the recorded answers at once, their latency still added by the latency
floor around it. A request that was not recorded is answered by the simulator and counted in
:attr:`ReplayApp.misses`, so a run whose requests diverged says so.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace

from bench.timescale import App
from metaads.simulator.protocol import Response

_CREDENTIALS = frozenset({"access_token", "appsecret_proof"})

_Key = tuple[str, str, tuple[tuple[str, str], ...], bytes, str]


class ReplayApp:
    """Records the simulator's answers by request, then replays them (:attr:`replaying`)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.replaying = False
        #: Requests the replay did not know, answered by the simulator instead.
        self.misses = 0
        self._answers: dict[_Key, Response] = {}
        self._lock = threading.Lock()

    @property
    def recorded(self) -> int:
        return len(self._answers)

    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
        *,
        base_url: str,
    ) -> Response:
        key = _key(method, path, query, headers, body)
        if self.replaying:
            answer = self._answers.get(key)
            if answer is not None:
                return replace(answer)  # a fresh response: the latency floor sets its own delay on it
            with self._lock:
                self.misses += 1
        response: Response = self.app.handle(method, path, query, headers, body, base_url=base_url)
        if not self.replaying:
            with self._lock:
                self._answers[key] = replace(response)
        return response


def _key(method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> _Key:
    token = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    params = tuple(sorted((k, v) for k, v in query.items() if k not in _CREDENTIALS))
    return method.upper(), path, params, body, token
