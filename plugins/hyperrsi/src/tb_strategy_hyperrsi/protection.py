"""Orders that protect and take profit from the main position: the TP ladder (hyperrsi spec §11)
and the one protective stop combining stop-loss, break-even and trailing (§12).
"""

from __future__ import annotations

from decimal import Decimal

from tbsdk import StrategyContext
from tbsdk.model import OrderType

from .ids import tp_tag
from .ladder import dca_ladder
from .orders import RevisionsExhausted
from .runtime import Runtime
from .state import TpLevel, TrailingRecord
from .stops import (
    break_even_candidate,
    most_protective,
    stop_loss_price,
    trailing_offset,
    trailing_stop_price,
)
from .take_profit import enabled_levels, placed_levels, tp_prices, tp_sizes, tp_weights

__all__ = [
    "activate_trailing",
    "check_touch_activation",
    "level_reached",
    "place_pending_tps",
    "rebuild",
    "refresh_stop",
    "stop_reason",
    "tp_price_map",
    "trail_bar",
]

_ZERO = Decimal(0)


def tp_price_map(rt: Runtime) -> dict[int, Decimal]:
    return {lvl.level: lvl.price for lvl in rt.state.tps}


def rebuild(rt: Runtime, ctx: StrategyContext, ref: Decimal, atr: float) -> None:
    """After an entry or DCA fill (§8.5): freeze the DCA ladder, rebuild the TP ladder from
    scratch on the whole position (filled levels become pending again) and recompute the stop
    with break-even and trailing cleared: a new TP phase starts."""
    cfg, st, inst = rt.cfg, rt.state, rt.inst
    pos = st.position
    avg = pos.avg
    assert avg is not None
    assert pos.last_fill_price is not None
    m = pos.m
    reference = avg if cfg.entry_criterion == "average_price" else pos.last_fill_price
    remaining = cfg.pyramiding_limit - pos.entry_count
    pos.ladder = dca_ladder(
        reference, m, cfg.pyramiding_entry_type, cfg.pyramiding_value, atr, remaining
    )
    prices = tp_prices(cfg, m, avg, ref, atr, inst)
    enabled = enabled_levels(cfg)
    weights = tp_weights(cfg, enabled)
    placed = placed_levels(cfg, enabled)
    sizes = tp_sizes(pos.size, placed, weights, cfg.trailing_stop_active, inst)
    old = {lvl.level: lvl.client_id for lvl in st.tps}
    levels = []
    for k, price in sorted(prices.items()):
        qty = sizes.get(k, _ZERO)
        on = k in placed and qty > 0
        levels.append(
            TpLevel(
                level=k,
                price=price,
                ratio=weights.get(k, _ZERO),
                placed=k in placed,
                qty=qty,
                status="pending" if on else "skipped",
                client_id=old.pop(k, None),
            )
        )
        if not on:
            rt.desk.cancel(ctx, levels[-1].client_id)
    for cid in old.values():
        rt.desk.cancel(ctx, cid)
    st.tps = levels
    rt.held_levels.clear()
    place_pending_tps(rt, ctx)
    stop = st.stop
    stop.be, stop.be_levels, stop.trailing = None, [], None
    st.trailing = TrailingRecord(start_level=cfg.trailing_level)
    stop.sl = stop_loss_price(cfg, m, avg, pos.ladder, pos.entry_count, atr, inst)
    refresh_stop(rt, ctx, new_phase=True)


def place_pending_tps(rt: Runtime, ctx: StrategyContext) -> None:
    """Send every placed level still waiting for its order (a rebuild, or a retry after a
    refusal), replacing the level's previous order when it is still live."""
    st = rt.state
    side = st.position.side
    if side is None or st.phase not in ("open",):
        return
    for lvl in st.tps:
        if lvl.status != "pending" or not lvl.placed or lvl.level in rt.held_levels:
            continue
        qty = lvl.qty - lvl.filled_qty  # a level partly filled before a venue cancel
        intent = rt.desk.intent(
            tp_tag(lvl.level),
            rt.closing(side),
            OrderType.LIMIT,
            qty,
            rt.book(side),
            price=lvl.price,
            reduce_only=True,  # a take-profit must never open or flip a position
        )
        rt.desk.replace(ctx, lvl.client_id, intent, tp_tag(lvl.level))
        lvl.client_id, lvl.status = intent.client_order_id, "open"


