"""Candle history as a strategy sees it: only candles that have closed, never one ahead.

A backtest knows the whole series up front, so each subscribed timeframe is held as one
``CandleArrays`` and a cursor; ``history`` returns zero-copy views up to the cursor. Higher
timeframes are resampled from the chart series (complete buckets only), and a higher-timeframe
candle becomes visible only once the clock has reached its close time (indicators spec §7.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tbsdk.model import CandleArrays
from tbsdk.timeframes import timeframe_ms


def resample(arrays: CandleArrays, source_tf: str, target_tf: str) -> CandleArrays:
    """Complete ``target_tf`` candles built from ``arrays`` (indicators spec §7.1–7.2)."""
    from tbsdk.indicators import resample as build

    a = arrays
    htf = build(a.ts, a.open, a.high, a.low, a.close, a.volume, source_tf, target_tf)
    return CandleArrays(htf.open_time, htf.open, htf.high, htf.low, htf.close, htf.volume)


@dataclass
class Series:
    """One timeframe of one symbol, with the close time of every candle for the cursor."""

    timeframe: str
    arrays: CandleArrays
    close_ts: npt.NDArray[np.int64] = field(init=False)
    visible: int = 0  # candles closed so far

    def __post_init__(self) -> None:
        self.close_ts = self.arrays.ts + timeframe_ms(self.timeframe)

    def advance(self, now: int) -> range:
        """Move the cursor to ``now``; return the indices of candles that just closed."""
        before, close_ts = self.visible, self.close_ts
        if before >= len(close_ts) or close_ts[before] > now:
            return range(before, before)  # the common case on a higher timeframe: none closed
        if before + 1 == len(close_ts) or close_ts[before + 1] > now:
            self.visible = before + 1  # the common case on the chart timeframe: one closed
        else:
            self.visible = int(close_ts.searchsorted(now, "right"))
        return range(before, self.visible)

    def history(self, count: int | None) -> CandleArrays:
        start = 0 if count is None else max(0, self.visible - count)
        return self.arrays.slice(start, self.visible)


class StoredMarketData:
    """Backtest market data: the chart series of each symbol, resampled on subscription.

    Subscriptions at the chart timeframe or any multiple of it are served; a lower timeframe
    needs its own stored candles and is refused with a message saying so.
    """

    def __init__(self, chart_timeframe: str, chart: dict[str, CandleArrays]) -> None:
        self.chart_timeframe = chart_timeframe
        self.chart = chart
        self.series: dict[tuple[str, str], Series] = {}
        self._desc: list[tuple[str, Series]] | None = None

    def subscribe(self, symbol: str, timeframe: str, warmup: int) -> None:
        if (symbol, timeframe) in self.series:
            return
        if symbol not in self.chart:
            raise ValueError(
                f"no candles loaded for {symbol}; load its {self.chart_timeframe} data"
            )
        if timeframe_ms(timeframe) < timeframe_ms(self.chart_timeframe):
            raise ValueError(
                f"{timeframe} is below the backtest timeframe {self.chart_timeframe}; run the "
                f"backtest on {timeframe} candles and keep the strategy's own timeframe in its "
                f"settings (e.g. `--timeframe {timeframe} --set timeframe={self.chart_timeframe}`)"
            )
        arrays = self.chart[symbol]
        if timeframe != self.chart_timeframe:
            arrays = resample(arrays, self.chart_timeframe, timeframe)
        self.series[(symbol, timeframe)] = Series(timeframe, arrays)
        self._desc = None

    def history(self, symbol: str, timeframe: str, count: int | None) -> CandleArrays:
        series = self.series.get((symbol, timeframe))
        if series is None:
            raise ValueError(
                f"{symbol} {timeframe} is not subscribed; call ctx.subscribe in on_start"
            )
        return series.history(count)

    def by_timeframe_desc(self) -> list[tuple[str, Series]]:
        """Subscriptions, highest timeframe first: the order candle events are delivered in."""
        if self._desc is None:
            self._desc = sorted(
                ((symbol, s) for (symbol, _), s in self.series.items()),
                key=lambda item: (-timeframe_ms(item[1].timeframe), item[0]),
            )
        return self._desc
