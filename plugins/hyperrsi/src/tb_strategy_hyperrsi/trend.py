"""The HYPERRSI trend state, −2 / 0 / +2 per chart bar (hyperrsi spec §7), in two forms.

* :func:`trend_series` (backtests): the whole series at once from the closed candles of every
  trend timeframe, vectorised with ``tbsdk.indicators`` and two compiled kernels (the BB state
  machine in :mod:`.trend_bb` and the sticky state here).
* :class:`TrendTracker` (paper / live): the same computation one candle at a time with the
  streaming indicators and the same kernels, persisted with :meth:`TrendTracker.get_state`.

Both give identical states and readiness on every chart bar fed the same candles (a test checks
it, also across a JSON state round trip). Higher-timeframe values are taken as of the chart bar's
open time (spec §7.5, IND §7.3): a chart bar never sees a candle that closes after it opens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from tbsdk.errors import ConfigError
from tbsdk.indicators import AsOf, asof_index
from tbsdk.model import CandleArrays
from tbsdk.timeframes import timeframe_ms

from .trend_bb import BBStates, BBStream, bb_states
from .trend_cycle import (
    BEAR,
    BULL,
    DEFINED,
    Cycle1Stream,
    Cycle2Stream,
    CycleSeries,
    check_ma_kind,
    cycle1_series,
    cycle2_series,
)

__all__ = [
    "TrendDebug",
    "TrendSeries",
    "TrendSettings",
    "TrendTimeframes",
    "TrendTracker",
    "trend_debug",
    "trend_series",
    "trend_timeframes",
]

IntArray = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]

CHART_TIMEFRAMES: tuple[str, ...] = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h")
CHART_TIMEFRAMES += ("8h", "12h", "1d", "2d", "3d")
TREND_TIMEFRAMES = ("5m", "15m", "30m", "1h", "2h", "4h", "8h", "1d", "2d", "3d")
LONGER_CYCLE, LONGER_CYCLE2 = "1d", "4h"
STATE_SCHEMA = 1

_BB_MA_DEFINED = 8  # a BB as-of code is (BB + 2) | _BB_MA_DEFINED when MA_BBW exists
_BB_NONE = 2  # the code before any BB candle: BB = 0, MA_BBW undefined (spec §7.5 default)


@dataclass(frozen=True)
class TrendSettings:
    """The settings that shape the trend state (spec §4.1, §7.1); validated on creation."""

    chart_timeframe: str
    trend_timeframe: str = "auto"
    use_longer_trend: bool = False
    longer_trend_ma: str = "ema"

    def __post_init__(self) -> None:
        if self.chart_timeframe not in CHART_TIMEFRAMES:
            raise ConfigError(
                f"chart_timeframe must be one of {', '.join(CHART_TIMEFRAMES)}, "
                f"got {self.chart_timeframe!r}"
            )
        if self.trend_timeframe != "auto" and self.trend_timeframe not in TREND_TIMEFRAMES:
            raise ConfigError(
                f"trend_timeframe must be 'auto' or one of {', '.join(TREND_TIMEFRAMES)}, "
                f"got {self.trend_timeframe!r}"
            )
        check_ma_kind(self.longer_trend_ma)


@dataclass(frozen=True)
class TrendTimeframes:
    """The timeframes the trend state reads (spec §7.1)."""

    cycle: str
    bb: str
    cycle2: str | None
    """``"4h"`` with ``use_longer_trend``, else ``None``."""

    def all(self) -> tuple[str, ...]:
        """The distinct timeframes to subscribe to: cycle, BB, then cycle 2."""
        out: list[str] = []
        for tf in (self.cycle, self.bb, self.cycle2):
            if tf is not None and tf not in out:
                out.append(tf)
        return tuple(out)


def trend_timeframes(settings: TrendSettings) -> TrendTimeframes:
    """Spec §7.1: the ``auto`` cycle and the BB timeframe from the chart length T (minutes);
    a fixed ``trend_timeframe`` replaces the cycle only; ``use_longer_trend`` forces the cycle
    to ``1d`` and adds ``4h``. The BB timeframe is never overridden."""
    t = timeframe_ms(settings.chart_timeframe) // 60_000
    cycle = "15m" if t <= 3 else "30m" if t <= 30 else "1h" if t < 240 else "8h"
    bb = "5m" if t <= 3 else "15m" if t <= 15 else "1h"
    if settings.trend_timeframe != "auto":
        cycle = settings.trend_timeframe
    if settings.use_longer_trend:
        return TrendTimeframes(cycle=LONGER_CYCLE, bb=bb, cycle2=LONGER_CYCLE2)
    return TrendTimeframes(cycle=cycle, bb=bb, cycle2=None)


@dataclass(frozen=True)
class TrendSeries:
    """Per chart bar: ``state`` (``trend_state``, spec §7.6) and ``ready`` (the trend inputs of
    spec §5.1 are defined as of the bar's open: the cycle RQK outputs, ``MA_BBW``, and with the
    longer trend a visible 4h VIDYA value)."""

    state: Int8Array
    ready: BoolArray


@njit(cache=True, fastmath=False, error_model="numpy")
def _sticky_run(
    c1: Int8Array, c2: Int8Array, bb: Int8Array, longer: bool, out: Int8Array, s_state: IntArray
) -> None:
    """Spec §7.6 for each chart bar from its as-of cycle code(s) and BB value (sequential ifs).

    ``c2`` is read only with the longer trend. ``s_state[0]`` holds ``S`` between calls."""
    s = s_state[0]
    for t in range(c1.shape[0]):
        code = c1[t]
        bull = (code & BULL) != 0
        bear = (code & BEAR) != 0
        if longer:
            bull = bull and (c2[t] & BULL) != 0
            bear = bear and (c2[t] & BEAR) != 0
        if bull and (longer or bb[t] == 2):
            s = 2
        if s == 2 and not bull:
            s = 0
        if bear and (longer or bb[t] == -2):
            s = -2
        if s == -2 and not bear:
            s = 0
        out[t] = s
    s_state[0] = s


def _close_times(candles: Mapping[str, CandleArrays], tf: str) -> tuple[IntArray, CandleArrays]:
    """Close times of the closed ``tf`` candles, after checking they are on the UTC grid and in
    strictly increasing order."""
    if tf not in candles:
        raise ValueError(f"trend_series: no candles for the trend timeframe {tf!r}")
    c = candles[tf]
    period = timeframe_ms(tf)
    ts = np.asarray(c.ts, dtype=np.int64)
    if len(ts) > 1 and not bool(np.all(ts[1:] > ts[:-1])):
        raise ValueError(f"trend_series: {tf} candle open times must be strictly increasing")
    if bool(np.any(ts % period)):
        raise ValueError(f"trend_series: {tf} candles must be UTC-aligned (IND §7.1)")
    return ts + period, c


@dataclass(frozen=True)
class TrendDebug:
    """Everything :func:`trend_series` computes, for tests and research: per-candle values of
    each timeframe, the as-of index of each chart bar into them (−1 = none visible yet), the
    per-bar inputs of the sticky state and the result."""

    cycle: CycleSeries
    cycle2: CycleSeries | None
    bb: BBStates
    cycle_index: IntArray
    bb_index: IntArray
    cycle2_index: IntArray | None
    bull: BoolArray
    bear: BoolArray
    bb_at_bar: Int8Array
    series: TrendSeries


def _compute(
    settings: TrendSettings,
    chart_open_ts: npt.ArrayLike,
    candles: Mapping[str, CandleArrays],
    debug: bool,
) -> tuple[TrendSeries, TrendDebug | None]:
    tfs = trend_timeframes(settings)
    anchors = np.ascontiguousarray(chart_open_ts, dtype=np.int64)
    if len(anchors) > 1 and not bool(np.all(anchors[1:] > anchors[:-1])):
        raise ValueError("trend_series: chart open times must be strictly increasing")
    longer = settings.use_longer_trend

    close1, cyc_candles = _close_times(candles, tfs.cycle)
    cyc = cycle1_series(cyc_candles.close, longer=longer, ma_kind=settings.longer_trend_ma)
    idx1 = asof_index(close1, anchors)
    # A sentinel after the last candle turns index −1 into the "nothing visible" default.
    c1 = np.append(cyc.code, np.int8(0))[idx1]

    close_bb, bb_candles = _close_times(candles, tfs.bb)
    bbs = bb_states(bb_candles.close, debug=debug)
    idx_bb = asof_index(close_bb, anchors)
    bb = np.append(bbs.bb, np.int8(0))[idx_bb]
    ready = (c1 & DEFINED) != 0
    ready &= np.append(bbs.ma_defined, False)[idx_bb]

    cyc2: CycleSeries | None = None
    idx2: IntArray | None = None
    c2 = c1
    if tfs.cycle2 is not None:
        close2, c2_candles = _close_times(candles, tfs.cycle2)
        cyc2 = cycle2_series(c2_candles.close)
        idx2 = asof_index(close2, anchors)
        c2 = np.append(cyc2.code, np.int8(0))[idx2]
        ready &= (c2 & DEFINED) != 0

    state = np.empty(len(anchors), dtype=np.int8)
    _sticky_run(c1, c2, bb, longer, state, np.zeros(1, dtype=np.int64))
    series = TrendSeries(state=state, ready=ready)
    if not debug:
        return series, None
    bull = (c1 & BULL) != 0
    bear = (c1 & BEAR) != 0
    if longer:
        bull &= (c2 & BULL) != 0
        bear &= (c2 & BEAR) != 0
    dbg = TrendDebug(
        cycle=cyc,
        cycle2=cyc2,
        bb=bbs,
        cycle_index=idx1,
        bb_index=idx_bb,
        cycle2_index=idx2,
        bull=bull,
        bear=bear,
        bb_at_bar=bb,
        series=series,
    )
    return series, dbg


def trend_series(
    settings: TrendSettings, chart_open_ts: npt.ArrayLike, candles: Mapping[str, CandleArrays]
) -> TrendSeries:
    """Trend state and readiness for every chart bar (spec §7.2–7.6, §5.1).

    ``chart_open_ts``: open times of the chart bars, strictly increasing. ``candles``: the
    closed candles of every timeframe in ``trend_timeframes(settings).all()``, UTC-aligned, in
    time order; they may start before and end after the chart bars. Bar i uses only candles with
    ``close_time ≤ chart_open_ts[i]``. ``S`` starts at 0 on the first chart bar and the
    indicators start at each series' first candle, so two calls agree on a bar only if they
    start from the same candles (JMA, VIDYA and the sticky states depend on the start).
    """
    return _compute(settings, chart_open_ts, candles, debug=False)[0]


def trend_debug(
    settings: TrendSettings, chart_open_ts: npt.ArrayLike, candles: Mapping[str, CandleArrays]
) -> TrendDebug:
    """:func:`trend_series` with all intermediate values (slower; for tests and research)."""
    dbg = _compute(settings, chart_open_ts, candles, debug=True)[1]
    assert dbg is not None
    return dbg


class TrendTracker:
    """Streaming form of :func:`trend_series`, with identical values.

    Feed every closed candle of the trend timeframes with :meth:`on_candle` (each timeframe in
    time order; how timeframes interleave does not matter) and call :meth:`on_chart_bar` once
    per chart bar, in order, from the first chart bar on, after the candles that closed by its
    open. A candle that closes after a chart bar's open is never used for that bar, whatever
    the order of the calls.
    """

    def __init__(self, settings: TrendSettings) -> None:
        self.settings = settings
        self.timeframes = trend_timeframes(settings)
        longer = settings.use_longer_trend
        self._cycle = Cycle1Stream(longer=longer, ma_kind=settings.longer_trend_ma)
        self._bb = BBStream()
        self._cycle2 = Cycle2Stream() if longer else None
        self._asof = {"cycle": AsOf(0), "bb": AsOf(_BB_NONE), "cycle2": AsOf(0)}
        self._last_open: dict[str, int | None] = dict.fromkeys(self.timeframes.all())
        self._last_chart_open: int | None = None
        self._s = np.zeros(1, dtype=np.int64)
        self._codes = np.zeros((3, 1), dtype=np.int8)
        self._out = np.zeros(1, dtype=np.int8)
        self._ready = False

    @property
    def ready(self) -> bool:
        """Whether the trend inputs were defined at the last chart bar's open (spec §5.1)."""
        return self._ready

    @property
    def state(self) -> int:
        """``trend_state`` of the last chart bar (0 before the first)."""
        return int(self._s[0])

    def last_open_time(self, timeframe: str) -> int | None:
        """Open time of the last candle of ``timeframe`` consumed (``None`` before the first)."""
        return self._last_open[timeframe]

    def on_candle(self, timeframe: str, open_ts: int, close: float) -> None:
        """Consume one closed candle of a trend timeframe (open time in UTC ms)."""
        if timeframe not in self._last_open:
            raise ValueError(
                f"TrendTracker: {timeframe!r} is not a trend timeframe "
                f"({', '.join(self.timeframes.all())})"
            )
        period = timeframe_ms(timeframe)
        last = self._last_open[timeframe]
        if open_ts % period:
            raise ValueError(f"TrendTracker: {timeframe} candle at {open_ts} is not UTC-aligned")
        if last is not None and open_ts <= last:
            raise ValueError(
                f"TrendTracker: {timeframe} candle at {open_ts} is not after the last one "
                f"consumed ({last})"
            )
        if not math.isfinite(close):
            raise ValueError(f"TrendTracker: {timeframe} candle at {open_ts} has close {close}")
        close_time = open_ts + period
        tfs = self.timeframes
        if timeframe == tfs.cycle:
            self._asof["cycle"].push(close_time, self._cycle.update(close))
        if timeframe == tfs.bb:
            bb, ma_defined = self._bb.update(close)
            self._asof["bb"].push(close_time, (bb + 2) | (_BB_MA_DEFINED if ma_defined else 0))
        if timeframe == tfs.cycle2 and self._cycle2 is not None:
            self._asof["cycle2"].push(close_time, self._cycle2.update(close))
        self._last_open[timeframe] = open_ts

    def on_chart_bar(self, open_ts: int) -> int:
        """Step ``S`` for the chart bar opening at ``open_ts`` and return its trend state; uses
        only candles with ``close_time ≤ open_ts`` (spec §7.5)."""
        if self._last_chart_open is not None and open_ts <= self._last_chart_open:
            raise ValueError(
                f"TrendTracker: chart bar {open_ts} is not after the last one "
                f"({self._last_chart_open})"
            )
        c1 = int(self._asof["cycle"].value_at(open_ts))
        bb_code = int(self._asof["bb"].value_at(open_ts))
        c2 = int(self._asof["cycle2"].value_at(open_ts))
        codes = self._codes
        codes[0, 0], codes[1, 0], codes[2, 0] = c1, c2, (bb_code & 7) - 2
        longer = self.settings.use_longer_trend
        _sticky_run(codes[0], codes[1], codes[2], longer, self._out, self._s)
        ready = (c1 & DEFINED) != 0 and (bb_code & _BB_MA_DEFINED) != 0
        if longer:
            ready = ready and (c2 & DEFINED) != 0
        self._ready = ready
        self._last_chart_open = open_ts
        return int(self._out[0])

    def get_state(self) -> dict[str, Any]:
        """JSON-serialisable state (spec §17): indicator states of both cycles and the BB
        machine, the as-of deques, the last candle per timeframe, sticky ``S``. Floats are JSON
        numbers written with their shortest round-trip repr; NaN is ``null`` and ±inf the
        strings ``"inf"`` / ``"-inf"`` (the encoding of ``tbsdk`` indicator states)."""
        return {
            "schema": STATE_SCHEMA,
            "settings": asdict(self.settings),
            "cycle": self._cycle.get_state(),
            "bb": self._bb.get_state(),
            "cycle2": None if self._cycle2 is None else self._cycle2.get_state(),
            "asof": {k: v.get_state() for k, v in self._asof.items()},
            "last_open": dict(self._last_open),
            "last_chart_open": self._last_chart_open,
            "s": int(self._s[0]),
            "ready": self._ready,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state` of a tracker with the same settings (else ``ValueError``);
        the next candles and chart bars continue exactly as without the interruption."""
        if state.get("schema") != STATE_SCHEMA:
            raise ValueError(f"trend state schema {state.get('schema')!r} is not {STATE_SCHEMA}")
        if state.get("settings") != asdict(self.settings):
            raise ValueError(
                f"trend state was saved with settings {state.get('settings')!r}, "
                f"not {asdict(self.settings)!r}"
            )
        fresh = TrendTracker(self.settings)
        fresh._cycle.set_state(state["cycle"])
        fresh._bb.set_state(state["bb"])
        if fresh._cycle2 is not None:
            fresh._cycle2.set_state(state["cycle2"])
        for name, asof in fresh._asof.items():
            asof.set_state(state["asof"][name])
        last_open = state["last_open"]
        if set(last_open) != set(fresh._last_open):
            raise ValueError("trend state: the timeframes do not match the settings")
        fresh._last_open = {k: None if v is None else int(v) for k, v in last_open.items()}
        lco = state["last_chart_open"]
        fresh._last_chart_open = None if lco is None else int(lco)
        fresh._s[0] = int(state["s"])
        fresh._ready = bool(state["ready"])
        self.__dict__.update(fresh.__dict__)
