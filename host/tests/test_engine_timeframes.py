"""Higher timeframes in the engine: delivered highest first, never visible before their close,
built exactly from the chart candles, across a real 33-hour exchange gap."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import numpy as np

from tb_exchange_paper import PaperConfig, PaperExchange
from tbhost.candles import read_candle_csv
from tbhost.datasets import BUNDLED
from tbhost.engine.backtest import run_backtest
from tbhost.engine.instruments import backtest_instrument
from tbhost.engine.market_data import resample
from tbsdk import Strategy, StrategyConfig, StrategyContext
from tbsdk.model import CandleClosed

HOUR = 3_600_000
FOUR = 4 * HOUR


class Watch(Strategy[StrategyConfig]):
    name: ClassVar[str] = "watch"
    api_version: ClassVar[str] = "1.0"
    config_class: ClassVar[type[StrategyConfig]] = StrategyConfig

    def __init__(self, config: StrategyConfig) -> None:
        super().__init__(config)
        self.seen: list[tuple[str, int, int, int]] = []
        self.leaks: list[Any] = []

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.subscribe("BTC/USDT", "1h")
        ctx.subscribe("BTC/USDT", "4h")

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        now = ctx.now()
        htf = ctx.history("BTC/USDT", "4h")
        if len(htf) and int(htf.ts[-1]) + FOUR > now:
            self.leaks.append((event.timeframe, now, int(htf.ts[-1])))
        self.seen.append((event.timeframe, event.candle.ts, now, len(htf)))


def _window() -> Any:
    path = next(d.path for d in BUNDLED if d.timeframe == "1h")
    arrays = read_candle_csv(path, HOUR)
    start = int(np.searchsorted(arrays.ts, 1_517_961_600_000))  # 2018-02-07 00:00 UTC
    return arrays.slice(start, start + 200)


def test_higher_timeframe_order_visibility_and_values() -> None:
    candles = _window()
    assert (np.diff(candles.ts) > HOUR).sum() == 1  # the real 2018-02-08 outage is inside
    instrument = backtest_instrument("paper", "BTC/USDT")
    exchange = PaperExchange(PaperConfig(instruments=(instrument,)))
    strategy = Watch(StrategyConfig())
    asyncio.run(run_backtest(strategy, exchange, instrument, candles, "1h"))

    assert strategy.leaks == []
    events = strategy.seen
    assert [e for e in events if e[0] == "1h"] == [
        ("1h", int(t), int(t) + HOUR, e[3])
        for t, e in zip(candles.ts, [e for e in events if e[0] == "1h"], strict=True)
    ]
    four = [e for e in events if e[0] == "4h"]
    for k, (tf, ts, now, _) in enumerate(events):
        if tf == "4h":
            # A 4h candle arrives at its close, or at the first chart close after a gap ends it,
            # and always just before the chart candle closing at that same instant.
            assert now >= ts + FOUR
            assert events[k + 1][0] == "1h"
            assert events[k + 1][2] == now

    # Independent aggregation of the chart candles into UTC 4h buckets.
    buckets: dict[int, list[int]] = {}
    for i, t in enumerate(candles.ts):
        buckets.setdefault(int(t) - int(t) % FOUR, []).append(i)
    last_close = int(candles.ts[-1]) + HOUR
    complete = [b for b in sorted(buckets) if b + FOUR <= last_close]
    assert [ts for _, ts, _, _ in four] == complete
    htf = resample(candles, "1h", "4h")
    for k, b in enumerate(complete):
        rows = buckets[b]
        assert htf.open[k] == candles.open[rows[0]]
        assert htf.close[k] == candles.close[rows[-1]]
        assert htf.high[k] == candles.high[rows].max()
        assert htf.low[k] == candles.low[rows].min()
    assert any(len(buckets[b]) < 4 for b in complete)  # a bucket cut short by the gap is kept
