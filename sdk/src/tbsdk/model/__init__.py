"""The venue-agnostic domain model: frozen pydantic values, Decimal prices and sizes."""

from __future__ import annotations

from .backtests import BacktestDone
from .enums import (
    Liquidity,
    MarginMode,
    MarketType,
    OrderSide,
    OrderType,
    PositionMode,
    PositionSide,
    TimeInForce,
)
from .events import (
    CandleClosed,
    Event,
    FillEvent,
    OrderUpdate,
    PositionChanged,
    RejectReason,
    StopReason,
    Tick,
    TimerFired,
)
from .instrument import Instrument, PriceBand
from .market_data import Candle, CandleArrays, Ticker
from .orders import (
    ALLOWED_TRANSITIONS,
    CLIENT_ORDER_ID_PATTERN,
    Fill,
    Order,
    OrderIntent,
    OrderStatus,
)
from .portfolio import Balance, Direction, Position, Trade

__all__ = [
    "ALLOWED_TRANSITIONS",
    "CLIENT_ORDER_ID_PATTERN",
    "BacktestDone",
    "Balance",
    "Candle",
    "CandleArrays",
    "CandleClosed",
    "Direction",
    "Event",
    "Fill",
    "FillEvent",
    "Instrument",
    "Liquidity",
    "MarginMode",
    "MarketType",
    "Order",
    "OrderIntent",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "Position",
    "PositionChanged",
    "PositionMode",
    "PositionSide",
    "PriceBand",
    "RejectReason",
    "StopReason",
    "Tick",
    "Ticker",
    "TimeInForce",
    "TimerFired",
    "Trade",
]
