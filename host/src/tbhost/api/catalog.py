"""What is installed: plugins with their status, strategies with their config schema."""

from __future__ import annotations

import inspect
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from tbsdk.groups import STRATEGIES

from ..plugins import PluginHost
from ..plugins.records import PluginStatus
from .scalars import JSON
from .types import ConfigField, Plugin, Strategy

__all__ = ["plugins", "strategies"]


def plugins(host: PluginHost) -> list[Plugin]:
    return [
        Plugin(
            name=r.name,
            group=r.group,
            distribution=r.distribution,
            version=r.version,
            api_version=r.api_version,
            status=str(r.status),
            reason=r.reason,
        )
        for r in host.records
    ]


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None)
    if text and not getattr(annotation, "__args__", None):
        return str(text)
    return str(annotation).replace("typing.", "").replace("decimal.", "")


def _bounds(schema: dict[str, Any]) -> dict[str, Any]:
    """Bounds and choices of one property; for a union (a Decimal accepts a number or a
    string) the first branch that has any."""
    branches = [schema, *schema.get("anyOf", [])]
    keys = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "enum")
    for branch in branches:
        found = {k: branch[k] for k in keys if k in branch}
        if found:
            return found
    return {}


def _number(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return Decimal(int(value))  # JSON Schema writes gt=0 on a Decimal as 0.0
    return Decimal(str(value))


def _fields(config: type[BaseModel]) -> list[ConfigField]:
    properties = config.model_json_schema().get("properties", {})
    out: list[ConfigField] = []
    for name, info in config.model_fields.items():
        schema = properties.get(info.alias or name, {})
        bounds = _bounds(schema)
        required = info.is_required()
        out.append(
            ConfigField(
                name=name,
                type=_type_name(info.annotation),
                required=required,
                default=None if required else JSON(schema.get("default")),
                description=info.description,
                minimum=_number(bounds.get("minimum")),
                exclusive_minimum=_number(bounds.get("exclusiveMinimum")),
                maximum=_number(bounds.get("maximum")),
                exclusive_maximum=_number(bounds.get("exclusiveMaximum")),
                choices=[str(c) for c in bounds["enum"]] if "enum" in bounds else None,
            )
        )
    return out


def strategies(host: PluginHost) -> list[Strategy]:
    out: list[Strategy] = []
    for record in host.records:
        if record.group != STRATEGIES or record.status is not PluginStatus.OK:
            continue
        cls = record.obj
        config: type[BaseModel] = cls.config_class
        out.append(
            Strategy(
                name=record.name,
                distribution=record.distribution,
                version=record.version,
                description=inspect.cleandoc(cls.__doc__) if cls.__doc__ else None,
                fields=_fields(config),
                json_schema=JSON(config.model_json_schema()),
            )
        )
    return out
