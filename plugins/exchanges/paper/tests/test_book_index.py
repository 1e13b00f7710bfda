"""The price index of resting orders picks exactly what a scan of the whole book would: the
reference below is the rule stated in :mod:`tb_exchange_paper.matching`, applied to every level."""

from __future__ import annotations

import random
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tb_exchange_paper import PaperConfig, PaperEngine
from tb_exchange_paper.book import Entry, LiquidationLevel, SymbolBook
from tb_exchange_paper.matching import first_at, next_on_segment, reached
from tbsdk.model import Order, OrderIntent, OrderSide, OrderType, PositionSide
from tbsdk.reach import first_reach

sys.path.insert(0, str(Path(__file__).parent))

from paper_instruments import SWAP

Level = Entry | LiquidationLevel
TYPES = (OrderType.LIMIT, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)


def entry(rng: random.Random, seq: int) -> Entry:
    kind = rng.choice(TYPES)
    price = Decimal(rng.randrange(90, 111))  # few distinct prices: many ties
    intent = OrderIntent(
        client_order_id=f"o{seq}",
        symbol=SWAP.symbol,
        side=rng.choice((OrderSide.BUY, OrderSide.SELL)),
        type=kind,
        qty=Decimal(1),
        price=price if kind is OrderType.LIMIT else None,
        trigger_price=None if kind is OrderType.LIMIT else price,
        reduce_only=rng.random() < 0.5,
    )
    return Entry.of(Order(intent=intent), seq, intent.reduce_only, PositionSide.NET)


def all_levels(sb: SymbolBook) -> list[Level]:
    return [*sb.liquidations, *sb.resting]


def reference_first_at(sb: SymbolBook, price: float, through: bool) -> Level | None:
    best: Level | None = None
    for lv in all_levels(sb):
        if reached(lv, price, through) and (
            best is None or (lv.kind, lv.seq) < (best.kind, best.seq)
        ):
            best = lv
    return best


def reference_next(sb: SymbolBook, start: float, end: float, through: bool) -> Level | None:
    if end == start:
        return None
    up = end > start
    best, best_key = None, None
    for lv in all_levels(sb):
        if lv.rises is not up or not reached(lv, end, through):
            continue
        key = (lv.level if up else -lv.level, lv.kind, lv.seq)
        if best_key is None or key < best_key:
            best, best_key = lv, key
    return best


def check_index(sb: SymbolBook) -> None:
    """Both directions hold exactly the resting entries, each in matching order."""
    assert sorted(id(e) for _, e in (*sb.rising, *sb.falling)) == sorted(map(id, sb.resting))
    assert [k for k, _ in sb.rising] == sorted(k for k, _ in sb.rising)
    assert [k for k, _ in sb.falling] == sorted(k for k, _ in sb.falling)
    assert all(e.rises for _, e in sb.rising)
    assert not any(e.rises for _, e in sb.falling)
    assert sb.reducing_stops == sum(1 for e in sb.resting if e.kind.name == "STOP" and e.reducing)


@pytest.mark.parametrize("seed", range(20))
def test_index_matches_a_scan_of_the_whole_book(seed: int) -> None:
    rng = random.Random(seed)
    sb = SymbolBook(SWAP)
    seq = 0
    for _ in range(60):
        action = rng.random()
        if action < 0.55 or not sb.resting:
            seq += 1
            e = entry(rng, seq)
            e.taker = rng.random() < 0.2
            sb.add(e)
            if e.taker and rng.random() < 0.5:
                sb.rest(e)
        elif action < 0.75:
            sb.remove(rng.choice(sb.resting))
        elif action < 0.9:
            sb.move(rng.choice(sb.resting), float(rng.randrange(90, 111)))
        else:
            liq = LiquidationLevel(
                PositionSide.NET, Decimal(100), float(rng.randrange(90, 111)), rng.random() < 0.5
            )
            sb.set_liquidations([liq] if rng.random() < 0.7 else [])
        check_index(sb)
        for through in (False, True):
            for _ in range(5):
                a, b = float(rng.randrange(88, 113)), float(rng.randrange(88, 113))
                assert first_at(sb, a, through) is reference_first_at(sb, a, through)
                assert next_on_segment(sb, a, b, through) is reference_next(sb, a, b, through)
    for e in list(sb.resting) + list(sb.pending):
        sb.remove(e)
    assert sb.rising == []
    assert sb.falling == []
    assert sb.find("o1") is None


def test_a_remembered_scan_answers_as_a_new_scan_would() -> None:
    rng = np.random.default_rng(3)
    close = 100 + np.cumsum(rng.normal(0, 0.3, 5000))
    high, low = close + 0.5, close - 0.5
    engine = PaperEngine(PaperConfig(instruments=(SWAP,), balances={"USDT": Decimal(10**6)}))
    engine.process_candle(SWAP.symbol, 0, 100.0, 100.5, 99.5, 100.0)

    def limit(cid: str, side: OrderSide, price: int) -> None:
        engine.submit(
            OrderIntent(client_order_id=cid, symbol=SWAP.symbol, side=side,
                        type=OrderType.LIMIT, qty=Decimal(1), price=Decimal(price))
        )  # fmt: skip

    limit("b1", OrderSide.BUY, 95)
    limit("s1", OrderSide.SELL, 105)
    starts = sorted(int(s) for s in rng.integers(0, 5000, 300))
    for k, start in enumerate(starts):
        if k == 150:  # the book changes: what was remembered no longer holds
            limit("s2", OrderSide.SELL, 101)
        up = 101.0 if k >= 150 else 105.0
        assert engine.next_active(SWAP.symbol, high, low, start) == first_reach(
            high, low, start, up, 95.0
        )
