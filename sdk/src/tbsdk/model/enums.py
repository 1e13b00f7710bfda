"""Enumerations shared by the domain model. Values are the lowercase strings used on the wire."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Liquidity",
    "MarginMode",
    "MarketType",
    "OrderSide",
    "OrderType",
    "PositionMode",
    "PositionSide",
    "TimeInForce",
]


class OrderSide(StrEnum):
    """Direction of an order."""

    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> OrderSide:
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY


class PositionSide(StrEnum):
    """Which position book an order or position belongs to.

    ``net`` in one-way accounts; ``long`` / ``short`` in hedge-mode accounts, where both books
    exist side by side.
    """

    NET = "net"
    LONG = "long"
    SHORT = "short"


class PositionMode(StrEnum):
    """Account position mode: one net position per symbol, or separate long and short books."""

    ONE_WAY = "one_way"
    HEDGE = "hedge"


class OrderType(StrEnum):
    """Order types every adapter understands.

    ``stop_market`` and ``take_profit_market`` are trigger orders that send a market order when
    the last price crosses ``trigger_price``: a stop triggers against the position (price moving
    away from profit), a take-profit in its favour.
    """

    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"
    TAKE_PROFIT_MARKET = "take_profit_market"

    @property
    def is_trigger(self) -> bool:
        return self in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)


class TimeInForce(StrEnum):
    """How long a limit order rests: good-till-cancel, immediate-or-cancel, fill-or-kill."""

    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class MarketType(StrEnum):
    """Kind of instrument, as ccxt names them."""

    SPOT = "spot"
    SWAP = "swap"
    FUTURE = "future"


class MarginMode(StrEnum):
    """Margin mode of a derivatives position."""

    ISOLATED = "isolated"
    CROSS = "cross"


class Liquidity(StrEnum):
    """Whether a fill added liquidity (maker) or took it (taker)."""

    MAKER = "maker"
    TAKER = "taker"
