"""Batch requests: ``POST /`` with ``batch=[{"method", "relative_url", "body"?}, ...]`` (at most 50).

Each operation is served like a request of its own (and counts against the rate limits); the answer is a
list in request order of ``{"code", "headers": [{"name", "value"}], "body": "<JSON string>"}``, or
``null`` for an operation that "timed out" (``Faults.batch_timeout_rate``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from metaads.simulator import errors
from metaads.simulator.protocol import Response, dumps, split_version

if TYPE_CHECKING:
    from metaads.simulator.app import Call, GraphApp


def serve_batch(app: GraphApp, call: Call) -> Response:
    """Serve a batch envelope."""
    from metaads.simulator.app import Call

    try:
        operations = _operations(call.params["batch"], app.config.max_batch)
        app.tokens.authenticate(call.token, call.params.get("appsecret_proof"), app.clock.now())
    except errors.GraphError as exc:
        return Response(
            status=exc.status,
            headers=[("Content-Type", "application/json; charset=UTF-8")],
            body=dumps(exc.body(app.trace_id())),
            error_code=exc.code,
        )
    include_headers = call.params.get("include_headers", "true").lower() != "false"
    results: list[Any] = []
    delay = 0.0
    for op in operations:
        if app.faults.batch_timeout_rate and app.draw() < app.faults.batch_timeout_rate:
            results.append(None)
            continue
        method = str(op.get("method", "GET")).upper()
        split = urlsplit("/" + str(op.get("relative_url", "")).lstrip("/"))
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        if op.get("body"):
            params.update(parse_qsl(str(op["body"]), keep_blank_values=True))
        version, segments = split_version(split.path)
        path = split.path
        if version is None and call.version is not None:
            path = f"/{call.version}{split.path}"  # an unversioned operation inherits the batch's version
        inner = Call(
            method=method,
            path=path,
            version=version or call.version,
            segments=segments,
            params=params,
            token=params.get("access_token") or call.token,
            base_url=call.base_url,
        )
        response = app.serve(inner)
        delay = max(delay, response.delay_s)
        item: dict[str, Any] = {"code": response.status, "body": response.body.decode("ascii")}
        if include_headers:
            item["headers"] = [{"name": k, "value": v} for k, v in response.headers]
        results.append(item)
    return Response(
        status=200,
        headers=[("Content-Type", "application/json; charset=UTF-8")],
        body=dumps(results),
        delay_s=delay,
    )


def _operations(raw: str, limit: int) -> list[dict[str, Any]]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.invalid_param("param batch must be a JSON array of requests") from None
    if not isinstance(value, list) or not all(isinstance(op, dict) for op in value):
        raise errors.invalid_param("param batch must be a JSON array of requests")
    if not value:
        raise errors.invalid_param("param batch must contain at least one request")
    if len(value) > limit:
        raise errors.batch_too_big(limit)
    for position, op in enumerate(value):
        if "relative_url" not in op:
            raise errors.invalid_param(f"batch[{position}]: missing relative_url")
    return value
