"""Rounding at the order boundary (grid spec §2, §5.2), including price-banded ticks."""

from __future__ import annotations

from decimal import Decimal

from tb_strategy_grid.rounding import (
    limit_price,
    min_order_size,
    nearest_tick,
    order_size,
    stop_trigger,
)
from tbsdk.model import Direction, Instrument, OrderSide, PriceBand

D = Decimal
PLAIN = Instrument(
    exchange="x", symbol="A/USDT", base="A", quote="USDT", tick_size=D("0.01"),
    lot_step=D("0.001"), min_size=D("0.002"), min_notional=D(5),
)  # fmt: skip
# KRW-style bands: tick 1 from 1 000, 5 from 10 000, 10 from 100 000.
BANDED = Instrument(
    exchange="x", symbol="A/KRW", base="A", quote="KRW", tick_size=D("0.1"),
    price_bands=(PriceBand(min_price=D(1000), tick_size=D(1)),
                 PriceBand(min_price=D(10000), tick_size=D(5)),
                 PriceBand(min_price=D(100000), tick_size=D(10))),
    lot_step=D("0.0001"),
)  # fmt: skip


def test_buys_round_down_sells_up() -> None:
    assert limit_price(PLAIN, OrderSide.BUY, D("100.019")) == D("100.01")
    assert limit_price(PLAIN, OrderSide.SELL, D("100.011")) == D("100.02")
    assert limit_price(PLAIN, OrderSide.SELL, D("100.01")) == D("100.01")
    assert limit_price(BANDED, OrderSide.BUY, D("12347")) == D(12345)
    assert limit_price(BANDED, OrderSide.SELL, D("12341")) == D(12345)


def test_stop_triggers_round_away_from_the_position() -> None:
    assert stop_trigger(PLAIN, Direction.LONG, D("99.999")) == D("99.99")
    assert stop_trigger(PLAIN, Direction.SHORT, D("99.991")) == D("100.00")


def test_levels_round_to_the_nearest_tick_halves_up() -> None:
    assert nearest_tick(PLAIN, D("100.005")) == D("100.01")
    assert nearest_tick(PLAIN, D("100.0049999")) == D("100.00")
    assert nearest_tick(BANDED, D("12342.5")) == D(12345)
    assert nearest_tick(BANDED, D("12342.49")) == D(12340)
    assert nearest_tick(BANDED, D("150004.9")) == D(150000)
    assert str(nearest_tick(PLAIN, D(90))) == "90.00"


def test_sizes_floor_to_the_lot_then_rise_to_the_minimums() -> None:
    # 0.0219 floors to 0.021; at 300 its notional 6.3 passes min_notional 5.
    assert order_size(PLAIN, D("0.0219"), D(300)).qty == D("0.021")
    assert not order_size(PLAIN, D("0.0219"), D(300)).raised
    # At 100, 5 USDT needs 0.05: raised (and said so).
    sized = order_size(PLAIN, D("0.0219"), D(100))
    assert (sized.qty, sized.raised) == (D("0.050"), True)
    # The minimum size binds when the notional is no constraint.
    assert min_order_size(PLAIN, D(10_000)) == D("0.002")
    # min_notional / price not on the lot grid rounds up: 5 / 3 = 1.666.. -> 1.667
    assert min_order_size(PLAIN, D(3)) == D("1.667")
