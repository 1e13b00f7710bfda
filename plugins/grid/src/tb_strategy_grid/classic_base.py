"""Order bookkeeping shared by the classic grid engine: its state, the slots' orders
(submission, revisions, retries, cancels), fill accounting and reconciliation (grid spec §2, §6).

:class:`~tb_strategy_grid.classic.ClassicEngine` adds the grid's decisions on top.
"""

from __future__ import annotations

from abc import abstractmethod
from decimal import Decimal

from tbsdk import JsonState, StrategyContext
from tbsdk.errors import ConfigError
from tbsdk.model import (
    FillEvent,
    Instrument,
    Order,
    OrderSide,
    OrderStatus,
    OrderUpdate,
    PositionChanged,
    RejectReason,
    TimerFired,
)

from .classic_levels import GridGeometry
from .classic_orders import OrderFactory
from .classic_state import ClassicState, OrderSlot, Phase, SlotStatus
from .config import GridConfig
from .engine import SymbolEngine, money_text
from .ids import ID_LENGTH, instance_prefix, symbol_key

__all__ = ["MAX_REJECTS", "RECONCILE_INTERVAL_MS", "ClassicBase"]

RECONCILE_INTERVAL_MS = 60_000
"""Reconciliation period in paper and live mode (grid spec §2)."""

MAX_REJECTS = 5
"""Consecutive refusals after which a level order is marked failed and the operator told."""

_MAX_REV = 36**2 - 1  # rev2 is two base-36 digits
_LIVE = frozenset(s for s in OrderStatus if s.is_live)


