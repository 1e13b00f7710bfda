"""Order intents, orders with their state machine, and fills."""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum

from pydantic import Field, model_validator

from ..errors import IllegalTransition
from ._base import FrozenModel
from .enums import Liquidity, OrderSide, OrderType, PositionSide, TimeInForce

__all__ = [
    "ALLOWED_TRANSITIONS",
    "CLIENT_ORDER_ID_PATTERN",
    "Fill",
    "Order",
    "OrderIntent",
    "OrderStatus",
]

CLIENT_ORDER_ID_PATTERN = re.compile(r"^[a-z0-9]{1,32}$")
"""Client order ids are lowercase alphanumerics, at most 32 characters: every supported venue
accepts that form (OKX allows 32, Binance 36, Bybit 36, Bitget 50)."""


class OrderIntent(FrozenModel):
    """What a strategy asks for. The order manager stores it before anything is sent.

    ``client_order_id`` is deterministic (derived from the bot, the position sequence, the purpose
    and the revision), so a retry or a restart re-sends the same id and the venue refuses a
    duplicate instead of opening a second order.
    """

    client_order_id: str = Field(description="Deterministic id; see CLIENT_ORDER_ID_PATTERN.")
    symbol: str
    side: OrderSide
    type: OrderType
    qty: Decimal = Field(ge=0, description="Contracts; 0 only with close_position.")
    price: Decimal | None = Field(default=None, gt=0, description="Limit price.")
    trigger_price: Decimal | None = Field(default=None, gt=0, description="Stop / TP trigger.")
    position_side: PositionSide = PositionSide.NET
    reduce_only: bool = False
    close_position: bool = Field(
        default=False, description="Trigger orders: close whatever is open when triggered."
    )
    post_only: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    tag: str = Field(default="", description="Purpose, e.g. 'entry', 'tp1', 'stop'.")

    @model_validator(mode="after")
    def _check(self) -> OrderIntent:
        cid = self.client_order_id
        if not CLIENT_ORDER_ID_PATTERN.match(cid):
            raise ValueError(f"client_order_id {cid!r} must be 1-32 lowercase letters or digits")
        kind = self.type
        if kind is OrderType.LIMIT and self.price is None:
            raise ValueError(f"{cid}: a limit order needs a price")
        if kind is not OrderType.LIMIT and self.price is not None:
            raise ValueError(f"{cid}: only limit orders take a price; use trigger_price for {kind}")
        if kind.is_trigger and self.trigger_price is None:
            raise ValueError(f"{cid}: a {kind} order needs a trigger_price")
        if not kind.is_trigger and self.trigger_price is not None:
            raise ValueError(f"{cid}: trigger_price is only for stop and take-profit orders")
        if self.post_only and kind is not OrderType.LIMIT:
            raise ValueError(f"{cid}: post_only applies to limit orders only")
        if self.close_position and not kind.is_trigger:
            raise ValueError(f"{cid}: close_position applies to trigger orders only")
        if self.qty == 0 and not self.close_position:
            raise ValueError(f"{cid}: qty must be positive")
        return self


class OrderStatus(StrEnum):
    """Order lifecycle. ``filled``, ``canceled``, ``rejected`` and ``expired`` are terminal."""

    NEW = "new"
    SUBMITTED = "submitted"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_live(self) -> bool:
        """Sent and possibly resting on the venue."""
        return self in _LIVE


_S = OrderStatus
_TERMINAL = frozenset({_S.FILLED, _S.CANCELED, _S.REJECTED, _S.EXPIRED})
_LIVE = frozenset({_S.SUBMITTED, _S.OPEN, _S.PARTIALLY_FILLED})
ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    # A NEW order was stored but not yet sent: it is sent, or refused/dropped before sending.
    _S.NEW: frozenset({_S.SUBMITTED, _S.REJECTED, _S.CANCELED}),
    # A market order may fill before any "open" acknowledgement arrives.
    _S.SUBMITTED: frozenset(
        {_S.OPEN, _S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED, _S.REJECTED, _S.EXPIRED}
    ),
    _S.OPEN: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED, _S.EXPIRED}),
    _S.PARTIALLY_FILLED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED, _S.EXPIRED}),
    _S.FILLED: frozenset(),
    _S.CANCELED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.EXPIRED: frozenset(),
}


class Fill(FrozenModel):
    """One execution of (part of) an order."""

    client_order_id: str
    exchange_order_id: str | None = None
    trade_id: str = Field(description="Venue's execution id; unique per fill.")
    symbol: str
    side: OrderSide
    position_side: PositionSide = PositionSide.NET
    qty: Decimal = Field(gt=0)
    price: Decimal = Field(gt=0)
    fee: Decimal = Decimal(0)
    fee_currency: str = ""
    liquidity: Liquidity = Liquidity.TAKER
    ts: int


class Order(FrozenModel):
    """An intent as it lives on the venue. Change it only through :meth:`transition` and
    :meth:`apply_fill`, which return a new value and refuse illegal moves."""

    intent: OrderIntent
    status: OrderStatus = OrderStatus.NEW
    exchange_order_id: str | None = None
    filled_qty: Decimal = Decimal(0)
    avg_fill_price: Decimal | None = None
    fee: Decimal = Decimal(0)
    created_at: int = 0
    updated_at: int = 0
    reason: str | None = Field(default=None, description="Why it was rejected or canceled.")

    @property
    def client_order_id(self) -> str:
        return self.intent.client_order_id

    @property
    def remaining_qty(self) -> Decimal:
        return self.intent.qty - self.filled_qty

    def transition(
        self,
        status: OrderStatus,
        *,
        at: int,
        reason: str | None = None,
        exchange_order_id: str | None = None,
    ) -> Order:
        """Return the order moved to ``status``; raise :class:`IllegalTransition` if not allowed."""
        return self.model_copy(update=self._moved(status, at, reason, exchange_order_id))

    def _moved(
        self, status: OrderStatus, at: int, reason: str | None, exchange_order_id: str | None
    ) -> dict[str, object]:
        """The fields :meth:`transition` changes; raise if the move is not allowed."""
        if status not in ALLOWED_TRANSITIONS[self.status]:
            raise IllegalTransition(
                f"order {self.client_order_id}: cannot go from {self.status} to {status}"
            )
        return {
            "status": status,
            "updated_at": at,
            "reason": reason if reason is not None else self.reason,
            "exchange_order_id": exchange_order_id or self.exchange_order_id,
        }

    def apply_fill(self, fill: Fill) -> Order:
        """Return the order with ``fill`` added: quantities, average price, fee and status."""
        if fill.client_order_id != self.client_order_id:
            raise IllegalTransition(
                f"fill for {fill.client_order_id} applied to order {self.client_order_id}"
            )
        filled = self.filled_qty + fill.qty
        # close_position orders have no fixed size: any fill completes them.
        if self.intent.qty and filled > self.intent.qty:
            raise IllegalTransition(
                f"order {self.client_order_id}: fill of {fill.qty} exceeds the remaining "
                f"{self.remaining_qty}"
            )
        done = not self.intent.qty or filled == self.intent.qty
        status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
        update = self._moved(status, fill.ts, None, None)
        prev_value = (self.avg_fill_price or Decimal(0)) * self.filled_qty
        update["filled_qty"] = filled
        update["avg_fill_price"] = (prev_value + fill.price * fill.qty) / filled
        update["fee"] = self.fee + fill.fee
        return self.model_copy(update=update)
