"""The simulator as a real HTTP/1.1 server (keep-alive, one thread per connection) in a background thread."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from metaads.redact import redact_text
from metaads.simulator.app import GraphApp

log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the body waits for the client's delayed ACK
    # (~40 ms per keep-alive response on Linux), which would swamp the latency benchmarks measure.
    disable_nagle_algorithm = True
    server_version = "metaads-graph-simulator"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this many seconds

    server: _Server

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        try:
            response = self.server.app.handle(
                self.command, split.path, query, dict(self.headers.items()), body, base_url=f"http://{host}"
            )
        except Exception:  # noqa: BLE001 - a simulator bug must reach the client as a 500, not a hang
            log.exception("simulator failed on %s", redact_text(self.path))
            payload = json.dumps(
                {
                    "error": {
                        "message": "An unknown error occurred",
                        "type": "OAuthException",
                        "code": 1,
                        "is_transient": True,
                        "fbtrace_id": "simulator",
                    }
                }
            )
            self._write(500, [("Content-Type", "application/json; charset=UTF-8")], payload.encode())
            return
        if response.delay_s > 0:
            # Latency faults are real time on purpose: benchmarks measure wall time against them.
            time.sleep(response.delay_s)
        self._write(response.status, response.headers, response.body)

    def _write(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _serve
    do_POST = _serve
    do_DELETE = _serve

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        # The request line carries access tokens: only ever log it redacted.
        log.debug("%s", redact_text(format % args))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: GraphApp) -> None:
        self.app = app
        super().__init__(address, _Handler)


class SimulatorServer:
    """A running simulator; use as a context manager (``with sim.serve() as server: server.base_url``)."""

    def __init__(self, app: GraphApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), app)
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, the value for ``GRAPH_API_BASE_URL``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"graph-simulator-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI)."""
        self._server.serve_forever(poll_interval=0.2)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
