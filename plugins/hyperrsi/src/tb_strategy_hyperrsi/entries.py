"""Opening and adding: entry evaluation and sizing (hyperrsi spec §9), DCA evaluation (§10),
and what an entry or DCA fill or failure does (§8.5, §14).
"""

from __future__ import annotations

import math
from decimal import Decimal

from tbsdk import StrategyContext
from tbsdk.model import Fill, Order, OrderType

from .feed import BarValues
from .ids import dca_tag
from .ladder import dca_price_reached
from .protection import rebuild
from .runtime import Runtime
from .signals import entry_signals
from .sizing import Sized, base_margin, contracts_for_count, contracts_for_margin
from .state import FillRecord, HedgeRecord

__all__ = [
    "BLOCKED_NOTICE_INTERVAL",
    "add_fill",
    "entry_done",
    "entry_failed",
    "evaluate_dca",
    "evaluate_entry",
]

BLOCKED_NOTICE_INTERVAL = 2 * 3_600_000
"""``signal_blocked_by_trend`` at most once per side per 2 h (§19)."""


Provisional = tuple[float, bool]
"""An intrabar RSI and its flat flag (the last closed bar's RSI is then ``prev``)."""


def _signals(rt: Runtime, bar: BarValues, rsi: Provisional | None = None) -> tuple[bool, bool]:
    cfg = rt.cfg
    cur, cur_flat = (bar.rsi, bar.flat) if rsi is None else rsi
    prev, prev_flat = (bar.rsi_prev, bar.flat_prev) if rsi is None else (bar.rsi, bar.flat)
    return entry_signals(
        cfg.entry_option, prev, cur, prev_flat, cur_flat, cfg.rsi_oversold, cfg.rsi_overbought
    )


def _trend_blocks(rt: Runtime, side: str, trend: int) -> bool:
    return rt.cfg.use_trend_logic and trend == (-2 if side == "long" else 2)


def evaluate_entry(
    rt: Runtime,
    ctx: StrategyContext,
    bar: BarValues,
    price: Decimal,
    bar_open: int,
    now: int,
    rsi: Provisional | None = None,
) -> bool:
    """§9: when flat, open the first side (long before short) whose signal, trend, cooldown and
    bar lock allow it. ``rsi`` is the provisional RSI of an intrabar evaluation (``bar`` is
    then the last closed bar, and its trend the forming bar's)."""
    st, cfg = rt.state, rt.cfg
    if st.phase != "flat" or st.entries_paused or not bar.ready:
        return False
    for side, signal in zip(("long", "short"), _signals(rt, bar, rsi), strict=True):
        if not signal or cfg.direction not in (side, "both"):
            continue
        if rt.in_cooldown(side, now) or rt.bar_locked(side, bar_open):
            continue
        if _trend_blocks(rt, side, bar.trend):
            _notify_blocked(rt, ctx, side, bar.trend, now)
            continue
        return _submit_entry(rt, ctx, side, price, bar_open)
    return False


def _notify_blocked(rt: Runtime, ctx: StrategyContext, side: str, trend: int, now: int) -> None:
    last = rt.state.trend_notified.get(side)
    if last is not None and now - last < BLOCKED_NOTICE_INTERVAL:
        return
    rt.state.trend_notified[side] = now
    rt.notify(
        ctx, "signal_blocked_by_trend", f"{side} signal blocked: trend state {trend}", side=side
    )


def _submit_entry(
    rt: Runtime, ctx: StrategyContext, side: str, price: Decimal, bar_open: int
) -> bool:
    cfg, st, inst = rt.cfg, rt.state, rt.inst
    margin = base_margin(cfg.investment_type, cfg.investment, ctx.equity())
    if margin is not None:
        sized = contracts_for_margin(margin, cfg.leverage, price, inst)
    else:
        sized = contracts_for_count(cfg.investment, Decimal(1), inst)
    rt.size_note(ctx, f"{side} entry", sized.adjusted)
    if sized.qty <= 0:
        ctx.log.warning("%s entry skipped: the size at %s rounds to 0 contracts", side, price)
        return False
    st.seq += 1
    st.revisions = {}
    st.reset_position()
    st.hedge = HedgeRecord()
    pos = st.position
    pos.side = "long" if side == "long" else "short"
    pos.base_margin = margin
    pos.base_contracts = cfg.investment if margin is None else None
    intent = rt.desk.intent("ent", rt.opening(side), OrderType.MARKET, sized.qty, rt.book(side))
    rt.desk.submit(ctx, intent, "ent")
    st.phase = "entering"
    st.bar_lock[side] = bar_open
    return True


