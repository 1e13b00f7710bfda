"""Building the schema: the core types plus what plugins register, with the request limits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.base import get_object_definition

from ..plugins import PluginHost
from ..settings import Settings
from ._execution import AcyclicExecutionContext
from .errors import type_errors
from .limits import field_count_rule
from .mutations import Mutation
from .queries import Query
from .registrar import Addition, SchemaRegistrar
from .scalars import SCALARS
from .subscriptions import Subscription

__all__ = ["ApiSchema", "build_schema", "schema_sdl"]

log = logging.getLogger(__name__)

MAX_TOKENS = 5000
CACHE_SIZE = 256


class ApiSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Type every error (strawberry calls this for every result, subscription events
        included, before it is sent); unexpected ones are logged there, once."""
        context = None if execution_context is None else execution_context.context
        type_errors(errors, str(getattr(context, "request_id", None) or "-"))


def _names(cls: type) -> set[str]:
    return {f.name for f in get_object_definition(cls, strict=True).fields}


def _root(base: type, name: str, additions: Sequence[Addition]) -> type:
    if not additions:
        return base
    namespace: dict[str, Any] = {f"plugin__{a.name}": a.value for a in additions}
    return strawberry.type(type(name, (base,), namespace), name=name)


def _extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Limits and caches. The validation rules are built once, here: the validation cache
    keys on them, and strawberry's limiters would make new rule classes per request."""
    rules: list[type[ASTValidationRule]] = [
        *QueryDepthLimiter(max_depth=settings.api_max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.api_max_aliases).validation_rules,
        field_count_rule(settings.api_max_complexity),
    ]
    return [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules(rules),
        # A dashboard sends the same few documents again and again: parse and validate each
        # once (bounded LRU caches, so unique documents cannot grow memory).
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
    ]


def _schema(settings: Settings, additions: Sequence[Addition]) -> ApiSchema:
    by_kind: dict[str, list[Addition]] = {"type": [], "query": [], "mutation": []}
    for a in additions:
        by_kind[a.kind].append(a)
    return ApiSchema(
        query=_root(Query, "Query", by_kind["query"]),
        mutation=_root(Mutation, "Mutation", by_kind["mutation"]),
        subscription=Subscription,
        types=[a.value for a in by_kind["type"]],
        extensions=_extensions(settings),
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=AcyclicExecutionContext,
    )


def _plugin_additions(plugins: PluginHost, settings: Settings) -> list[Addition]:
    """Every plugin's additions that build into a schema; a plugin whose additions do not
    (a bad annotation, a type clash strawberry finds) is left out and its record says why."""
    core = _schema(settings, [])
    registrar = SchemaRegistrar(
        {"query": _names(Query), "mutation": _names(Mutation)},
        type_exists=lambda name: core.get_type_by_name(name) is not None,
    )
    plugins.register_graphql(registrar)
    kept: list[Addition] = []
    for plugin in registrar.plugins():
        mine = registrar.of(plugin)
        try:
            _schema(settings, [*kept, *mine])
        except Exception as exc:  # noqa: BLE001 - isolation: the API starts without this plugin's fields
            log.error("plugin %s: its GraphQL additions do not build: %s", plugin, exc)
            for record in plugins.records:
                if record.name == plugin:
                    record.reason = f"tb_register_graphql: {type(exc).__name__}: {exc}"
            continue
        kept.extend(mine)
    return kept


def build_schema(settings: Settings, plugins: PluginHost | None = None) -> ApiSchema:
    additions = [] if plugins is None else _plugin_additions(plugins, settings)
    return _schema(settings, additions)


def schema_sdl(schema: strawberry.Schema) -> str:
    return print_schema(schema) + "\n"
