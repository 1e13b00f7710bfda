"""RSI reversal: buy when RSI of closes leaves oversold, sell when it leaves overbought, with a
take-profit and a stop-loss around the entry fill.

Long only, one position at a time:

* **Entry** (market): RSI(``rsi_length``) crosses up through ``oversold`` while flat.
* **Brackets** (reduce-only), placed as soon as the entry fills, from its fill price: a limit
  sell at ``+take_profit_pct`` and a stop-market sell at ``-stop_loss_pct``. When one fills, the
  other is canceled.
* **Exit** (market, reduce-only): RSI crosses down through ``overbought``; both brackets are
  canceled first, so the exit is the only order left to reduce the position.

Fees are not a strategy setting: a backtest takes them from the instrument (or the paper
exchange's override), live trading pays the venue's.

**How the RSI stays in step** (the ``candle_filter`` contract: on a candle outside the mask
``on_candle`` must do nothing in any state). In a backtest, ``candle_filter`` computes the
vectorised RSI of the whole series once; ``on_candle`` then only looks values up by candle open
time and changes no state unless there is a crossing. In paper and live mode ``candle_filter``
is never called, and ``on_candle`` advances a streaming RSI through every candle since the one
it saw last, read from ``ctx.history``, so a missed candle is caught up, not lost. Both are the
same kernel from the same first candle, hence the same bits and the same decisions (see
``_rsi_cross``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from tbsdk import JsonState, Strategy, StrategyConfig, StrategyContext
from tbsdk.ids import base36, bot_key
from tbsdk.model import (
    CandleArrays,
    CandleClosed,
    FillEvent,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
)

from ._rsi_cross import Cross, RsiCrosses

__all__ = ["RsiReversal", "RsiReversalConfig"]

WARMUP_LENGTHS = 10
"""History asked for at start, in RSI lengths: the seed's weight in Wilder's average falls as
``(1 - 1/n) ** k``, to about e^-10 after ten lengths, so a live bot's first values are settled."""

_ORDER_SLOTS = ("entry", "tp", "sl", "exit")


class RsiReversalConfig(StrategyConfig):
    symbol: str = Field(default="BTC/USDT", description="ccxt unified symbol to trade.")
    timeframe: str = Field(default="1h", description="Chart timeframe the RSI is computed on.")
    rsi_length: int = Field(default=14, ge=2, le=500, description="RSI length, candles.")
    oversold: float = Field(
        default=30.0, gt=0, lt=100, description="Buy when RSI crosses up through this level."
    )
    overbought: float = Field(
        default=70.0, gt=0, lt=100, description="Sell when RSI crosses down through this level."
    )
    take_profit_pct: Decimal = Field(
        default=Decimal(2),
        gt=0,
        le=100,
        description="Take-profit distance above the entry fill price, percent.",
    )
    stop_loss_pct: Decimal = Field(
        default=Decimal(1),
        gt=0,
        lt=100,
        description="Stop-loss distance below the entry fill price, percent.",
    )
    qty: Decimal = Field(
        default=Decimal("0.01"),
        gt=0,
        description="Order size, contracts (0.01 BTC is above the 5 USDT minimum notional of "
        "BTC/USDT at any price BTC has traded since 2017).",
    )

    @model_validator(mode="after")
    def _oversold_below_overbought(self) -> RsiReversalConfig:
        if self.oversold >= self.overbought:
            raise ValueError(
                f"oversold ({self.oversold}) must be below overbought ({self.overbought})"
            )
        return self


