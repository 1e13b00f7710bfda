"""``create_app``: the app serving GraphQL, health, readiness and metrics.

``/graphql`` is strawberry's ASGI app, reached straight from :class:`ApiMiddleware` (which
authenticates and rate-limits it first); FastAPI serves the rest. A GraphQL request thus skips
FastAPI's routing and dependency injection, a fair share of a small query's cost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from ..plugins import PluginHost
from ..settings import Settings
from ..storage import Database
from .context import ApiContext
from .health import health_router
from .middleware import ApiMiddleware, bearer_token
from .schema import ApiSchema, build_schema
from .state import ApiServices
from .websocket import TransportWS

__all__ = ["create_app"]


class _GraphQL(GraphQL[ApiContext, None]):
    """Strawberry's ASGI app: the caller of an HTTP request is the one the middleware found;
    a WebSocket's is taken from ``connection_init``, then rate-limited and re-checked by
    :class:`~.websocket.TransportWS`."""

    graphql_transport_ws_handler_class = TransportWS

    def __init__(self, schema: ApiSchema, services: ApiServices) -> None:
        super().__init__(schema, keep_alive=True, keep_alive_interval=15)
        self.services = services

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> ApiContext:
        state = request.scope.get("state", {})
        context = ApiContext(self.services, state.get("actor"), state.get("request_id", "-"))
        context.request = request
        return context

    async def on_ws_connect(self, context: ApiContext) -> UnsetType | dict[str, object] | None:
        """A WebSocket's token: ``{"Authorization": "Bearer <token>"}`` in the
        ``connection_init`` payload (browsers cannot set headers on a WebSocket), or the
        upgrade request's ``Authorization`` header. Without a valid one: closed with 4403."""
        params = context.connection_params or {}
        raw = params.get("Authorization") or params.get("authorization")
        token = bearer_token(raw if isinstance(raw, str) else None)
        if token is None and context.request is not None:
            token = bearer_token(context.request.headers.get("authorization"))
        actor = None if token is None else await self.services.users.actor_for_token(token)
        if actor is None or token is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        context.actor = actor
        context.token = token
        unset: UnsetType = UNSET
        return unset


def create_app(
    settings: Settings,
    db: Database,
    plugins: PluginHost,
    *,
    services: ApiServices | None = None,
    schema: ApiSchema | None = None,
) -> FastAPI:
    """The app on an open, migrated ``db``; the caller owns the database's lifetime."""
    services = services or ApiServices.build(settings, db, plugins)
    schema = schema or build_schema(settings, plugins)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            services.close()

    app = FastAPI(
        title="TradingBoost",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.schema = schema
    app.include_router(health_router(services))
    app.add_middleware(ApiMiddleware, services=services, graphql=_GraphQL(schema, services))
    if settings.api_cors_origins:
        # Outermost, so preflights and refusals (401, 429) carry the CORS headers too.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.api_cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    return app
