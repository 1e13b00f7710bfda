"""The GraphQL control API: FastAPI + strawberry at ``/graphql`` (GraphiQL, subscriptions over
graphql-transport-ws), ``/healthz``, ``/readyz`` and ``/metrics``. See ``docs/api/``.

Every resolver calls the service layer as the caller its bearer token stands for.
"""

from __future__ import annotations

from .app import create_app
from .metrics import ApiMetrics
from .schema import build_schema, schema_sdl
from .server import serve_api
from .state import ApiServices

__all__ = ["ApiMetrics", "ApiServices", "build_schema", "create_app", "schema_sdl", "serve_api"]
