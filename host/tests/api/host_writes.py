"""Writes the trading host makes, done here through the storage repositories exactly as the
order manager and the live host do them (``orders/manager.py``, ``live/host.py``), so the API
sees what a host in another process would store."""

from __future__ import annotations

from decimal import Decimal

from tbhost.storage import Database
from tbhost.storage.repos import notifications, orders, portfolio
from tbsdk.model import (
    Direction,
    Fill,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    Trade,
)


class HostWriter:
    def __init__(self, db: Database, account_id: str) -> None:
        self.db = db
        self.account_id = account_id
        self.orders: dict[str, Order] = {}

    async def place(
        self,
        bot_id: str,
        cid: str,
        *,
        symbol: str = "BTC/USDT",
        side: OrderSide = OrderSide.BUY,
        qty: str = "0.5",
        price: str = "20000",
        at: int = 1_700_000_000_000,
    ) -> Order:
        """Store the intent (status new), then the venue's acknowledgement (submitted)."""
        intent = OrderIntent(
            client_order_id=cid,
            symbol=symbol,
            side=side,
            type=OrderType.LIMIT,
            qty=Decimal(qty),
            price=Decimal(price),
            tag="entry",
        )
        async with self.db.transaction() as s:
            row = await orders.add_order(
                s, account_id=self.account_id, intent=intent, bot_id=bot_id, at=at
            )
            order = orders.to_order(row).transition(
                OrderStatus.SUBMITTED, at=at + 1, exchange_order_id=f"x{cid}"
            )
            await orders.save_order(s, self.account_id, order)
        self.orders[cid] = order
        return order

    async def fill(
        self, cid: str, trade_id: str, qty: str, price: str, *, ts: int = 1_700_000_000_500
    ) -> Order:
        order = self.orders[cid]
        fill = Fill(
            client_order_id=cid,
            exchange_order_id=order.exchange_order_id,
            trade_id=trade_id,
            symbol=order.intent.symbol,
            side=order.intent.side,
            qty=Decimal(qty),
            price=Decimal(price),
            fee=Decimal("0.01"),
            fee_currency="USDT",
            ts=ts,
        )
        updated = order.apply_fill(fill)
        async with self.db.transaction() as s:
            await orders.add_fill(s, self.account_id, fill)
            await orders.save_order(s, self.account_id, updated)
        self.orders[cid] = updated
        return updated

    async def cancel(self, cid: str, *, at: int = 1_700_000_001_000) -> Order:
        order = self.orders[cid].transition(OrderStatus.CANCELED, at=at, reason="by test")
        async with self.db.transaction() as s:
            await orders.save_order(s, self.account_id, order)
        self.orders[cid] = order
        return order

    async def position(
        self, bot_id: str, size: str, *, symbol: str = "BTC/USDT", at: int = 1_700_000_000_600
    ) -> None:
        position = Position(
            symbol=symbol,
            direction=Direction.LONG,
            size=Decimal(size),
            entry_price=Decimal("20000") if Decimal(size) else None,
            unrealized_pnl=Decimal("1.5"),
            updated_at=at,
        )
        async with self.db.transaction() as s:
            await portfolio.save_position(
                s, bot_id=bot_id, account_id=self.account_id, position=position
            )

    async def trade(self, bot_id: str, pnl: str, closed_at: int, *, fees: str = "0.1") -> None:
        trade = Trade(
            symbol="BTC/USDT",
            direction=Direction.LONG,
            qty=Decimal("0.5"),
            entry_price=Decimal("20000"),
            exit_price=Decimal("20100"),
            opened_at=closed_at - 3_600_000,
            closed_at=closed_at,
            pnl=Decimal(pnl),
            fees=Decimal(fees),
            exit_reason="take_profit",
        )
        async with self.db.transaction() as s:
            await portfolio.add_trade(s, bot_id=bot_id, account_id=self.account_id, trade=trade)

    async def notify(self, bot_id: str | None, kind: str, message: str) -> None:
        async with self.db.transaction() as s:
            await notifications.add_notification(
                s, kind=kind, message=message, data={"n": message}, bot_id=bot_id
            )
