"""SMA cross: long when the fast average of closes crosses above the slow one, flat below."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from pydantic import Field, model_validator

from tbsdk import JsonState, Strategy, StrategyConfig, StrategyContext
from tbsdk.ids import base36, bot_key
from tbsdk.model import CandleClosed, OrderIntent, OrderSide, OrderType


class SmaCrossConfig(StrategyConfig):
    symbol: str = Field(default="BTC/USDT", description="ccxt unified symbol to trade.")
    timeframe: str = Field(default="1h", description="Chart timeframe the averages use.")
    fast: int = Field(default=10, ge=1, le=500, description="Fast SMA length, candles.")
    slow: int = Field(default=30, ge=2, le=2000, description="Slow SMA length, candles.")
    qty: Decimal = Field(default=Decimal("0.01"), gt=0, description="Order size, contracts.")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> SmaCrossConfig:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be shorter than slow ({self.slow})")
        return self


class SmaCross(Strategy[SmaCrossConfig]):
    name: ClassVar[str] = "sma_cross"
    api_version: ClassVar[str] = "1.0"
    config_class: ClassVar[type[StrategyConfig]] = SmaCrossConfig

    def __init__(self, config: SmaCrossConfig) -> None:
        super().__init__(config)
        self.seq = 0  # one per position, so every order id is new and deterministic
        self.above: bool | None = None

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.subscribe(self.config.symbol, self.config.timeframe, warmup=self.config.slow + 1)

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        closes = ctx.history(event.symbol, event.timeframe, self.config.slow).close
        if len(closes) < self.config.slow:
            return
        above = bool(closes[-self.config.fast :].mean() > closes.mean())
        crossed = self.above is not None and above != self.above
        self.above = above
        if not crossed or event.replay:
            return
        position = ctx.position(event.symbol)
        if above and position.is_flat:
            self.seq += 1
            ctx.submit(self._market(ctx, OrderSide.BUY, self.config.qty, "ent", reduce=False))
        elif not above and not position.is_flat:
            ctx.submit(self._market(ctx, OrderSide.SELL, position.size, "xit", reduce=True))

    def _market(
        self, ctx: StrategyContext, side: OrderSide, qty: Decimal, tag: str, *, reduce: bool
    ) -> OrderIntent:
        bot = ctx.bot
        cid = f"x{bot_key(bot.account_id, bot.bot_id)}{base36(self.seq, 5)}{tag}"
        return OrderIntent(
            client_order_id=cid,
            symbol=self.config.symbol,
            side=side,
            type=OrderType.MARKET,
            qty=qty,
            reduce_only=reduce,
            tag=tag,
        )

    def save_state(self) -> JsonState:
        return {"seq": self.seq, "above": self.above}

    def load_state(self, state: JsonState) -> None:
        self.seq = int(state["seq"])
        self.above = state["above"]
