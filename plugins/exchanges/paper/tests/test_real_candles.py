"""A seeded random order flow over 499 real ETH/USDT hourly candles, checking invariants after
every candle: equity conservation, balances that add up, reduce-only never flipping, fills inside
the candle, and round trips that account for every realised dollar and fee."""

from __future__ import annotations

import contextlib
import csv
import gzip
import random
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from paper_instruments import ETH_SWAP
from paper_instruments import SPOT as ETH_SPOT

from tb_exchange_paper import PaperConfig, PaperEngine
from tbsdk.errors import ExchangeError
from tbsdk.model import (
    CandleArrays,
    FillEvent,
    Instrument,
    MarginMode,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionChanged,
    PositionMode,
    PositionSide,
)

# The average entry price is a division (28 significant digits), so realised + unrealised PnL
# may differ from exact arithmetic far below any currency unit; conservation is checked to 1e-18.
EPS = D("1e-18")

DATA = Path(__file__).parent / "data" / "BINANCE_ETH-USDT_1h.csv.gz"


def _load() -> CandleArrays:
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:-1]  # header; the last candle was still open
    cols = np.array([[float(x) for x in r[1:]] for r in rows]).T.copy()
    ts = np.array([int(r[0]) for r in rows], dtype=np.int64)
    return CandleArrays(ts, cols[0], cols[1], cols[2], cols[3], cols[4])


class Flow:
    """Random but reproducible orders: entries, DCA limits, reduce-only TPs and stops."""

    def __init__(self, engine: PaperEngine, inst: Instrument, seed: int, hedge: bool) -> None:
        self.engine, self.inst, self.rng, self.hedge = engine, inst, random.Random(seed), hedge
        self.n = 0

    def _send(self, **kw: Any) -> None:
        self.n += 1
        # Refusals (funds, reduce-only conflicts, crossed triggers) are part of the flow.
        with contextlib.suppress(ExchangeError):
            self.engine.submit(
                OrderIntent(client_order_id=f"o{self.n}", symbol=self.inst.symbol, **kw)
            )

    def step(self, close: D) -> None:
        rng, inst = self.rng, self.inst
        spot = not inst.is_derivative
        qty = D(rng.randint(1, 400)) * (D("0.001") if spot else D(1))
        books = [PositionSide.LONG, PositionSide.SHORT] if self.hedge else [PositionSide.NET]
        book = rng.choice(books)
        side = rng.choice([OrderSide.BUY, OrderSide.SELL])
        if book is PositionSide.LONG:
            side = OrderSide.BUY
        elif book is PositionSide.SHORT:
            side = OrderSide.SELL
        off = D(rng.randint(1, 40)) / 1000
        below, above = inst.floor_price(close * (1 - off)), inst.ceil_price(close * (1 + off))
        roll = rng.random()
        if roll < 0.15:
            self._send(side=side, type=OrderType.MARKET, qty=qty, position_side=book)
        elif roll < 0.35:
            price = below if side is OrderSide.BUY else above
            self._send(
                side=side,
                type=OrderType.LIMIT,
                qty=qty,
                price=price,
                position_side=book,
                post_only=rng.random() < 0.3,
            )
        elif roll < 0.65:
            pos = [p for p in self.engine.positions([inst.symbol]) if p.position_side is book]
            if not pos:
                return
            p = pos[0]
            exit_side = OrderSide.SELL if p.direction == "long" else OrderSide.BUY
            tp, sl = (above, below) if exit_side is OrderSide.SELL else (below, above)
            size = max(D(1) if not spot else D("0.001"), inst.floor_size(p.size / 2))
            self._send(
                side=exit_side,
                type=OrderType.LIMIT,
                qty=size,
                price=tp,
                position_side=book,
                reduce_only=True,
            )
            kind = rng.choice([OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET])
            trigger = sl if kind is OrderType.STOP_MARKET else tp
            close_all = rng.random() < 0.5 and not spot
            self._send(
                side=exit_side,
                type=kind,
                qty=D(0) if close_all else p.size,
                trigger_price=trigger,
                position_side=book,
                reduce_only=not close_all,
                close_position=close_all,
            )
        elif roll < 0.75:
            live = self.engine.open_orders(inst.symbol)
            if live:
                self.engine.cancel(inst.symbol, rng.choice(live).client_order_id)


