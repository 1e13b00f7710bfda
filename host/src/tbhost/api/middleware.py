"""The ASGI middleware in front of everything: request ids, bearer tokens, the rate limit and
request durations.

* Every HTTP response carries ``X-Request-ID`` (the caller's, if it sent a sane one).
* ``/graphql`` needs ``Authorization: Bearer <token>``: without a valid one the answer is 401
  before any GraphQL runs; only the GraphiQL page (a GET without a query) loads without one.
  WebSockets authenticate in ``connection_init`` (see :mod:`.app`).
* Each token has a request budget (:class:`~.limits.RateLimiter`); beyond it, 429 with
  ``RATE_LIMITED`` and ``Retry-After``.
* ``/graphql`` then goes straight to the GraphQL app; everything else to FastAPI.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import Code, error_body
from .state import ApiServices

__all__ = ["GRAPHQL_PATH", "ApiMiddleware", "bearer_token"]

GRAPHQL_PATH = "/graphql"
_KNOWN_PATHS = {GRAPHQL_PATH, "/healthz", "/readyz", "/metrics"}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def bearer_token(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def request_id_of(scope: Scope) -> str:
    given = _header(scope, b"x-request-id")
    return given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex


class ApiMiddleware:
    def __init__(self, app: ASGIApp, services: ApiServices, graphql: ASGIApp) -> None:
        self.app = app
        self.services = services
        self.graphql = graphql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        inner = self.graphql if scope.get("path") == GRAPHQL_PATH else self.app
        if scope["type"] == "websocket":
            await inner(scope, receive, send)
            return
        begun = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            refusal = await self._check(scope, state, request_id)
            if refusal is not None:
                await refusal(send_with_id)
            else:
                await inner(scope, receive, send_with_id)
        finally:
            path = scope.get("path", "")
            self.services.metrics.api_request_seconds.labels(
                scope.get("method", "?"),
                path if path in _KNOWN_PATHS else "other",
                str(status),
            ).observe(time.perf_counter() - begun)

    async def _check(self, scope: Scope, state: dict[str, Any], request_id: str) -> Any:
        """``None`` to go ahead (``state['actor']`` set for GraphQL), or a response sender."""
        if scope.get("path") != GRAPHQL_PATH or scope.get("method") == "OPTIONS":
            return None
        if scope.get("method") == "GET" and b"query" not in parse_qs(
            scope.get("query_string", b"")
        ):
            return None  # the GraphiQL page: it holds no data, its queries need a token
        token = bearer_token(_header(scope, b"authorization"))
        actor = None if token is None else await self.services.tokens.actor(token)
        if actor is None:
            message = (
                "a valid API token is required: send `Authorization: Bearer <token>` "
                "(unknown, revoked and expired tokens are refused alike)"
                if token is not None
                else "no API token: send `Authorization: Bearer <token>`"
            )
            return _refusal(
                401, Code.UNAUTHENTICATED, message, request_id, [(b"www-authenticate", b"Bearer")]
            )
        wait = self.services.limiter.allow(
            hashlib.sha256(token.encode()).hexdigest() if token else ""
        )
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            message = (
                f"rate limit of {self.services.settings.api_rate_limit_per_minute} requests a "
                f"minute for this token reached; retry in {seconds} s"
            )
            return _refusal(
                429,
                Code.RATE_LIMITED,
                message,
                request_id,
                [(b"retry-after", str(seconds).encode())],
            )
        state["actor"] = actor
        return None


def _refusal(
    status: int, code: Code, message: str, request_id: str, headers: list[tuple[bytes, bytes]]
) -> Any:
    body = json.dumps(error_body(code, message, request_id)).encode()

    async def respond(send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return respond
