"""What every repository shares: ids, keyset pagination, inserts that may hit a unique key."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from ..errors import StorageError

__all__ = ["MAX_LIMIT", "filtered", "insert", "new_id", "paginate"]

T = TypeVar("T")

MAX_LIMIT = 1000


def new_id() -> str:
    """A random 32-character id for users, tokens, accounts and bots."""
    return uuid.uuid4().hex


def filtered(
    stmt: Select[T],
    equal: Mapping[InstrumentedAttribute[Any], object | None],
    time: InstrumentedAttribute[int],
    since: int | None,
    until: int | None,
) -> Select[T]:
    """``stmt`` narrowed to rows whose columns equal every given (non-None) value and whose
    ``time`` lies in ``[since, until)``: the filters every listing offers."""
    for column, value in equal.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(time >= since)
    if until is not None:
        stmt = stmt.where(time < until)
    return stmt


def paginate(
    stmt: Select[T],
    id_column: InstrumentedAttribute[int],
    *,
    after_id: int | None,
    limit: int,
    newest_first: bool,
) -> Select[T]:
    """Keyset pagination on an increasing integer id: ``after_id`` is the last id of the page
    before, in the chosen order. Stable while rows are added, unlike OFFSET."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if after_id is not None:
        stmt = stmt.where(id_column < after_id if newest_first else id_column > after_id)
    order = id_column.desc() if newest_first else id_column.asc()
    return stmt.order_by(order).limit(limit)


async def insert(
    session: AsyncSession,
    row: object,
    *,
    what: str,
    conflict: Callable[[], Awaitable[StorageError | None]],
) -> None:
    """Add and flush ``row`` inside a SAVEPOINT, so a refused insert leaves the caller's
    transaction usable. ``conflict`` says which error a unique-key clash is (it runs after the
    clash, so it can look at the row already stored); other integrity errors, such as a
    reference to a missing row, are reported as they are."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        error = await conflict()
        if error is not None:
            raise error from exc
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise StorageError(f"cannot store {what}: {reason}") from exc
