"""The simulator as an ``httpx`` transport: real requests and responses, no sockets (fast unit tests)."""

from __future__ import annotations

import httpx

from metaads.simulator.app import GraphApp


class SimulatorTransport(httpx.BaseTransport):
    """Routes every ``httpx.Client`` request into the simulator's handler.

    Latency faults are not applied here (they are real sleeps in the HTTP server adapter), so tests on
    a fake clock stay instant.
    """

    def __init__(self, app: GraphApp) -> None:
        self._app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        body = request.read()
        query = {key: value for key, value in url.params.multi_items()}
        base_url = f"{url.scheme}://{url.netloc.decode('ascii')}"
        response = self._app.handle(request.method, url.path, query, dict(request.headers), body, base_url=base_url)
        return httpx.Response(response.status, headers=response.headers, content=response.body, request=request)
