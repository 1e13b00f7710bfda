"""What every resolver gets: the services, the caller and the request id."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection
from strawberry.types import Info

from ..services import Actor
from .errors import ApiError, Code
from .reads import SnapshotReads
from .state import ApiServices

__all__ = ["ApiContext", "actor_of", "services_of"]


class ApiContext:
    """``actor`` is set by the HTTP middleware from the bearer token, or by the WebSocket
    ``connection_init``; a resolver never runs for nobody (see :func:`actor_of`). ``reads``
    runs the root fields' reads of one request in one transaction."""

    def __init__(self, services: ApiServices, actor: Actor | None, request_id: str) -> None:
        self.services = services
        self.actor = actor
        self.request_id = request_id
        self.reads = SnapshotReads(services.queries)
        self.request: HTTPConnection | None = None
        self.connection_params: dict[str, Any] | None = None
        self.token: str | None = None
        """A WebSocket's bearer token, to check it again while the socket lives (never sent)."""


def actor_of(info: Info[ApiContext, None]) -> Actor:
    actor = info.context.actor
    if actor is None:
        raise ApiError(Code.UNAUTHENTICATED, "a valid API token is required")
    return actor


def services_of(info: Info[ApiContext, None]) -> ApiServices:
    return info.context.services