def refresh_stop(rt: Runtime, ctx: StrategyContext, new_phase: bool = False) -> None:
    """Put the stop order at the most protective candidate (§12). Within a TP phase it only
    moves in the position's favour; ``new_phase`` (after an entry or DCA) lets it move back."""
    st = rt.state
    stop, pos = st.stop, st.position
    side = pos.side
    if side is None:
        return
    m = pos.m
    sl = stop.sl if stop.sl is not None and stop.sl > 0 else None
    if stop.sl is not None and stop.sl <= 0 and not stop.unprotected:
        stop.unprotected = True
        rt.notify(ctx, "position_unprotected", f"stop-loss price {stop.sl} is not positive")
    price = most_protective(m, sl, stop.be, stop.trailing)
    if price is not None and not new_phase and rt.desk.live(stop.client_id):
        price = most_protective(m, price, stop.price)
    if price is None:
        # No candidate (use_sl off and no break-even / trailing yet): no stop exists (§12.2).
        rt.desk.cancel(ctx, stop.client_id)
        stop.price = None
        return
    if price == stop.price and rt.desk.live(stop.client_id):
        return
    try:
        intent = rt.desk.intent(
            "stp",
            rt.closing(side),
            OrderType.STOP_MARKET,
            _ZERO,
            rt.book(side),
            trigger=price,
            reduce_only=True,
            close_position=True,  # closes whatever is open when it triggers: no resizing race
        )
    except RevisionsExhausted:
        ctx.log.error("stop revisions exhausted: the stop stays at %s", stop.price)
        rt.notify(ctx, "protective_stop_failed", "stop revisions exhausted; stop not moved")
        return
    rt.desk.replace(ctx, stop.client_id, intent, "stp")
    stop.client_id, stop.price = intent.client_order_id, price
    stop.unprotected = False


def stop_reason(rt: Runtime) -> str:
    """What the stop at its current price stands for: trailing, break-even or stop-loss."""
    stop = rt.state.stop
    if stop.trailing is not None and stop.price == stop.trailing:
        return "trailing_stop"
    if stop.be is not None and stop.price == stop.be:
        return "break_even"
    return "stop_loss"


def level_reached(rt: Runtime, ctx: StrategyContext, level: int) -> None:
    """§12.3: apply the level's break-even candidate (the stop moves in ``refresh_stop``)."""
    cfg, st = rt.cfg, rt.state
    pos, stop = st.position, st.stop
    avg = pos.avg
    if avg is None or level in stop.be_levels:
        return
    candidate = break_even_candidate(
        cfg, level, pos.m, avg, tp_price_map(rt), enabled_levels(cfg), rt.inst
    )
    if candidate is None:
        return
    stop.be_levels.append(level)
    stop.be = most_protective(pos.m, stop.be, candidate)
    rt.notify(
        ctx, "break_even_moved", f"TP{level} reached: lock-in at {candidate}", price=str(candidate)
    )


def activate_trailing(rt: Runtime, ctx: StrategyContext, extreme: Decimal) -> None:
    """§12.4 activation at the start level's reach, with the offset fixed now."""
    cfg, st = rt.cfg, rt.state
    prices = tp_price_map(rt)
    start = prices[cfg.trailing_level]
    tr = st.trailing
    tr.active, tr.start_level, tr.extreme = True, cfg.trailing_level, extreme
    tr.offset = trailing_offset(cfg, start, prices)
    st.stop.trailing = trailing_stop_price(extreme, tr.offset, st.position.m, rt.inst)
    rt.notify(
        ctx,
        "trailing_activated",
        f"trailing from {extreme} with offset {tr.offset}",
        extreme=str(extreme),
        offset=str(tr.offset),
    )


def start_level_unplaced(rt: Runtime) -> TpLevel | None:
    """The trailing start level when it has no order (so price reach activates it)."""
    st = rt.state
    if not rt.cfg.trailing_stop_active or st.trailing.active:
        return None
    for lvl in st.tps:
        if lvl.level == rt.cfg.trailing_level:
            return lvl if lvl.status == "skipped" else None
    return None


def check_touch_activation(rt: Runtime, ctx: StrategyContext, high: Decimal, low: Decimal) -> bool:
    """§12.4: an unplaced start level activates when the bar's high (short: low) reaches its
    price, with ``X`` = that extreme; its break-even applies at the same moment. The caller
    runs the trailing update next, which moves the stop."""
    lvl = start_level_unplaced(rt)
    if lvl is None:
        return False
    long = rt.state.position.m > 0
    if (high < lvl.price) if long else (low > lvl.price):
        return False
    level_reached(rt, ctx, lvl.level)
    activate_trailing(rt, ctx, high if long else low)
    # The stop moves in the trailing update that follows (§8.3 step 3b), which first checks
    # whether the close is already through it (then the exit is at market, no stop is sent).
    return True


def trail_bar(rt: Runtime, ctx: StrategyContext, high: Decimal, low: Decimal) -> Decimal | None:
    """§12.4 update at a chart bar close: ``X`` follows the bar's extreme, the trailing
    candidate follows ``X``. Returns the resulting stop price (the caller compares the close)."""
    st = rt.state
    tr, pos = st.trailing, st.position
    if not tr.active or tr.extreme is None or tr.offset is None:
        return None
    m = pos.m
    tr.extreme = max(tr.extreme, high) if m > 0 else min(tr.extreme, low)
    candidate = trailing_stop_price(tr.extreme, tr.offset, m, rt.inst)
    st.stop.trailing = most_protective(m, st.stop.trailing, candidate)
    stop = st.stop
    sl = stop.sl if stop.sl is not None and stop.sl > 0 else None
    return most_protective(m, sl, stop.be, stop.trailing, stop.price)
