"""``create_app``: the FastAPI app serving GraphQL, health, readiness and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.types.unset import UNSET, UnsetType

from ..plugins import PluginHost
from ..settings import Settings
from ..storage import Database
from .context import ApiContext
from .health import health_router
from .middleware import GRAPHQL_PATH, ApiMiddleware, bearer_token
from .schema import ApiSchema, build_schema
from .state import ApiServices

__all__ = ["create_app"]


class _Router(GraphQLRouter[ApiContext, None]):
    """Strawberry's router, with the caller of a WebSocket taken from ``connection_init``."""

    def __init__(self, schema: ApiSchema, services: ApiServices) -> None:
        async def context(connection: HTTPConnection) -> ApiContext:
            state = connection.scope.get("state", {})
            return ApiContext(services, state.get("actor"), state.get("request_id", "-"))

        super().__init__(schema, context_getter=context, keep_alive=True, keep_alive_interval=15)
        self.services = services

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
        if actor is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        context.actor = actor
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
            services.jobs.shutdown()

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
    app.include_router(_Router(schema, services), prefix=GRAPHQL_PATH)
    app.add_middleware(ApiMiddleware, services=services)
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
