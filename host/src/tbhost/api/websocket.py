"""graphql-transport-ws with the HTTP rules applied to a socket's whole life.

* Rate limit: every ``subscribe`` message spends one request of the token's budget, the same
  bucket its HTTP requests draw from. Over the budget, that operation is refused with an
  ``error`` message (``extensions.code = RATE_LIMITED``, ``retryAfter`` in seconds); the
  socket and its other operations go on.
* Token re-check: the token given in ``connection_init`` is checked again every
  ``api_token_cache_s`` (1 s when that cache is off) and before each ``subscribe``; a new role
  applies to the operations started after. Once it is refused (revoked, expired, its user
  disabled), every running operation gets an ``error`` message with
  ``extensions.code = UNAUTHENTICATED`` (in graphql-transport-ws an ``error`` ends its
  operation: no ``complete`` follows), then the socket is closed with 4403 (Forbidden), the
  code the protocol uses for a refused ``connection_init``. A check that cannot reach the
  database is logged and tried again at the next period.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from ..cancellation import raise_if_cancelling
from ..services import Actor
from .context import ApiContext
from .errors import Code
from .state import ApiServices

__all__ = ["CLOSE_FORBIDDEN", "TransportWS", "rate_key"]

log = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403
_PERIOD_WHEN_UNCACHED_S = 1.0


def rate_key(token: str) -> str:
    """The rate limiter's key of a token (its SHA-256, as for HTTP requests)."""
    return hashlib.sha256(token.encode()).hexdigest()


class TransportWS(BaseGraphQLTransportWSHandler[ApiContext, None]):
    _watcher: asyncio.Task[None] | None = None

    @property
    def _services(self) -> ApiServices:
        return self.context.services

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.context.token is not None:
            self._watcher = asyncio.create_task(self._watch(self.context.token))

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        token = self.context.token
        if not self.connection_acknowledged or token is None or message["id"] in self.operations:
            await super().handle_subscribe(message)  # the protocol's own refusals
            return
        if await self._refresh(token) is None:
            await self._end_unauthenticated(refused=message["id"])
            return
        wait = self._services.limiter.allow(rate_key(token))
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            limit = self._services.settings.api_rate_limit_per_minute
            await self._send_error(
                message["id"],
                Code.RATE_LIMITED,
                f"rate limit of {limit} requests a minute for this token reached; "
                f"retry in {seconds} s",
                retryAfter=seconds,
            )
            return
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await super().shutdown()

    async def _watch(self, token: str) -> None:
        ttl = self._services.tokens.ttl_s
        period = ttl if ttl > 0 else _PERIOD_WHEN_UNCACHED_S
        while True:
            await asyncio.sleep(period)
            try:
                actor = await self._refresh(token)
            except Exception:  # a database hiccup: check again next period
                raise_if_cancelling()  # not if the socket is closing: then the watch ends
                log.warning(
                    "request %s: could not re-check a WebSocket's token",
                    self.context.request_id,
                    exc_info=True,
                )
                continue
            if actor is None:
                await self._end_unauthenticated()
                return

    async def _refresh(self, token: str) -> Actor | None:
        """The token's actor now (through the API's token cache), kept for new operations."""
        actor = await self._services.tokens.actor(token)
        if actor is not None:
            self.context.actor = actor
        return actor

    async def _end_unauthenticated(self, refused: str | None = None) -> None:
        """Every running operation (and ``refused``, a subscribe not started) gets an
        UNAUTHENTICATED error; then the socket is closed as Forbidden."""
        self.context.actor = None
        message = "the API token is no longer valid (revoked, expired or its user disabled)"
        with contextlib.suppress(Exception):  # the client may be gone already
            for operation in list(self.operations.values()):
                if operation.task is not None:
                    operation.task.cancel()
                await operation.send_operation_message(
                    {
                        "id": operation.id,
                        "type": "error",
                        "payload": [self._error(Code.UNAUTHENTICATED, message)],
                    }
                )
            if refused is not None:
                await self._send_error(refused, Code.UNAUTHENTICATED, message)
            await self.websocket.close(code=CLOSE_FORBIDDEN, reason="Forbidden")

    async def _send_error(self, operation_id: str, code: Code, message: str, **extra: Any) -> None:
        await self.send_message(
            {"id": operation_id, "type": "error", "payload": [self._error(code, message, **extra)]}
        )

    def _error(self, code: Code, message: str, **extra: Any) -> Any:
        return {
            "message": message,
            "extensions": {**extra, "code": code.value, "requestId": self.context.request_id},
        }