def _check_reduce_only(
    events: Any, sizes: dict[PositionSide, D], dirs: dict[PositionSide, str]
) -> None:
    pending: FillEvent | None = None
    for ev in events:
        if isinstance(ev, FillEvent):
            pending = ev
        elif isinstance(ev, PositionChanged):
            assert pending is not None
            pos, book = ev.position, ev.position.position_side
            intent = pending.order.intent
            reducing = (
                intent.reduce_only
                or intent.close_position
                or (book is PositionSide.LONG and intent.side is OrderSide.SELL)
                or (book is PositionSide.SHORT and intent.side is OrderSide.BUY)
            )
            before = sizes.get(book, D(0))
            if reducing and intent.tag != "liquidation":
                assert before >= pending.fill.qty, "reduce-only filled more than the position"
                assert pos.size == before - pending.fill.qty
                assert pos.size == 0 or pos.direction == dirs[book], "reduce-only flipped"
            sizes[book], dirs[book] = pos.size, str(pos.direction)
            pending = None


@pytest.mark.parametrize(
    ("inst", "hedge", "leverage", "mode", "seed"),
    [
        (ETH_SWAP, False, D(1), MarginMode.CROSS, 1),
        (ETH_SWAP, True, D(5), MarginMode.CROSS, 2),
        (ETH_SWAP, False, D(25), MarginMode.ISOLATED, 3),
        (ETH_SWAP, True, D(20), MarginMode.ISOLATED, 4),
        (ETH_SPOT, False, D(1), MarginMode.CROSS, 5),
    ],
)
def test_invariants_over_real_candles(
    inst: Instrument, hedge: bool, leverage: D, mode: MarginMode, seed: int
) -> None:
    candles = _load()
    assert len(candles) == 499
    start = D(10_000)
    engine = PaperEngine(PaperConfig(instruments=(inst,), balances={"USDT": start}))
    if hedge:
        engine.set_position_mode(PositionMode.HEDGE)
    if inst.is_derivative:
        engine.set_leverage(inst.symbol, leverage, mode)
    flow = Flow(engine, inst, seed, hedge)
    sizes: dict[PositionSide, D] = {}
    dirs: dict[PositionSide, str] = {}
    fills = 0
    for i in range(len(candles)):
        c = candles.candle(i)
        events = engine.process_candle(
            inst.symbol,
            int(candles.ts[i]) + 3_600_000,
            float(candles.open[i]),
            float(candles.high[i]),
            float(candles.low[i]),
            float(candles.close[i]),
        )
        _check_reduce_only(events, sizes, dirs)
        for ev in events:
            if isinstance(ev, FillEvent):
                fills += 1
                assert c.low <= ev.fill.price <= c.high, "fill outside the candle (no slippage)"
        positions = engine.positions()
        unrealized = sum((p.unrealized_pnl for p in positions), D(0))
        realized, fees = engine.realized_pnl("USDT"), engine.fees_paid("USDT")
        if inst.is_derivative:
            assert abs(engine.equity("USDT") - (start + realized - fees + unrealized)) < EPS
            bal = engine.balances()["USDT"]
            assert bal.total == engine.equity("USDT")
            assert bal.total == bal.free + bal.used
        else:
            held = sum((p.size * c.close for p in positions), D(0))
            assert engine.equity("USDT") == engine.balances()["USDT"].total + held
            assert abs(engine.equity("USDT") - (start + realized - fees + unrealized)) < EPS
            assert engine.balances().get("ETH") is None or engine.balances()["ETH"].total >= 0
        assert all(
            o.status in (OrderStatus.OPEN, OrderStatus.SUBMITTED) for o in engine.open_orders()
        )
        flow.step(c.close)
    assert fills > 50
    # Flatten and cancel everything: every realised dollar and fee then sits in a round trip.
    for o in engine.open_orders():
        engine.cancel(inst.symbol, o.client_order_id)
    for p in engine.positions():
        engine.submit(
            OrderIntent(
                client_order_id=f"z{p.position_side}",
                symbol=inst.symbol,
                side=OrderSide.SELL if p.direction == "long" else OrderSide.BUY,
                type=OrderType.MARKET,
                qty=p.size,
                position_side=p.position_side,
                reduce_only=True,
            )
        )
    engine.process_candle(inst.symbol, 1, 500.0, 500.0, 500.0, 500.0)
    assert engine.positions() == []
    assert engine.balances()["USDT"].used == 0
    trades = engine.trades
    total = sum((t.pnl for t in trades), D(0))
    assert abs(total - (engine.realized_pnl("USDT") - engine.fees_paid("USDT"))) < EPS
    assert abs(engine.equity("USDT") - (start + total)) < EPS
