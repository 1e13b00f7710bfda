"""Shared instruments and a small driver for hand-made candles."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tb_exchange_paper import EngineEvent, PaperConfig, PaperEngine
from tbsdk.model import (
    Fill,
    FillEvent,
    Instrument,
    Order,
    OrderIntent,
    OrderSide,
    OrderType,
    OrderUpdate,
    Position,
    PositionSide,
)

# pytest runs with --import-mode=importlib: make the shared instruments module importable.
sys.path.insert(0, str(Path(__file__).parent))

from paper_instruments import SPOT, SWAP

D = Decimal
HOUR = 3_600_000


class Venue:
    """One engine and one symbol: place orders and feed hourly candles."""

    def __init__(self, engine: PaperEngine, inst: Instrument) -> None:
        self.engine = engine
        self.inst = inst
        self.symbol = inst.symbol
        self.ts = 0

    def place(
        self,
        cid: str,
        side: str,
        qty: str | int,
        type: str = "limit",
        price: str | None = None,
        trigger: str | None = None,
        **kw: Any,
    ) -> Order:
        intent = OrderIntent(
            client_order_id=cid,
            symbol=self.symbol,
            side=OrderSide(side),
            type=OrderType(type),
            qty=D(qty),
            price=D(price) if price is not None else None,
            trigger_price=D(trigger) if trigger is not None else None,
            **kw,
        )
        return self.engine.submit(intent)

    def buy(self, cid: str, qty: str | int, **kw: Any) -> Order:
        return self.place(cid, "buy", qty, **kw)

    def sell(self, cid: str, qty: str | int, **kw: Any) -> Order:
        return self.place(cid, "sell", qty, **kw)

    def candle(self, o: float, h: float, lo: float, c: float) -> list[EngineEvent]:
        self.ts += HOUR
        return list(self.engine.process_candle(self.symbol, self.ts, o, h, lo, c))

    def position(self, book: PositionSide = PositionSide.NET) -> Position | None:
        found = [p for p in self.engine.positions([self.symbol]) if p.position_side is book]
        return found[0] if found else None

    def order(self, cid: str) -> Order:
        return self.engine.order(self.symbol, cid)

    @staticmethod
    def fills(events: Sequence[EngineEvent]) -> list[Fill]:
        return [e.fill for e in events if isinstance(e, FillEvent)]

    @staticmethod
    def updates(events: Sequence[EngineEvent]) -> list[OrderUpdate]:
        return [e for e in events if isinstance(e, OrderUpdate)]


VenueFactory = Callable[..., Venue]


@pytest.fixture
def swap() -> Instrument:
    """Linear swap: 0.1 BTC contracts, tick 0.1, lot 1, maker 0.02 %, taker 0.05 %."""
    return SWAP


@pytest.fixture
def spot() -> Instrument:
    """Spot ETH/USDT: tick 0.01, lot 0.001, min notional 10, fees 0.1 %."""
    return SPOT


@pytest.fixture
def make_venue() -> VenueFactory:
    """``make_venue(inst=SWAP, **PaperConfig fields)``; primed with one candle at 100 (swap)
    or 2000 (spot) so market orders have a price."""

    def make(inst: Instrument | None = None, prime: bool = True, **settings: Any) -> Venue:
        inst = inst or SWAP
        settings.setdefault("instruments", (SWAP, SPOT))
        venue = Venue(PaperEngine(PaperConfig(**settings)), inst)
        if prime:
            p = 100.0 if inst is SWAP else 2000.0
            venue.candle(p, p, p, p)
        return venue

    return make
