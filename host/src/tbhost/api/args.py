"""Checks of list arguments shared by queries and subscriptions: cursors and page sizes."""

from __future__ import annotations

from .errors import ApiError, Code

__all__ = ["MAX_PAGE", "after_id", "page_size"]

MAX_PAGE = 500


def after_id(cursor: str | None, arg: str = "after") -> int | None:
    """The row id a cursor stands for (cursors are the ``nextCursor`` of a page)."""
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 18:
        raise ApiError(Code.BAD_REQUEST, f"{arg}: {cursor!r} is not a cursor from nextCursor")
    return int(cursor)


def page_size(limit: int, arg: str = "limit") -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ApiError(Code.BAD_REQUEST, f"{arg} must be between 1 and {MAX_PAGE}, not {limit}")
    return limit


def time_range(since: int | None, until: int | None) -> None:
    if since is not None and until is not None and since >= until:
        raise ApiError(Code.BAD_REQUEST, "since must be before until")