def evaluate_dca(
    rt: Runtime,
    ctx: StrategyContext,
    bar: BarValues,
    price: Decimal,
    bar_open: int,
    now: int,
    rsi: Provisional | None = None,
) -> bool:
    """§10: add to the open position when every condition holds."""
    cfg, st = rt.cfg, rt.state
    pos = st.position
    side = pos.side
    if st.phase != "open" or side is None or not bar.ready or st.entries_paused:
        return False
    if pos.entry_count >= cfg.pyramiding_limit or st.trailing.active:
        return False
    if rt.desk.any_live(("d0",)) or rt.in_cooldown(side, now) or rt.bar_locked(side, bar_open):
        return False
    if cfg.use_check_dca_with_price and (
        not pos.ladder or not dca_price_reached(price, pos.ladder[0], pos.m)
    ):
        return False
    if cfg.use_rsi_with_pyramiding and not _signals(rt, bar, rsi)[0 if side == "long" else 1]:
        return False
    if _trend_blocks(rt, side, bar.trend):
        return False
    k = pos.entry_count
    sized = _dca_size(rt, k, price)
    rt.size_note(ctx, f"DCA {k}", sized.adjusted)
    if sized.qty <= 0:
        return False
    intent = rt.desk.intent(
        dca_tag(k), rt.opening(side), OrderType.MARKET, sized.qty, rt.book(side)
    )
    rt.desk.submit(ctx, intent, dca_tag(k))
    st.bar_lock[side] = bar_open
    return True


def _dca_size(rt: Runtime, k: int, price: Decimal) -> Sized:
    cfg, pos = rt.cfg, rt.state.position
    factor = cfg.entry_multiplier**k
    if pos.base_margin is not None:
        return contracts_for_margin(pos.base_margin * factor, cfg.leverage, price, rt.inst)
    base = pos.base_contracts if pos.base_contracts is not None else cfg.investment
    return contracts_for_count(base, factor, rt.inst)


def add_fill(rt: Runtime, fill: Fill, role: str) -> None:
    """An entry or DCA fill increases the modelled position (partial fills included)."""
    pos = rt.state.position
    pos.size += fill.qty
    pos.cost += fill.qty * fill.price
    pos.fees += fill.fee
    pos.peak_size = max(pos.peak_size, pos.size)
    pos.fills.append(
        FillRecord(role=role, price=fill.price, qty=fill.qty, fee=fill.fee, ts=fill.ts)
    )


def entry_done(rt: Runtime, ctx: StrategyContext, order: Order, role: str, ts: int) -> None:
    """§8.5: the entry or DCA is complete (or canceled after a partial fill): count it, start
    the cooldown, reset the failures, rebuild ladder, TPs and stop; hedge logic after a DCA."""
    from .hedging import after_dca

    st = rt.state
    pos = st.position
    side = pos.side
    assert side is not None
    assert order.avg_fill_price is not None
    pos.entry_count += 1
    pos.last_fill_price = order.avg_fill_price
    if pos.opened_at is None:
        pos.opened_at = ts
    rt.start_cooldown(side, ts)
    st.consecutive_failures = 0
    st.phase = "open"
    bar = rt.feed.latest(ctx)
    rebuild(rt, ctx, order.avg_fill_price, bar.atr if bar is not None else math.nan)
    kind = "entry" if role == "ent" else "dca"
    rt.notify(
        ctx,
        kind,
        f"{side} {kind} {order.filled_qty} @ {order.avg_fill_price}; "
        f"size {pos.size}, avg {pos.avg}",
        side=side,
        qty=str(order.filled_qty),
        price=str(order.avg_fill_price),
        entry_count=pos.entry_count,
    )
    if role != "ent":
        after_dca(rt, ctx)


def entry_failed(rt: Runtime, ctx: StrategyContext, role: str, why: str, ts: int) -> None:
    """§14.3: a refused (or canceled-before-fill) entry or DCA counts as a failure and locks
    the side for the bar; enough in a row pause entries."""
    st, cfg = rt.state, rt.cfg
    side = st.position.side
    if side is not None:
        st.bar_lock[side] = rt.bar_open_of(ts)
    if role == "ent":
        st.reset_position()
    st.consecutive_failures += 1
    ctx.log.warning("%s failed (%s); %s in a row", role, why, st.consecutive_failures)
    if st.consecutive_failures >= cfg.max_consecutive_entry_failures and not st.entries_paused:
        st.entries_paused = True
        rt.notify(
            ctx,
            "entries_paused",
            f"{st.consecutive_failures} entries/DCAs failed in a row; new entries are paused "
            "until the bot is resumed or its settings change",
        )
