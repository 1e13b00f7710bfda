"""The chart-bar values every decision reads: RSI (with its flat flag), ATR14 and the trend
state, from one of two sources that give the same bits (hyperrsi spec §5, §6, §7).

* **Table** (backtests): :meth:`BarFeed.build_table` computes the vectorised indicators of the
  whole chart series once, in ``Strategy.candle_filter``; values are looked up by open time.
* **Stream** (paper, live, and backtests without the table): streaming RSI, ATR and
  :class:`~.trend.TrendTracker`, advanced from ``ctx.history`` over every candle since the last
  one consumed, so a missed candle is caught up, not lost. Saved with :meth:`get_state`.

Both start at the first candle of the chart series and run the same kernels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tbsdk import StrategyContext
from tbsdk.indicators import ATR, RSI, atr, resample, rsi_with_flat
from tbsdk.model import CandleArrays
from tbsdk.timeframes import timeframe_ms

from .config import HyperRsiConfig
from .trend import TrendSettings, TrendTracker, trend_series, trend_timeframes

__all__ = ["ATR_LENGTH", "BarFeed", "BarTable", "BarValues", "trend_settings"]

ATR_LENGTH = 14
"""ATR period of every price formula (spec §2): fixed, not a setting."""

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def trend_settings(cfg: HyperRsiConfig) -> TrendSettings:
    return TrendSettings(
        chart_timeframe=cfg.timeframe,
        trend_timeframe=cfg.trend_timeframe,
        use_longer_trend=cfg.use_longer_trend,
        longer_trend_ma=cfg.longer_trend_ma,
    )


def warm_bars(cfg: HyperRsiConfig) -> int:
    """Chart bars consumed before RSI and ATR count as warm (IND §8: ``10 n``)."""
    return max(10 * cfg.rsi_length, 10 * ATR_LENGTH)


@dataclass(frozen=True, slots=True)
class BarValues:
    """Indicator values of one closed chart bar (open time ``ts``)."""

    ts: int
    rsi_prev: float
    rsi: float
    flat_prev: bool
    flat: bool
    atr: float
    trend: int
    ready: bool


@dataclass(frozen=True, slots=True)
class BarTable:
    """The vectorised values of a whole chart series."""

    ts: npt.NDArray[np.int64]
    close_ts: npt.NDArray[np.int64]
    high: FloatArray
    low: FloatArray
    close: FloatArray
    rsi: FloatArray
    flat: BoolArray
    atr: FloatArray
    trend: npt.NDArray[np.int8]
    ready: BoolArray

    def index(self, ts: int) -> int | None:
        i = int(np.searchsorted(self.ts, ts))
        return i if i < len(self.ts) and int(self.ts[i]) == ts else None

    def values(self, i: int) -> BarValues:
        prev, prev_flat = (
            (float(self.rsi[i - 1]), bool(self.flat[i - 1])) if i else (math.nan, False)
        )
        return BarValues(
            int(self.ts[i]),
            prev,
            float(self.rsi[i]),
            prev_flat,
            bool(self.flat[i]),
            float(self.atr[i]),
            int(self.trend[i]),
            bool(self.ready[i]),
        )


def _encode(value: float) -> float | None:
    return None if math.isnan(value) else value


def _decode(value: float | None) -> float:
    return math.nan if value is None else float(value)


class BarFeed:
    """Bar values for one symbol's chart timeframe, from a table or from streams."""

    def __init__(self, cfg: HyperRsiConfig) -> None:
        self.cfg = cfg
        self.period = timeframe_ms(cfg.timeframe)
        self.warm = warm_bars(cfg)
        self.trend_tfs: tuple[str, ...] = (
            trend_timeframes(trend_settings(cfg)).all() if cfg.uses_trend else ()
        )
        self.table: BarTable | None = None
        self._reset_stream()

    # -- table (backtests) -------------------------------------------------------------------
    def can_tabulate(self) -> bool:
        """Whether every trend timeframe can be resampled from the chart series (it is a
        multiple of the chart timeframe); otherwise backtests stream."""
        return all(
            timeframe_ms(tf) >= self.period and timeframe_ms(tf) % self.period == 0
            for tf in self.trend_tfs
        )

    def build_table(self, candles: CandleArrays) -> BarTable:
        """Vectorised values of the whole chart series; the trend timeframes are resampled from
        it exactly as the host builds their candles (complete buckets only)."""
        close = np.ascontiguousarray(candles.close, dtype=np.float64)
        high = np.ascontiguousarray(candles.high, dtype=np.float64)
        low = np.ascontiguousarray(candles.low, dtype=np.float64)
        ts = np.asarray(candles.ts, dtype=np.int64)
        values, flat = rsi_with_flat(close, self.cfg.rsi_length)
        atr14 = atr(high, low, close, ATR_LENGTH)
        ready = np.arange(1, len(ts) + 1) >= self.warm
        trend = np.zeros(len(ts), dtype=np.int8)
        if self.trend_tfs:
            htf: dict[str, CandleArrays] = {}
            for tf in self.trend_tfs:
                r = resample(
                    ts, candles.open, high, low, close, candles.volume, self.cfg.timeframe, tf
                )
                htf[tf] = CandleArrays(r.open_time, r.open, r.high, r.low, r.close, r.volume)
            series = trend_series(trend_settings(self.cfg), ts, htf)
            trend = np.asarray(series.state, dtype=np.int8)
            ready &= np.asarray(series.ready, dtype=np.bool_)
        self.table = BarTable(
            ts, ts + self.period, high, low, close, values, flat, atr14, trend, ready
        )
        return self.table

    # -- look-ups ----------------------------------------------------------------------------
    def at_bar(self, ctx: StrategyContext, ts: int) -> BarValues | None:
        """Values of the chart bar that opened at ``ts`` (it has closed); None for a stale bar
        (at or before the last one consumed: it never decides twice)."""
        table = self.table
        if table is not None:
            i = table.index(ts)
            if i is not None:
                return table.values(i)
        return self._advance(ctx, ts)

    def latest(self, ctx: StrategyContext) -> BarValues | None:
        """Values of the last closed chart bar the host shows (for decisions between bars:
        fills, timers)."""
        hist = ctx.history(self.cfg.symbol, self.cfg.timeframe, 1)
        if len(hist) == 0:
            return None
        ts = int(hist.ts[-1])
        table = self.table
        if table is not None:
            i = table.index(ts)
            if i is not None:
                return table.values(i)
        if self._last_ts is not None and ts <= self._last_ts:
            return self._last
        return self._advance(ctx, ts)

    # -- stream (paper, live) ----------------------------------------------------------------
    def _reset_stream(self) -> None:
        self._rsi = RSI(self.cfg.rsi_length)
        self._atr = ATR(ATR_LENGTH)
        self._trend = TrendTracker(trend_settings(self.cfg)) if self.trend_tfs else None
        self._count = 0
        self._last_ts: int | None = None
        self._last: BarValues | None = None
        self._forming: tuple[int, int] | None = None

    def _advance(self, ctx: StrategyContext, ts: int) -> BarValues | None:
        if self._last_ts is not None and ts <= self._last_ts:
            return None
        bars = self._bars_since(ctx, ts)
        if len(bars) == 0:
            return None
        values, flats = self._rsi.update_many_with_flat(bars.close)
        atrs = self._atr.update_many(bars.high, bars.low, bars.close)
        last = self._last
        prev, prev_flat = (last.rsi, last.flat) if last is not None else (math.nan, False)
        trend, trend_ready = 0, True
        for k in range(len(bars)):
            bar_ts = int(bars.ts[k])
            if self._trend is not None:
                self._feed_trend(ctx, bar_ts)
                trend = self._trend.on_chart_bar(bar_ts)
                trend_ready = self._trend.ready
            self._count += 1
            cur, cur_flat = float(values[k]), bool(flats[k])
            last = BarValues(
                bar_ts, prev, cur, prev_flat, cur_flat, float(atrs[k]), trend,
                self._count >= self.warm and trend_ready,
            )  # fmt: skip
            prev, prev_flat = cur, cur_flat
        self._last, self._last_ts = last, ts
        return last

    def _bars_since(self, ctx: StrategyContext, ts: int) -> CandleArrays:
        cfg = self.cfg
        if self._last_ts is not None:
            # Candles sit on the timeframe grid, so this count reaches back to the last consumed
            # candle itself; finding it proves no candle in between was lost.
            count = (ts - self._last_ts) // self.period + 1
            hist = ctx.history(cfg.symbol, cfg.timeframe, count)
            if len(hist) and int(hist.ts[0]) <= self._last_ts:
                keep = (hist.ts > self._last_ts) & (hist.ts <= ts)
                return _rows(hist, keep)
            ctx.log.warning(
                "indicators: the candles after %s are no longer in history; rebuilding RSI, "
                "ATR and trend from the history available (values may differ slightly)",
                self._last_ts,
            )
            self._reset_stream()
        hist = ctx.history(cfg.symbol, cfg.timeframe)
        return _rows(hist, hist.ts <= ts)

    def provisional_rsi(self, price: float) -> tuple[float, bool]:
        """RSI and flat flag if the forming bar closed at ``price`` (intrabar, [IND §4.1]); the
        stream is not changed. Stream mode only (ticks exist in paper and live mode)."""
        probe = RSI(self.cfg.rsi_length)
        probe.set_state(self._rsi.get_state())
        return probe.update(price), probe.flat

    def forming_trend(self, ctx: StrategyContext, bar_open: int) -> int:
        """Trend state of the forming bar: fixed at its open (§5.2, §7.5)."""
        if self._trend is None:
            return 0
        if self._forming is not None and self._forming[0] == bar_open:
            return self._forming[1]
        probe = TrendTracker(trend_settings(self.cfg))
        probe.set_state(self._trend.get_state())
        self._feed_trend(ctx, bar_open, probe)
        state = probe.on_chart_bar(bar_open)
        self._forming = (bar_open, state)
        return state

    def _feed_trend(
        self, ctx: StrategyContext, bar_open: int, tracker: TrendTracker | None = None
    ) -> None:
        """Feed the trend tracker every trend candle closed by ``bar_open`` not yet consumed."""
        tracker = tracker or self._trend
        assert tracker is not None
        for tf in self.trend_tfs:
            period = timeframe_ms(tf)
            last = tracker.last_open_time(tf)
            # Enough to reach back to the last consumed candle even when newer candles (closed
            # after this bar's open) are already visible.
            count = None if last is None else max((ctx.now() - last) // period + 2, 2)
            hist = ctx.history(self.cfg.symbol, tf, count)
            for k in range(len(hist)):
                open_ts = int(hist.ts[k])
                if (last is not None and open_ts <= last) or open_ts + period > bar_open:
                    continue
                tracker.on_candle(tf, open_ts, float(hist.close[k]))

    # -- persistence -------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """Stream states (§17). A feed that used the table saves none: a restarted backtest
        rebuilds the table, a live bot rebuilds the streams from history (logged)."""
        if self.table is not None or self._last is None:
            return {}
        last = self._last
        return {
            "rsi": self._rsi.get_state(),
            "atr": self._atr.get_state(),
            "trend": None if self._trend is None else self._trend.get_state(),
            "count": self._count,
            "last_ts": self._last_ts,
            "last": [
                last.ts, _encode(last.rsi_prev), _encode(last.rsi), last.flat_prev, last.flat,
                _encode(last.atr), last.trend, last.ready,
            ],
        }  # fmt: skip

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`; an empty or unusable state leaves fresh streams."""
        self._reset_stream()
        if not state:
            return
        self._rsi.set_state(state["rsi"])
        self._atr.set_state(state["atr"])
        if self._trend is not None:
            if state.get("trend") is None:
                raise ValueError("indicator state has no trend part")
            self._trend.set_state(state["trend"])
        self._count = int(state["count"])
        self._last_ts = int(state["last_ts"])
        ts, rp, r, fp, f, a, tr, ready = state["last"]
        self._last = BarValues(
            int(ts), _decode(rp), _decode(r), bool(fp), bool(f), _decode(a), int(tr), bool(ready)
        )


def _rows(candles: CandleArrays, keep: npt.NDArray[np.bool_]) -> CandleArrays:
    return CandleArrays(
        candles.ts[keep], candles.open[keep], candles.high[keep], candles.low[keep],
        np.ascontiguousarray(candles.close[keep]), candles.volume[keep],
    )  # fmt: skip
