"""``SchemaRegistrar``: what plugins add to the GraphQL schema through ``tb_register_graphql``.

A plugin adds strawberry types, query fields and mutations; each is recorded with the plugin
that added it, and a name already taken (by the core schema or another plugin) is refused with
a ``ValueError`` naming the owner, so the plugin manager leaves that plugin's additions out.
A resolver can be a plain function with annotations (no strawberry import needed for scalar
results); a mutation resolver that wants the caller declares ``info: strawberry.Info`` and
reads ``info.context.actor``. Plugin mutations are refused to viewers, who only look.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.permission import BasePermission
from strawberry.types.base import get_object_definition, has_object_definition
from strawberry.types.field import StrawberryField

from ..services import Forbidden
from ..storage.models import Role

__all__ = ["Addition", "SchemaRegistrar"]

_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


class NotViewer(BasePermission):
    """Plugin mutations change something: viewers may not call them."""

    message = "viewers may not call mutations"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        actor = info.context.actor
        if actor is None or actor.role is Role.VIEWER:
            role = "none" if actor is None else actor.role.value
            raise Forbidden(
                f"call plugin mutation {info.field_name} (needs role trader or admin)",
                role,
                who=None if actor is None else actor.username,
            )
        return True


@dataclass(frozen=True)
class Addition:
    plugin: str
    kind: str
    """``type``, ``query`` or ``mutation``."""
    name: str
    value: Any
    """The strawberry type, or the ``StrawberryField`` of a query or mutation."""


class SchemaRegistrar:
    """Collects plugins' additions; ``reserved`` holds the core schema's names per kind."""

    def __init__(
        self,
        reserved: dict[str, set[str]],
        type_exists: Callable[[str], bool] = lambda _name: False,
    ) -> None:
        self.reserved = {kind: set(names) for kind, names in reserved.items()}
        self.type_exists = type_exists
        self.additions: list[Addition] = []
        self.current_plugin = "?"

    def _claim(self, kind: str, name: str) -> None:
        if not _NAME.match(name) or name.startswith("__"):
            raise ValueError(f"{name!r} is not a valid GraphQL name for a {kind}")
        if name in self.reserved.get(kind, set()) or (kind == "type" and self.type_exists(name)):
            raise ValueError(f"{kind} {name!r} already exists in the core schema")
        for other in self.additions:
            if other.kind == kind and other.name == name:
                raise ValueError(f"{kind} {name!r} already exists (added by {other.plugin})")

    def _add(self, kind: str, name: str, value: Any) -> None:
        self._claim(kind, name)
        self.additions.append(Addition(self.current_plugin, kind, name, value))

    def add_type(self, type_: type) -> None:
        if not has_object_definition(type_):
            raise TypeError(f"add_type needs a strawberry.type class, got {type_!r}")
        self._add("type", get_object_definition(type_, strict=True).name, type_)

    def _field(self, name: str, resolver: Callable[..., Any], description: str) -> StrawberryField:
        if not callable(resolver):
            raise TypeError(f"the resolver of {name!r} must be callable, got {resolver!r}")
        made: StrawberryField = strawberry.field(
            resolver=resolver, name=name, description=description or None
        )
        return made

    def add_query(self, name: str, resolver: Callable[..., Any], description: str = "") -> None:
        self._add("query", name, self._field(name, resolver, description))

    def add_mutation(self, name: str, resolver: Callable[..., Any], description: str = "") -> None:
        if not callable(resolver):
            raise TypeError(f"the resolver of {name!r} must be callable, got {resolver!r}")
        field = strawberry.mutation(
            resolver=resolver,
            name=name,
            description=description or None,
            permission_classes=[NotViewer],
        )
        self._add("mutation", name, field)

    def discard(self, plugin: str) -> None:
        """Forget everything ``plugin`` added (it failed part-way)."""
        self.additions = [a for a in self.additions if a.plugin != plugin]

    def plugins(self) -> list[str]:
        return list(dict.fromkeys(a.plugin for a in self.additions))

    def of(self, plugin: str) -> list[Addition]:
        return [a for a in self.additions if a.plugin == plugin]
