"""Intrabar evaluation (hyperrsi spec §5.2, §8.4): on throttled ticks, trailing follows the
price and entries / DCAs are decided with a provisional RSI. At most one entry or DCA per side
per chart bar (bar lock, §14.2); trend exits are not evaluated on ticks.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from tbsdk import StrategyContext
from tbsdk.model import Tick

from .entries import evaluate_dca, evaluate_entry
from .exits import market_exit
from .protection import check_touch_activation, refresh_stop
from .runtime import Runtime
from .stops import most_protective, trailing_stop_price

__all__ = ["AMEND_MIN_INTERVAL", "AMEND_MIN_STEP", "on_tick"]

AMEND_MIN_STEP = Decimal("0.0005")
AMEND_MIN_INTERVAL = 5_000


def on_tick(rt: Runtime, ctx: StrategyContext, tick: Tick) -> None:
    st = rt.state
    bar = rt.feed.latest(ctx)
    if bar is None:
        return
    price, now = tick.price, tick.ts
    bar_open = now // rt.period * rt.period
    forming = dataclasses.replace(bar, trend=rt.feed.forming_trend(ctx, bar_open))
    if st.phase == "open":
        check_touch_activation(rt, ctx, price, price)
        if _trail_tick(rt, ctx, price, now):
            return
        if st.phase == "open":
            rsi = rt.feed.provisional_rsi(float(price))
            evaluate_dca(rt, ctx, forming, price, bar_open, now, rsi)
    elif st.phase == "flat":
        rsi = rt.feed.provisional_rsi(float(price))
        evaluate_entry(rt, ctx, forming, price, bar_open, now, rsi)


def _trail_tick(rt: Runtime, ctx: StrategyContext, price: Decimal, now: int) -> bool:
    """§12.4 per tick: exit at market when the tick is through the stop; otherwise amend when
    it moved enough and long enough after the last amendment."""
    st = rt.state
    tr, stop, pos = st.trailing, st.stop, st.position
    if not tr.active or tr.extreme is None or tr.offset is None:
        return False
    m = pos.m
    tr.extreme = max(tr.extreme, price) if m > 0 else min(tr.extreme, price)
    stop.trailing = most_protective(
        m, stop.trailing, trailing_stop_price(tr.extreme, tr.offset, m, rt.inst)
    )
    sl = stop.sl if stop.sl is not None and stop.sl > 0 else None
    target = most_protective(m, sl, stop.be, stop.trailing, stop.price)
    if target is None:
        return False
    if price <= target if m > 0 else price >= target:
        market_exit(rt, ctx, "xtr", "trailing_stop")
        return True
    step = max(rt.inst.tick(price), AMEND_MIN_STEP * price)
    moved = stop.price is None or abs(target - stop.price) >= step
    if moved and now - tr.last_amend_ts >= AMEND_MIN_INTERVAL:
        refresh_stop(rt, ctx)
        tr.last_amend_ts = now
    return False
