"""``OrderJournal``: what the bot runner tells an order store around every exchange call.

It lives apart from :mod:`tbhost.orders.manager` so the runner can name it without importing
the SQL storage: a backtest gives no journal and pays nothing for it.
"""

from __future__ import annotations

from typing import Protocol

from tbsdk.model import Fill, Order, OrderIntent, Position

__all__ = ["OrderJournal"]


class OrderJournal(Protocol):
    """Durable record of a bot's orders. Each call returns once the record is committed.

        ``before_submit`` runs before the intent goes to the exchange; if it raises, nothing is
        sent. The other calls record what the exchange answered or reported since (``on_position``:
    a position as the venue reports it after a change).
    """

    async def before_submit(self, intent: OrderIntent) -> None: ...

    async def after_submit(self, order: Order) -> None: ...

    async def on_update(self, order: Order) -> None: ...

    async def on_fill(self, fill: Fill, order: Order) -> None: ...

    async def on_position(self, position: Position) -> None: ...