class RsiReversal(Strategy[RsiReversalConfig]):
    name: ClassVar[str] = "rsi_reversal"
    api_version: ClassVar[str] = "1.0"
    config_class: ClassVar[type[StrategyConfig]] = RsiReversalConfig

    def __init__(self, config: RsiReversalConfig) -> None:
        super().__init__(config)
        self.rsi = RsiCrosses(config.rsi_length, config.oversold, config.overbought)
        self.seq = 0  # one per position, so every order id is new and deterministic
        self.orders: dict[str, str | None] = dict.fromkeys(_ORDER_SLOTS)
        """Client ids of this position's orders that may still be live, by purpose."""

    # -- lifecycle ---------------------------------------------------------------------------
    def candle_filter(
        self, symbol: str, timeframe: str, candles: CandleArrays
    ) -> npt.NDArray[np.bool_] | None:
        if (symbol, timeframe) != (self.config.symbol, self.config.timeframe):
            return None
        return self.rsi.use_series(candles)

    def on_start(self, ctx: StrategyContext) -> None:
        warmup = WARMUP_LENGTHS * self.config.rsi_length
        ctx.subscribe(self.config.symbol, self.config.timeframe, warmup=warmup)

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        cfg = self.config
        if (event.symbol, event.timeframe) != (cfg.symbol, cfg.timeframe):
            return
        cross = self.rsi.at(ctx, event.symbol, event.timeframe, event.candle.ts)
        if cross is Cross.UP and not event.replay:
            # A replayed candle is stale: entering on its signal would buy at an old price.
            self._enter(ctx)
        elif cross is Cross.DOWN:
            position = ctx.position(cfg.symbol)
            if not position.is_flat:
                self._exit(ctx, position.size, "rsi")

    def on_fill(self, ctx: StrategyContext, event: FillEvent) -> None:
        order = event.order
        if order.status is not OrderStatus.FILLED:
            return  # brackets are sized by the complete entry; exits act when done
        cid = order.client_order_id
        if cid == self.orders["entry"]:
            self.orders["entry"] = None
            self._place_brackets(ctx, order)
        elif cid in (self.orders["tp"], self.orders["sl"]):
            # One bracket closed the position: the other must not open a new one later.
            other = self.orders["sl"] if cid == self.orders["tp"] else self.orders["tp"]
            self.orders["tp"] = self.orders["sl"] = None
            if other is not None:
                ctx.cancel(other)
        elif cid == self.orders["exit"]:
            self.orders["exit"] = None

    def on_order_update(self, ctx: StrategyContext, event: OrderUpdate) -> None:
        order = event.order
        if not order.status.is_terminal:
            return
        cid = order.client_order_id
        slot = next((s for s, known in self.orders.items() if known == cid), None)
        if slot is None:
            return
        self.orders[slot] = None
        if slot == "entry" and order.filled_qty > 0:
            # Partly filled, then canceled or expired: protect what was bought.
            self._place_brackets(ctx, order)
        elif slot == "sl" and not event.by_strategy:
            # The position has no stop (refused, e.g. the price is already below it, or
            # expired): close it now rather than hold it unprotected. Its size is the stop's,
            # since the position report of the entry fill may not have arrived yet.
            ctx.log.warning("stop %s is %s (%s); closing", cid, order.status, order.reason)
            self._exit(ctx, order.intent.qty, "stop refused")
        elif order.status is OrderStatus.REJECTED:
            ctx.log.warning("order %s rejected: %s", cid, order.reason)

    # -- actions -----------------------------------------------------------------------------
    def _enter(self, ctx: StrategyContext) -> None:
        if not ctx.position(self.config.symbol).is_flat or any(
            self._live(ctx, self.orders[slot]) for slot in ("entry", "exit")
        ):
            return
        self.seq += 1
        self.orders = dict.fromkeys(_ORDER_SLOTS)
        intent = self._intent(ctx, "ent", OrderSide.BUY, OrderType.MARKET, self.config.qty)
        self.orders["entry"] = intent.client_order_id
        ctx.submit(intent)

    def _place_brackets(self, ctx: StrategyContext, entry: Order) -> None:
        cfg = self.config
        price = entry.avg_fill_price
        assert price is not None  # a filled order has a fill price
        inst = ctx.instrument(cfg.symbol)
        hundred = Decimal(100)
        # Both levels are rounded away from the entry, so neither exit can fire on a smaller
        # move than configured: the take-profit up (ceil) never takes less than the profit
        # asked for, the stop down (floor) never stops out on less than the loss allowed.
        tp = inst.ceil_price(price * (1 + cfg.take_profit_pct / hundred))
        sl = inst.floor_price(price * (1 - cfg.stop_loss_pct / hundred))
        qty = entry.filled_qty
        # Reduce-only: a bracket left behind after the position closed must never open a short.
        take = self._intent(ctx, "tpl", OrderSide.SELL, OrderType.LIMIT, qty, price=tp)
        stop = self._intent(ctx, "stl", OrderSide.SELL, OrderType.STOP_MARKET, qty, trigger=sl)
        self.orders["tp"], self.orders["sl"] = take.client_order_id, stop.client_order_id
        ctx.submit(take)
        ctx.submit(stop)

    def _exit(self, ctx: StrategyContext, qty: Decimal, why: str) -> None:
        if self._live(ctx, self.orders["exit"]):
            return
        for slot in ("tp", "sl"):
            cid = self.orders[slot]
            if cid is not None:
                # Cancel first: the market exit must be the only order reducing the position.
                ctx.cancel(cid)
                self.orders[slot] = None
        intent = self._intent(ctx, "xit", OrderSide.SELL, OrderType.MARKET, qty)
        self.orders["exit"] = intent.client_order_id
        ctx.log.info("exit %s: %s", intent.client_order_id, why)
        ctx.submit(intent)

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _live(ctx: StrategyContext, cid: str | None) -> bool:
        if cid is None:
            return False
        order = ctx.order(cid)
        # An id the venue does not know (e.g. refused before it was stored) rests nowhere.
        return order is not None and not order.status.is_terminal

    def _intent(
        self,
        ctx: StrategyContext,
        tag: str,
        side: OrderSide,
        kind: OrderType,
        qty: Decimal,
        *,
        price: Decimal | None = None,
        trigger: Decimal | None = None,
    ) -> OrderIntent:
        bot = ctx.bot
        return OrderIntent(
            client_order_id=f"x{bot_key(bot.account_id, bot.bot_id)}{base36(self.seq, 5)}{tag}",
            symbol=self.config.symbol,
            side=side,
            type=kind,
            qty=qty,
            price=price,
            trigger_price=trigger,
            reduce_only=side is OrderSide.SELL,  # long only: every sell closes
            tag={"ent": "entry", "tpl": "tp", "stl": "sl", "xit": "exit"}[tag],
        )

    # -- persistence -------------------------------------------------------------------------
    def save_state(self) -> JsonState:
        return {"seq": self.seq, "orders": dict(self.orders), "rsi": self.rsi.get_state()}

    def load_state(self, state: JsonState) -> None:
        self.seq = int(state["seq"])
        orders = state["orders"]
        self.orders = {slot: orders.get(slot) for slot in _ORDER_SLOTS}
        self.rsi.set_state(state["rsi"])
