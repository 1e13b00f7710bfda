"""Events a strategy receives. Each is delivered once, in timestamp order, one at a time."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from ._base import FrozenModel
from .market_data import Candle
from .orders import Fill, Order
from .portfolio import Position

__all__ = [
    "CandleClosed",
    "Event",
    "FillEvent",
    "OrderUpdate",
    "PositionChanged",
    "RejectReason",
    "StopReason",
    "Tick",
    "TimerFired",
]


class CandleClosed(FrozenModel):
    """A candle of a subscribed timeframe has closed. ``replay`` marks catch-up candles
    delivered after a restart, which must not trigger new entries on stale prices."""

    symbol: str
    timeframe: str
    candle: Candle
    replay: bool = False


class Tick(FrozenModel):
    """Last trade price (intrabar subscriptions only; throttled by the host)."""

    symbol: str
    price: Decimal
    ts: int


class RejectReason(StrEnum):
    """Normalised reasons a venue refuses an order."""

    INSUFFICIENT_MARGIN = "insufficient_margin"
    WOULD_TRIGGER_IMMEDIATELY = "would_trigger_immediately"
    REDUCE_ONLY_CONFLICT = "reduce_only_conflict"
    MIN_SIZE = "min_size"
    DUPLICATE_CLIENT_ID = "duplicate_client_id"
    VETOED = "vetoed"
    OTHER = "other"


class OrderUpdate(FrozenModel):
    """An order changed status (open, canceled, rejected, expired). Fills come as FillEvent."""

    order: Order
    by_strategy: bool = False
    reject_reason: RejectReason | None = None


class FillEvent(FrozenModel):
    """An execution; ``order`` is the order after the fill (``partially_filled`` or ``filled``)."""

    fill: Fill
    order: Order


class PositionChanged(FrozenModel):
    """The venue reports a new state of the position for (symbol, book)."""

    position: Position


class TimerFired(FrozenModel):
    """A timer the strategy armed has come due."""

    name: str
    ts: int


class StopReason(StrEnum):
    """Why a strategy is being stopped."""

    OPERATOR = "operator"
    SHUTDOWN = "shutdown"
    REMOVED = "removed"
    FAULTED = "faulted"
    FINISHED = "finished"


Event = CandleClosed | Tick | OrderUpdate | FillEvent | PositionChanged | TimerFired