class ClassicBase(SymbolEngine):
    """State and order plumbing of one classic grid; the decisions are the subclass's."""

    def __init__(self, config: GridConfig, symbol: str, bot6: str) -> None:
        if not config.mode.is_classic:
            raise ConfigError(
                f"ClassicEngine needs mode arithmetic or geometric, not {config.mode}"
            )
        # Both are required for classic modes by GridConfig's validation.
        assert config.lower_price is not None
        assert config.upper_price is not None
        self.config = config
        self.symbol = symbol
        self.completed = False
        self.sym3 = symbol_key(symbol)
        self.prefix = instance_prefix(bot6, self.sym3)
        self.bot6 = bot6
        self.timeframe = config.eval_timeframe.value
        self.state = ClassicState(origin_lower=config.lower_price, origin_upper=config.upper_price)
        self._inst: Instrument | None = None
        self._orders: OrderFactory | None = None
        self._every_candle = False
        self._order_mark: int | None = None

    def subscriptions(self) -> list[tuple[str, int]]:
        return [(self.timeframe, 0)]

    @property
    def inst(self) -> Instrument:
        if self._inst is None:
            raise RuntimeError("the classic engine has not started")
        return self._inst

    @property
    def orders(self) -> OrderFactory:
        if self._orders is None:
            raise RuntimeError("the classic engine has not started")
        return self._orders

    def geometry(self) -> GridGeometry:
        st = self.state
        n = len(st.levels) - 1 if st.levels else self.config.grid_count
        return GridGeometry(self.config.mode, st.origin_lower, st.origin_upper, n)

    def on_fill(self, ctx: StrategyContext, event: FillEvent) -> None:
        self._apply(ctx, event.order)

    def on_order_update(self, ctx: StrategyContext, event: OrderUpdate) -> None:
        order = event.order
        found = self._find(order.client_order_id)
        if found is None:
            return
        where, slot = found
        status = order.status
        if status in (OrderStatus.SUBMITTED, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
            slot.status = SlotStatus.OPEN
            return
        if status is OrderStatus.FILLED:
            self._apply(ctx, order)
            return
        if event.reject_reason is RejectReason.DUPLICATE_CLIENT_ID:
            # The venue already has this id: the order exists; another revision would double it.
            slot.status = SlotStatus.OPEN
            return
        self._sync_fill(slot, order)
        slot.done, slot.done_cost, slot.done_fee = slot.filled, slot.cost, slot.fee
        if event.by_strategy:
            return  # canceled on purpose (trailing, exit, stop): nothing to retry
        if where == "initial":
            slot.status = SlotStatus.FAILED
            self._initial_failed(ctx, order)
            return
        slot.rejects += 1
        reason = order.reason or status.value
        if slot.rejects >= MAX_REJECTS or slot.rev >= _MAX_REV:
            slot.status = SlotStatus.FAILED
            ctx.notify(
                "error",
                f"{self.symbol}: order {order.client_order_id} ({slot.side.value} "
                f"{slot.remaining}) refused {slot.rejects} times in a row, last: "
                f"{reason}; left unplaced until the bot restarts",
            )
        else:
            ctx.log.warning("%s: %s %s (%s); retried at the next evaluation",
                            self.symbol, order.client_order_id, status.value, reason)  # fmt: skip
            slot.status = SlotStatus.RETRY
        self._sync_every_candle(ctx)

    def _sync_fill(self, slot: OrderSlot, order: Order) -> bool:
        """Take the order's cumulative fill into the slot and the inventory; True if it moved."""
        filled = slot.done + order.filled_qty
        if filled <= slot.filled:
            return False  # nothing new, or a stale report of the order from before a fill
        delta = filled - slot.filled
        self.state.inventory += delta if slot.side is OrderSide.BUY else -delta
        slot.filled = filled
        slot.cost = slot.done_cost + (order.avg_fill_price or Decimal(0)) * order.filled_qty
        slot.fee = slot.done_fee + order.fee
        return True

    def _submit_levels(self, ctx: StrategyContext, status: SlotStatus) -> None:
        """Send every level order in ``status``, lowest level first."""
        st = self.state
        for i, slot in enumerate(st.slots):
            if slot is not None and slot.status is status:
                slot.status = SlotStatus.PENDING_SUBMIT
                ctx.submit(self.orders.level_order(slot, st.levels[i]))

    def _retry(self, ctx: StrategyContext) -> None:
        """Place the next revision of every refused or venue-canceled order (§3 post_only)."""
        st = self.state
        for i, slot in enumerate(st.slots):
            if slot is not None and slot.status is SlotStatus.RETRY:
                slot.rev += 1
                slot.status = SlotStatus.PENDING_SUBMIT
                ctx.submit(self.orders.level_order(slot, st.levels[i]))
        if st.exit is not None and st.exit.status is SlotStatus.RETRY:
            st.exit.rev += 1
            st.exit.status = SlotStatus.PENDING_SUBMIT
            ctx.submit(self.orders.market_order(st.exit, reduce_only=True, tag="grid_exit"))
        self._sync_every_candle(ctx)

    def _cancel(self, ctx: StrategyContext, slot: OrderSlot) -> None:
        if slot.status in (SlotStatus.PENDING_SUBMIT, SlotStatus.OPEN):
            ctx.cancel(self.orders.client_id(slot))

    def _sync_every_candle(self, ctx: StrategyContext) -> None:
        st = self.state
        retry = SlotStatus.RETRY
        need = st.exit is not None and st.exit.status is retry
        if not need:
            for s in st.slots:  # a plain loop: this runs after every fill
                if s is not None and s.status is retry:
                    need = True
                    break
        if need != self._every_candle:
            ctx.deliver_every_candle(self.symbol, self.timeframe, need)
            self._every_candle = need

    def _find(self, cid: str) -> tuple[str, OrderSlot] | None:
        """The slot an id belongs to (its current revision only): ``"initial"``, ``"exit"`` or
        the level index as a string."""
        if not cid.startswith(self.prefix) or len(cid) != ID_LENGTH:
            return None
        seq, rev = int(cid[10:15], 36), int(cid[18:20], 36)
        st = self.state
        for where, slot in (("initial", st.initial), ("exit", st.exit)):
            if slot is not None and slot.seq == seq:
                return (where, slot) if slot.rev == rev else None
        # Sequence numbers are unique, so the slot at the level the id names (where it was
        # made; trailing shifts move slots down) is the one the scan below would find.
        made_at = int(cid[16:18], 36)
        if made_at < len(st.slots):
            slot = st.slots[made_at]
            if slot is not None and slot.seq == seq:
                return (str(made_at), slot) if slot.rev == rev else None
        for i, slot in enumerate(st.slots):
            if slot is not None and slot.seq == seq:
                return (str(i), slot) if slot.rev == rev else None
        return None

    def _set_phase(self, phase: Phase) -> None:
        self.state.phase = phase
        self.completed = phase in (Phase.EXITING, Phase.STOPPED)

    def on_position_changed(self, ctx: StrategyContext, event: PositionChanged) -> None:
        self._reconcile(ctx, everything=False)

    def on_timer(self, ctx: StrategyContext, event: TimerFired) -> None:
        if event.name == self._timer_name():
            self._reconcile(ctx)
            ctx.set_timer(self._timer_name(), event.ts + RECONCILE_INTERVAL_MS)

    def _timer_name(self) -> str:
        return f"{self.sym3}:reconcile"

    def _reconcile(self, ctx: StrategyContext, *, everything: bool = True) -> None:
        """Make the grid agree with the venue: re-send orders that never arrived, take in fills
        that happened unseen (in time order), retry orders the venue ended, cancel unknown
        orders carrying this instance's prefix.

        Unless ``everything`` is asked for, only the orders whose record changed since the last
        reconciliation are looked at: the others agreed then and nothing has moved them since,
        and every order the grid sends is recorded (so changes) once sent. A position change
        after every fill then costs what changed, not the whole ladder."""
        mark, changed = ctx.order_changes(self._order_mark)
        self._order_mark = mark
        ids = None if everything else changed  # None: look at every order
        st = self.state
        if ids is None:
            slots = [s for s in (st.initial, st.exit, *st.slots) if s is not None]
        else:
            slots = self._slots_of(ids)
        known: set[str] = set()
        finished: list[Order] = []
        # Runs after every fill: the loop keeps to locals and plain comparisons.
        client_id, order_of = self.orders.client_id, ctx.order
        pending, open_ = SlotStatus.PENDING_SUBMIT, SlotStatus.OPEN
        for slot in slots:
            if slot.status is not pending and slot.status is not open_:
                continue
            cached = slot.cached_id
            cid = cached[1] if cached is not None and cached[0] == slot.rev else client_id(slot)
            known.add(cid)
            order = order_of(cid)
            if order is None:
                self._resend(ctx, slot)
            elif order.status in _LIVE:
                slot.status = open_
                if slot.done + order.filled_qty > slot.filled:
                    self._sync_fill(slot, order)
            else:
                finished.append(order)
        for order in sorted(finished, key=self._path_order):
            if order.status is OrderStatus.FILLED:
                self._apply(ctx, order)
            else:
                self.on_order_update(ctx, OrderUpdate(order=order))
        for cid in self._unknown_live(ctx, known, ids):
            ctx.log.warning("%s: canceling unknown grid order %s", self.symbol, cid)
            ctx.cancel(cid)
        self._sync_every_candle(ctx)

    def _slots_of(self, ids: frozenset[str]) -> list[OrderSlot]:
        """The slots whose current order is one of ``ids``, in ladder order (initial, exit,
        then the levels up), as a full reconciliation would meet them."""
        rank = {"initial": -2, "exit": -1}
        found = [f for f in map(self._find, ids) if f is not None]
        found.sort(key=lambda f: rank.get(f[0]) or int(f[0]))
        return [slot for _, slot in found]

    def _unknown_live(
        self, ctx: StrategyContext, known: set[str], ids: frozenset[str] | None
    ) -> list[str]:
        """Ids of this symbol's live orders that carry this instance's prefix but belong to no
        slot (among ``ids`` only, when given), in the context's order."""
        prefix = self.prefix

        def unknown(cid: str) -> bool:
            return cid.startswith(prefix) and cid not in known and self._find(cid) is None

        def live(cid: str) -> bool:
            order = ctx.order(cid)
            return order is not None and order.status in _LIVE

        if ids is not None and not any(live(cid) and unknown(cid) for cid in ids):
            return []  # the usual case after a fill
        return [
            o.client_order_id
            for o in ctx.open_orders(self.symbol)
            if (ids is None or o.client_order_id in ids) and unknown(o.client_order_id)
        ]

    def _path_order(self, order: Order) -> tuple[int, Decimal]:
        """Orders that ended unseen, in the order the price reached them: by time, and within
        one moment outward from the empty level (the price moves away from the last fill)."""
        st = self.state
        empty = st.levels[st.empty] if st.empty is not None else Decimal(0)
        price = order.intent.price if order.intent.price is not None else empty
        return order.updated_at, abs(price - empty)

    def _resend(self, ctx: StrategyContext, slot: OrderSlot) -> None:
        """Submit a persisted id the venue never received, unchanged (grid spec §2)."""
        st = self.state
        slot.status = SlotStatus.PENDING_SUBMIT
        if slot is st.initial:
            ctx.submit(self.orders.market_order(slot, reduce_only=False, tag="grid_initial"))
        elif slot is st.exit:
            ctx.submit(self.orders.market_order(slot, reduce_only=True, tag="grid_exit"))
        else:
            i = next(k for k, s in enumerate(st.slots) if s is slot)
            ctx.submit(self.orders.level_order(slot, st.levels[i]))

    def report(self) -> dict[str, str]:
        st = self.state
        return {"Grid profit": f"{money_text(st.grid_profit)} over {st.pair_count} completed pairs"}

    def save_state(self) -> JsonState:
        return self.state.to_json()

    def load_state(self, state: JsonState) -> None:
        self.state = ClassicState.from_json(state)
        self._order_mark = None
        self._set_phase(self.state.phase)

    # -- decisions the subclass makes ------------------------------------------------------------
    @abstractmethod
    def _apply(self, ctx: StrategyContext, order: Order) -> None:
        """Book the cumulative fills of ``order`` and act when it is complete."""

    @abstractmethod
    def _initial_failed(self, ctx: StrategyContext, order: Order) -> None:
        """The initial market order ended without filling completely."""
