"""The service views as the JSON records the CLI prints (see :mod:`.output` for the rules).

One function per view, so each command's JSON has the same fields wherever it appears (a bot
from ``bots create`` is a bot from ``bots show``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar

from .output import record

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..services import (
        Account,
        AuditEntry,
        Bot,
        CloseRequest,
        Item,
        Page,
        PnlSummary,
        StrategySnapshot,
        Token,
        User,
    )

__all__ = [
    "account_record",
    "audit_record",
    "bot_record",
    "close_record",
    "item_record",
    "page_record",
    "pnl_record",
    "snapshot_record",
    "token_record",
    "user_record",
]

T = TypeVar("T")
M = TypeVar("M", bound="BaseModel")


def bot_record(bot: Bot) -> dict[str, Any]:
    return record(asdict(bot))


def account_record(account: Account) -> dict[str, Any]:
    return record(asdict(account))


def user_record(user: User) -> dict[str, Any]:
    return record(asdict(user))


def token_record(token: Token) -> dict[str, Any]:
    return record(asdict(token))


def audit_record(entry: AuditEntry) -> dict[str, Any]:
    return record(asdict(entry))


def close_record(request: CloseRequest) -> dict[str, Any]:
    return record(asdict(request))


def snapshot_record(snapshot: StrategySnapshot | None) -> dict[str, Any] | None:
    return None if snapshot is None else record(asdict(snapshot))


def pnl_record(summary: PnlSummary) -> dict[str, Any]:
    return record({**asdict(summary), "gross_pnl": summary.gross_pnl})


def item_record(item: Item[M]) -> dict[str, Any]:
    """A stored order, fill, position or trade: whose it is, then the SDK value's fields
    (an order's intent fields first, at the top level)."""
    fields = item.value.model_dump()
    intent = fields.pop("intent", {})
    return record(
        {"id": item.id, "bot_id": item.bot_id, "account_id": item.account_id, **intent, **fields}
    )


def page_record(page: Page[T], convert: Any) -> dict[str, Any]:
    """A page: its records, and the cursor of the next page (``null`` on the last)."""
    return {"items": [convert(x) for x in page.items], "next_cursor": page.next_after}
