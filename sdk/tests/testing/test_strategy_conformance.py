"""StrategyConformance against an example strategy, and proof that each check can fail."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from _pytest.outcomes import Failed
from pydantic import ConfigDict, Field, model_validator

from tbsdk import Strategy, StrategyConfig, StrategyContext
from tbsdk.model import CandleArrays, CandleClosed, Instrument, OrderIntent, OrderSide, OrderType
from tbsdk.testing import RunResult, StrategyConformance, load_candles, run_strategy
from tbsdk.testing import spot_instrument as spot

pytest_plugins = ["tbsdk.testing"]


class SmaCrossConfig(StrategyConfig):
    fast: int = Field(default=10, ge=2, description="Fast moving-average length, candles.")
    slow: int = Field(default=30, ge=3, description="Slow moving-average length, candles.")
    risk_fraction: Decimal = Field(
        default=Decimal("0.1"), gt=0, le=1, description="Share of equity per entry."
    )

    @model_validator(mode="after")
    def _fast_below_slow(self) -> SmaCrossConfig:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be below slow ({self.slow})")
        return self


class SmaCross(Strategy[SmaCrossConfig]):
    """Long on a fast/slow SMA cross up (limit at the close), out on the cross down (market)."""

    name = "smacross"
    api_version = "1.0"
    config_class = SmaCrossConfig

    def __init__(self, config: SmaCrossConfig) -> None:
        super().__init__(config)
        self.seq = 0
        self.qty = Decimal(0)

    def save_state(self) -> dict[str, Any]:
        return {"seq": self.seq, "qty": str(self.qty)}

    def load_state(self, state: dict[str, Any]) -> None:
        self.seq = int(state["seq"])
        self.qty = Decimal(state["qty"])

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.subscribe(ctx.bot.symbols[0], ctx.bot.timeframe, warmup=self.config.slow)

    def _cid(self, ctx: StrategyContext, purpose: str) -> str:
        return f"{ctx.bot.bot_id}{self.seq}{purpose}"

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        closes = ctx.history(event.symbol, event.timeframe, self.config.slow + 1).close
        fast, slow = self.config.fast, self.config.slow
        now_up = closes[-fast:].mean() > closes[-slow:].mean()
        was_up = closes[-fast - 1 : -1].mean() > closes[-slow - 1 : -1].mean()
        inst = ctx.instrument(event.symbol)
        price = inst.floor_price(event.candle.close)
        if now_up and not was_up and not self.qty:
            qty = inst.floor_size(ctx.equity() * self.config.risk_fraction / price)
            if qty < inst.min_size:
                return
            self.seq += 1
            self.qty = qty
            ctx.submit(self._intent(ctx, event.symbol, OrderSide.BUY, qty, price, "e"))
            ctx.signal("cross_up", price=str(price))
        elif was_up and not now_up and self.qty:
            ctx.submit(self._intent(ctx, event.symbol, OrderSide.SELL, self.qty, None, "x"))
            self.qty = Decimal(0)

    def _intent(
        self,
        ctx: StrategyContext,
        symbol: str,
        side: OrderSide,
        qty: Decimal,
        price: Decimal | None,
        purpose: str,
    ) -> OrderIntent:
        return OrderIntent(
            client_order_id=self._cid(ctx, purpose),
            symbol=symbol,
            side=side,
            type=OrderType.LIMIT if price else OrderType.MARKET,
            qty=qty,
            price=price,
            reduce_only=side is OrderSide.SELL,
            tag="entry" if purpose == "e" else "exit",
        )


class TestSmaCrossConformance(StrategyConformance):
    @pytest.fixture
    def strategy_class(self) -> type[Strategy[Any]]:
        return SmaCross

    @pytest.fixture
    def strategy_settings(self) -> dict[str, Any]:
        return {"fast": 5, "slow": 20}


class TestSmaCrossOnEthBtcHourly(TestSmaCrossConformance):
    """The same suite on another market, through the overridable fixtures."""

    @pytest.fixture
    def conformance_candles(self) -> CandleArrays:
        return load_candles("BINANCE_ETH-BTC_1h")

    @pytest.fixture
    def conformance_symbol(self) -> str:
        return "ETH/BTC"

    @pytest.fixture
    def conformance_timeframe(self) -> str:
        return "1h"

    @pytest.fixture
    def strategy_settings(self) -> dict[str, Any]:
        return {"fast": 3, "slow": 8, "risk_fraction": "0.5"}


# -- each check fails on a strategy that breaks its rule ---------------------------------------


class RandomIds(SmaCross):
    def _cid(self, ctx: StrategyContext, purpose: str) -> str:
        return f"r{random.getrandbits(60)}"


class ReusedIds(SmaCross):
    def _cid(self, ctx: StrategyContext, purpose: str) -> str:
        return f"fixed{purpose}"


class OffLot(SmaCross):
    def _intent(self, *args: Any) -> OrderIntent:
        intent = super()._intent(*args)
        return intent.model_copy(update={"qty": intent.qty + Decimal("0.000001")})


class Silent(SmaCross):
    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        pass


class TupleState(SmaCross):
    def save_state(self) -> dict[str, Any]:
        return {"seq": self.seq, "qty": str(self.qty), "pair": (1, 2)}


class ForgetfulState(SmaCross):
    def load_state(self, state: dict[str, Any]) -> None:
        pass


class MutableConfig(StrategyConfig):
    model_config = ConfigDict(frozen=False)
    n: int = Field(default=1, description="n")


class LaxConfig(StrategyConfig):
    model_config = ConfigDict(extra="ignore")
    n: int = Field(default=1, description="n")


class UndocumentedConfig(StrategyConfig):
    n: int = 1


class NoDefaultConfig(StrategyConfig):
    n: int = Field(description="n")


def _with_config(config: type[StrategyConfig]) -> type[Strategy[Any]]:
    return type("Configured", (SmaCross,), {"config_class": config})


def _runner(cls: type[Strategy[Any]], settings: dict[str, Any]) -> Callable[[], RunResult]:
    candles = load_candles("BINANCE_BTC-USDT_5m")
    instrument: Instrument = spot("BTC/USDT")
    return lambda: run_strategy(cls.from_settings(settings), candles, "BTC/USDT", "5m", instrument)


SETTINGS = {"fast": 5, "slow": 20}
SUITE = StrategyConformance()


def test_nondeterministic_ids_fail_the_determinism_check() -> None:
    with pytest.raises(AssertionError, match="two runs"):
        SUITE.test_two_runs_are_identical(_runner(RandomIds, SETTINGS))


def test_reused_ids_fail_the_uniqueness_check() -> None:
    with pytest.raises(AssertionError, match="names two different intents"):
        SUITE.test_client_order_ids_are_unique_per_intent(_runner(ReusedIds, SETTINGS))


@pytest.mark.parametrize(
    ("cls", "message"),
    [(OffLot, "not a multiple of the lot step"), (Silent, "submitted no order")],
)
def test_invalid_or_missing_orders_fail_the_run_check(
    btc_5m: CandleArrays, cls: type[Strategy[Any]], message: str
) -> None:
    from tbsdk.model import PositionMode

    with pytest.raises((AssertionError, Failed), match=message):
        SUITE.test_runs_on_real_candles_with_valid_orders(
            _runner(cls, SETTINGS), btc_5m, "5m", spot("BTC/USDT"), PositionMode.ONE_WAY
        )


@pytest.mark.parametrize(
    ("cls", "message"), [(TupleState, "not plain JSON"), (ForgetfulState, "does not restore")]
)
def test_state_that_does_not_roundtrip_fails(cls: type[Strategy[Any]], message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        SUITE.test_state_after_a_run_roundtrips(cls, SETTINGS, _runner(cls, SETTINGS))


def test_declaration_checks_fail() -> None:
    class Future(SmaCross):
        api_version = "2.0"

    class Nameless(SmaCross):
        name = ""

    with pytest.raises(AssertionError, match=r"targets SDK API 2\.0"):
        SUITE.test_declares_a_compatible_api_version(Future)
    with pytest.raises(AssertionError, match="must not be empty"):
        SUITE.test_declares_a_name(Nameless)


def test_config_checks_fail() -> None:
    with pytest.raises(AssertionError, match="must be frozen"):
        SUITE.test_config_class_is_a_frozen_strategy_config(_with_config(MutableConfig), {})
    with pytest.raises(Failed, match="DID NOT RAISE"):
        SUITE.test_config_rejects_unknown_fields(_with_config(LaxConfig), {})
    with pytest.raises(AssertionError, match=r"UndocumentedConfig\.n"):
        SUITE.test_every_config_field_has_a_description(_with_config(UndocumentedConfig))
    with pytest.raises(ValueError, match="Field required"):
        SUITE.test_default_config_validates(_with_config(NoDefaultConfig))
