"""Scalars GraphQL lacks: 64-bit integers (epoch milliseconds, chat ids) and JSON objects.

GraphQL's ``Int`` is 32-bit, too small for millisecond timestamps. Money is strawberry's
``Decimal`` scalar: an exact string such as ``"0.1"``, never a float.
"""

from __future__ import annotations

from typing import Any, NewType

import strawberry
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

__all__ = ["JSON", "SCALARS", "Long", "parse_long"]

Long = NewType("Long", int)

_MAX = 2**63 - 1


def parse_long(value: Any) -> Long:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"Long must be an integer, not {type(value).__name__}")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"Long must be an integer, not {value!r}") from None
    if not -_MAX - 1 <= number <= _MAX:
        raise ValueError("Long must fit in 64 bits")
    return Long(number)


SCALARS: dict[object, ScalarDefinition] = {
    Long: strawberry.scalar(
        name="Long",
        description="A 64-bit integer, e.g. epoch milliseconds (UTC); a JSON number.",
        serialize=int,
        parse_value=parse_long,
    )
}
"""The ``scalar_map`` of the schema's config."""
