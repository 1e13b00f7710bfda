"""Typed spellings of strawberry's resolver decorators.

``@strawberry.field(description=...)`` is typed as returning ``Any``, which mypy strict
reports as an untyped decorator on every resolver; these say what they do: the decorated
method stays what it was, as far as type checking goes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry

__all__ = ["field", "mutation", "subscription"]

F = TypeVar("F", bound=Callable[..., Any])


def field(*, description: str | None = None) -> Callable[[F], F]:
    decorate: Callable[[F], F] = strawberry.field(description=description)
    return decorate


def mutation(*, description: str | None = None) -> Callable[[F], F]:
    decorate: Callable[[F], F] = strawberry.mutation(description=description)
    return decorate


def subscription(*, description: str | None = None) -> Callable[[F], F]:
    decorate: Callable[[F], F] = strawberry.subscription(description=description)
    return decorate
