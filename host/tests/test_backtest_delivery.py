"""Restarting a bot inside a backtest (``run_backtest(restart_at=...)``), and the two ways a
strategy whose candle filter hides candles gets some back: ``ctx.deliver_every_candle`` and
``ctx.watch_price``."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pytest

from tb_exchange_paper import PaperConfig, PaperExchange
from tbhost.candles import read_candle_csv
from tbhost.datasets import BUNDLED
from tbhost.engine.backtest import BacktestResult, run_backtest
from tbhost.engine.instruments import backtest_instrument
from tbsdk import ConfigError, Strategy, StrategyConfig, StrategyContext
from tbsdk.model import CandleArrays, CandleClosed, StopReason

from .test_backtest_skipping import HOUR, SYMBOL, CrossWithBrackets

ROWS = 3000


def _candles() -> CandleArrays:
    path = next(d.path for d in BUNDLED if d.timeframe == "1h")
    return read_candle_csv(path, HOUR).slice(45_000, 45_000 + ROWS)


def _backtest(strategy: Strategy[Any], **kwargs: Any) -> BacktestResult:
    instrument = backtest_instrument("paper", SYMBOL)
    exchange = PaperExchange(PaperConfig(instruments=(instrument,), balances={"USDT": 10_000}))
    return asyncio.run(run_backtest(strategy, exchange, instrument, _candles(), "1h", **kwargs))


@pytest.mark.parametrize("skip", [True, False])
def test_restarts_change_nothing(skip: bool) -> None:
    whole = _backtest(CrossWithBrackets(StrategyConfig()), use_candle_filter=skip)
    made: list[CrossWithBrackets] = []

    def fresh() -> CrossWithBrackets:
        made.append(CrossWithBrackets(StrategyConfig()))
        return made[-1]

    points = list(range(97, ROWS, ROWS // 20))[:20]
    restarted = _backtest(
        fresh(), use_candle_filter=skip, restart_at=points, strategy_factory=fresh
    )
    assert len(made) == 21  # the first instance and one per restart
    assert len(whole.trades) > 10
    assert restarted.trades == whole.trades
    assert restarted.orders == whole.orders
    assert restarted.end_equity == whole.end_equity
    assert restarted.strategy_state == whole.strategy_state


def test_a_strategy_that_loses_its_state_shows_it() -> None:
    """The check can fail: an instance that forgets its sequence reuses order ids."""

    class Forgetful(CrossWithBrackets):
        def load_state(self, state: dict[str, Any]) -> None:
            pass

    whole = _backtest(CrossWithBrackets(StrategyConfig()))
    restarted = _backtest(
        Forgetful(StrategyConfig()),
        restart_at=[ROWS // 2],
        strategy_factory=lambda: Forgetful(StrategyConfig()),
    )
    assert restarted.trades != whole.trades


def test_restart_needs_a_factory_and_indices_in_range() -> None:
    with pytest.raises(ConfigError, match="strategy_factory"):
        _backtest(CrossWithBrackets(StrategyConfig()), restart_at=[10])
    with pytest.raises(ConfigError, match="within 1"):
        _backtest(
            CrossWithBrackets(StrategyConfig()),
            restart_at=[ROWS],
            strategy_factory=lambda: CrossWithBrackets(StrategyConfig()),
        )


class EveryCandleWhileAsked(Strategy[StrategyConfig]):
    """Masks every candle out, then asks for every candle between two times."""

    name: ClassVar[str] = "dense"
    api_version: ClassVar[str] = "1.0"
    config_class: ClassVar[type[StrategyConfig]] = StrategyConfig

    def __init__(self, config: StrategyConfig, on_at: int, off_at: int) -> None:
        super().__init__(config)
        self.on_at, self.off_at = on_at, off_at
        self.seen: list[int] = []
        self.stopped: StopReason | None = None

    def candle_filter(
        self, symbol: str, timeframe: str, candles: CandleArrays
    ) -> npt.NDArray[np.bool_]:
        mask = np.zeros(len(candles), dtype=np.bool_)
        mask[np.searchsorted(candles.ts, self.on_at)] = True
        return mask

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.subscribe(SYMBOL, "1h")

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        ts = event.candle.ts
        self.seen.append(ts)
        if ts == self.on_at:
            ctx.deliver_every_candle(SYMBOL, "1h")
        elif ts >= self.off_at:
            ctx.deliver_every_candle(SYMBOL, "1h", on=False)

    def on_stop(self, ctx: StrategyContext, reason: StopReason) -> None:
        self.stopped = reason


def test_deliver_every_candle_overrides_the_mask_until_switched_off() -> None:
    ts = _candles().ts
    on_at, off_at = int(ts[100]), int(ts[150])
    strategy = EveryCandleWhileAsked(StrategyConfig(), on_at, off_at)
    _backtest(strategy)
    assert strategy.seen == [int(t) for t in ts[100:151]]
    assert strategy.stopped is StopReason.FINISHED


class NewHighs(Strategy[StrategyConfig]):
    """Masks every candle out and watches for each new high, as a trailing stop would."""

    name: ClassVar[str] = "highs"
    api_version: ClassVar[str] = "1.0"
    config_class: ClassVar[type[StrategyConfig]] = StrategyConfig

    def __init__(self, config: StrategyConfig) -> None:
        super().__init__(config)
        self.seen: list[int] = []

    def candle_filter(
        self, symbol: str, timeframe: str, candles: CandleArrays
    ) -> npt.NDArray[np.bool_]:
        return np.zeros(len(candles), dtype=np.bool_)

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.subscribe(SYMBOL, "1h")
        ctx.watch_price(SYMBOL, "1h", above=20_000.0)

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        self.seen.append(event.candle.ts)
        ctx.watch_price(SYMBOL, "1h", above=float(event.candle.high) * 1.01)


def test_watch_price_delivers_each_candle_that_reaches_it() -> None:
    candles = _candles()
    expected, level = [], 20_000.0
    for ts, high in zip(candles.ts, candles.high, strict=True):
        if high >= level:
            expected.append(int(ts))
            level = float(high) * 1.01
    strategy = NewHighs(StrategyConfig())
    _backtest(strategy)
    assert len(expected) > 5
    assert strategy.seen == expected
