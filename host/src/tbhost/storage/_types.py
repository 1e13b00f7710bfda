"""Column types that keep money exact and enums honest on both SQLite and PostgreSQL."""

from __future__ import annotations

import time
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, Integer, Numeric, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["ExactDecimal", "StrEnumType", "id_pk_type", "now_ms"]

E = TypeVar("E", bound=StrEnum)


def now_ms() -> int:
    """Wall-clock time in UTC milliseconds, the unit of every timestamp column (as in the SDK)."""
    return time.time_ns() // 1_000_000


def id_pk_type() -> TypeEngine[int]:
    """BIGINT identity on PostgreSQL; INTEGER on SQLite, where only ``INTEGER PRIMARY KEY``
    is the auto-incrementing rowid."""
    return BigInteger().with_variant(Integer(), "sqlite")


def _exact(value: object) -> Decimal:
    # bool is an int subclass; True is no amount of money.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(
            f"decimal columns take Decimal or int, not {type(value).__name__} ({value!r}): "
            "a float is never exact"
        )
    exact = Decimal(value)
    if not exact.is_finite():
        raise ValueError(f"decimal columns take finite numbers, not {exact}")
    return exact


class ExactDecimal(TypeDecorator[Decimal]):
    """Any finite ``Decimal``, stored without rounding.

    PostgreSQL: unconstrained ``NUMERIC``, which keeps every digit and the scale it was given
    (``NUMERIC(38, 18)`` would silently round an average price with 28 significant digits).
    SQLite: text, because a column with NUMERIC affinity keeps only 15 significant digits.
    The price is that SQL comparisons on these columns are textual on SQLite; filters use ids,
    symbols, statuses and timestamps, never amounts.
    """

    impl = Numeric(asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = _exact(value)
        return format(exact, "f") if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        if isinstance(value, str):
            return Decimal(value)
        raise TypeError(f"a decimal column returned {type(value).__name__} {value!r}")

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A ``StrEnum`` stored as its value in a ``VARCHAR``.

    No database CHECK or native enum: adding a member then needs no migration, and the Python
    side refuses an unknown value on write and on read.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 32) -> None:
        super().__init__(length)
        self.enum = enum
        self.length = length

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)

    @property
    def python_type(self) -> type[E]:
        return self.enum
