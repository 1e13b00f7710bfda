from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple, Self

from pydantic import BaseModel, ConfigDict

_REQUIRED: Any = object()
_IMMUTABLE = (str, int, float, bool, type(None), Decimal, Enum)
_set_attr = object.__setattr__
_new = object.__new__


class _Plan(NamedTuple):
    """How to build an instance of a simple model without pydantic's general machinery."""

    template: dict[str, Any]
    """Every field in declaration order: its default, or ``_REQUIRED``."""
    required: tuple[str, ...]


_plans: dict[type[BaseModel], _Plan | None] = {}


def _plan(cls: type[BaseModel]) -> _Plan | None:
    """The construction plan of ``cls``, or None if it needs pydantic's general path (aliases,
    default factories, mutable defaults, private attributes, extra fields, post-init)."""
    try:
        return _plans[cls]
    except KeyError:
        pass
    plan: _Plan | None = None
    simple = (
        cls.__new__ is _new
        and not cls.__pydantic_post_init__
        and not cls.__private_attributes__
        and cls.model_config.get("extra") != "allow"
        and not cls.__pydantic_root_model__
    )
    if simple:
        template: dict[str, Any] = {}
        for name, field in cls.__pydantic_fields__.items():
            if field.alias is not None or field.validation_alias is not None:
                break
            if field.is_required():
                template[name] = _REQUIRED
            elif field.default_factory is None and isinstance(field.default, _IMMUTABLE):
                # pydantic hands out deep copies of defaults: of these, the object itself.
                template[name] = field.default
            else:
                break
        else:
            plan = _Plan(template, tuple(k for k, v in template.items() if v is _REQUIRED))
    _plans[cls] = plan
    return plan


class FrozenModel(BaseModel):
    """Base of every domain value: immutable, strict about unknown fields, JSON round-trippable.

    ``model_construct`` and ``model_copy`` behave exactly as pydantic documents them; for the
    plain models of this package (no aliases, factories or private attributes) they take a
    shorter path, because the engine builds and copies orders and events on its hot path.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    @classmethod
    def model_construct(  # type: ignore[override]  # pydantic's mypy plugin types it per model
        cls, _fields_set: set[str] | None = None, **values: Any
    ) -> Self:
        plan = _plans.get(cls) or _plan(cls)
        if plan is None:
            return super().model_construct(_fields_set, **values)
        template = plan.template
        data = template.copy()
        data.update(values)
        if len(data) != len(template):
            # Unknown names are ignored, as pydantic does: the general path drops them.
            return super().model_construct(_fields_set, **values)
        if len(values) != len(template):
            for name in plan.required:
                if data[name] is _REQUIRED:
                    del data[name]  # missing, as pydantic leaves it
        m = _new(cls)
        _set_attr(m, "__dict__", data)
        _set_attr(m, "__pydantic_fields_set__", set(values) if _fields_set is None else _fields_set)
        _set_attr(m, "__pydantic_extra__", None)
        _set_attr(m, "__pydantic_private__", None)
        return m

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        cls = type(self)
        if deep or self.__pydantic_extra__ is not None or (_plans.get(cls) or _plan(cls)) is None:
            return super().model_copy(update=update, deep=deep)
        m = _new(cls)
        data = self.__dict__.copy()
        fields_set = set(self.__pydantic_fields_set__)
        if update:
            data.update(update)
            fields_set.update(update.keys())
        _set_attr(m, "__dict__", data)
        _set_attr(m, "__pydantic_fields_set__", fields_set)
        _set_attr(m, "__pydantic_extra__", None)
        _set_attr(m, "__pydantic_private__", None)
        return m
