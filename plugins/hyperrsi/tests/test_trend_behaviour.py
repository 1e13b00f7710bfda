"""Trend state (hyperrsi spec §7): streaming == vectorised (also across JSON restarts), no
look-ahead, the spec's edge cases, state encoding, input checks and speed.

Values themselves are checked against an independent implementation in
``test_trend_reference.py``; here the plugin is compared with itself under different feeding,
truncation and perturbation, and edge cases are checked against values derived by hand.
"""

from __future__ import annotations

import gzip
import json
import math
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tb_strategy_hyperrsi.trend import (
    TrendSettings,
    TrendTracker,
    trend_debug,
    trend_series,
    trend_timeframes,
)
from tb_strategy_hyperrsi.trend_bb import bb_states
from tbsdk.indicators import resample
from tbsdk.model import CandleArrays
from tbsdk.timeframes import timeframe_ms

DATA = Path(__file__).parent / "data"
FILES = {
    "1m": "trend_BINANCE_BTC-USDT_1m_close.csv.gz",
    "1h": "trend_BINANCE_BTC-USDT_1h_close.csv.gz",
}
MIN = 60_000


@lru_cache
def _base(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(DATA / FILES[dataset], "rt") as fh:
        rows = fh.read().splitlines()[1:]
    ts = np.array([int(r.split(",")[0]) for r in rows], dtype=np.int64)
    close = np.array([float(r.split(",")[1]) for r in rows], dtype=np.float64)
    return ts, close


def _arrays(ts: np.ndarray, close: np.ndarray) -> CandleArrays:
    return CandleArrays(ts, close, close, close, close, np.zeros(len(close)))


def _candles(ts: np.ndarray, close: np.ndarray, base: str, tf: str) -> CandleArrays:
    if tf == base:
        return _arrays(ts, close)
    h = resample(ts, close, close, close, close, close, base, tf)
    return _arrays(h.open_time, h.close)


def _inputs(
    dataset: str, settings: TrendSettings, end: int | None = None
) -> tuple[np.ndarray, dict[str, CandleArrays]]:
    """Chart open times and trend candles from the first ``end`` base candles."""
    ts, close = _base(dataset)
    ts, close = ts[:end], close[:end]
    chart = _candles(ts, close, dataset, settings.chart_timeframe).ts
    tfs = trend_timeframes(settings).all()
    return chart, {tf: _candles(ts, close, dataset, tf) for tf in tfs}


ONE_MINUTE = ("1m", TrendSettings("1m"))
ONE_HOUR = ("1h", TrendSettings("1h"))
LONGER_EMA = ("1h", TrendSettings("1h", use_longer_trend=True))
LONGER_T3 = ("1h", TrendSettings("1h", use_longer_trend=True, longer_trend_ma="t3"))
CASES = {"1m": ONE_MINUTE, "1h": ONE_HOUR, "longer-ema": LONGER_EMA, "longer-t3": LONGER_T3}


def _json_round_trip(tracker: TrendTracker) -> TrendTracker:
    state = json.loads(json.dumps(tracker.get_state(), allow_nan=False))
    fresh = TrendTracker(tracker.settings)
    fresh.set_state(state)
    return fresh


def _stream(
    settings: TrendSettings,
    chart: np.ndarray,
    candles: dict[str, CandleArrays],
    *,
    restart_at: tuple[int, ...] = (),
    lead_ms: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Drive a tracker: each candle at its close time (``lead_ms`` earlier if given), each chart
    bar at its open time after the candles that closed by then; restart through JSON before the
    chart bars listed in ``restart_at``."""
    events: list[tuple[int, int, str, int, float]] = []
    for tf, c in candles.items():
        period = timeframe_ms(tf)
        for t, x in zip(c.ts.tolist(), c.close.tolist(), strict=True):
            events.append((t + period - lead_ms, 0, tf, t, x))
    events += [(o, 1, "", k, 0.0) for k, o in enumerate(chart.tolist())]
    events.sort(key=lambda e: (e[0], e[1]))
    tracker = TrendTracker(settings)
    state = np.zeros(len(chart), dtype=np.int8)
    ready = np.zeros(len(chart), dtype=np.bool_)
    for _, kind, tf, t, x in events:
        if kind == 0:
            tracker.on_candle(tf, t, x)
            continue
        if t in restart_at:
            tracker = _json_round_trip(tracker)
        state[t] = tracker.on_chart_bar(int(chart[t]))
        ready[t] = tracker.ready
    return state, ready


def _stream_by_timeframe(
    settings: TrendSettings, chart: np.ndarray, candles: dict[str, CandleArrays]
) -> tuple[np.ndarray, np.ndarray]:
    """Drive a tracker as a feed that catches up one timeframe after the other before each
    chart bar (last timeframe first), instead of interleaving by close time."""
    tracker = TrendTracker(settings)
    state = np.zeros(len(chart), dtype=np.int8)
    ready = np.zeros(len(chart), dtype=np.bool_)
    pos = dict.fromkeys(candles, 0)
    for k, o in enumerate(chart.tolist()):
        for tf in reversed(list(candles)):
            c, period = candles[tf], timeframe_ms(tf)
            while pos[tf] < len(c) and int(c.ts[pos[tf]]) + period <= o:
                tracker.on_candle(tf, int(c.ts[pos[tf]]), float(c.close[pos[tf]]))
                pos[tf] += 1
        state[k] = tracker.on_chart_bar(o)
        ready[k] = tracker.ready
    return state, ready


# ----------------------------------------------------------------------------------------------
# Streaming == vectorised
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_streaming_equals_vectorised_on_every_bar_across_json_restarts(case: str) -> None:
    dataset, settings = CASES[case]
    chart, candles = _inputs(dataset, settings)
    expected = trend_series(settings, chart, candles)
    n = len(chart)
    restarts = (1, 37, n // 5, n // 2, n - 700, n - 2)
    state, ready = _stream(settings, chart, candles, restart_at=restarts)
    np.testing.assert_array_equal(state, expected.state)
    np.testing.assert_array_equal(ready, expected.ready)
    assert set(expected.state[expected.ready].tolist()) == {-2, 0, 2}


def test_streaming_ignores_candles_fed_before_the_chart_bar_may_see_them() -> None:
    # Every candle arrives 20 minutes before it closes, so several chart bars are evaluated while
    # a candle that closes after their open is already in the tracker.
    settings = ONE_MINUTE[1]
    chart, candles = _inputs("1m", settings)
    expected = trend_series(settings, chart, candles)
    state, ready = _stream(settings, chart, candles, lead_ms=20 * MIN, restart_at=(3000,))
    np.testing.assert_array_equal(state, expected.state)
    np.testing.assert_array_equal(ready, expected.ready)


def test_streaming_does_not_depend_on_how_timeframes_interleave() -> None:
    dataset, settings = LONGER_EMA
    chart, candles = _inputs(dataset, settings)
    expected = trend_series(settings, chart, candles)
    state, ready = _stream_by_timeframe(settings, chart, candles)
    np.testing.assert_array_equal(state, expected.state)
    np.testing.assert_array_equal(ready, expected.ready)


def test_get_state_is_plain_json_with_nan_as_null() -> None:
    tracker = TrendTracker(TrendSettings("1m"))
    _, close = _base("1m")
    for k in range(20):  # 20 five-minute candles: BBW exists, MA_BBW and BBW2 are still NaN
        tracker.on_candle("5m", 1712016000000 + k * 5 * MIN, float(close[k]))
    text = json.dumps(tracker.get_state(), allow_nan=False)
    assert "null" in text
    again = _json_round_trip(tracker)
    assert json.dumps(again.get_state(), allow_nan=False) == text


def test_set_state_refuses_other_settings_and_schemas() -> None:
    state = TrendTracker(TrendSettings("1m")).get_state()
    with pytest.raises(ValueError, match="settings"):
        TrendTracker(TrendSettings("1m", trend_timeframe="1h")).set_state(state)
    with pytest.raises(ValueError, match="schema"):
        TrendTracker(TrendSettings("1m")).set_state({**state, "schema": 99})


# ----------------------------------------------------------------------------------------------
# No look-ahead (spec §7.5, IND §7.3)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["1m", "longer-ema"])
def test_appending_future_candles_never_changes_a_past_value(case: str) -> None:
    dataset, settings = CASES[case]
    chart, candles = _inputs(dataset, settings)
    full = trend_series(settings, chart, candles)
    n_base = len(_base(dataset)[0])
    for end in (n_base // 7, n_base // 3 + 11, n_base // 2 + 5, n_base - 3):
        short_chart, short_candles = _inputs(dataset, settings, end)
        part = trend_series(settings, short_chart, short_candles)
        k = len(short_chart)
        np.testing.assert_array_equal(part.state, full.state[:k])
        np.testing.assert_array_equal(part.ready, full.ready[:k])


@pytest.mark.parametrize("case", ["1m", "1h", "longer-ema"])
def test_bar_depends_only_on_candles_closed_by_its_open(case: str) -> None:
    dataset, settings = CASES[case]
    chart, candles = _inputs(dataset, settings)
    full = trend_series(settings, chart, candles)
    rng = np.random.default_rng(7)
    changed_later = False
    for i in (len(chart) // 4, len(chart) // 2, 3 * len(chart) // 4):
        o = int(chart[i])
        noisy = {}
        for tf, c in candles.items():
            later = c.ts + timeframe_ms(tf) > o
            close = c.close.copy()
            close[later] *= rng.uniform(0.9, 1.1, int(later.sum()))
            noisy[tf] = _arrays(c.ts, close)
        got = trend_series(settings, chart, noisy)
        np.testing.assert_array_equal(got.state[: i + 1], full.state[: i + 1])
        np.testing.assert_array_equal(got.ready[: i + 1], full.ready[: i + 1])
        changed_later |= bool(np.any(got.state[i + 1 :] != full.state[i + 1 :]))
    assert changed_later  # the perturbation does reach the bars that may see it


# ----------------------------------------------------------------------------------------------
# Edge cases named by the spec
# ----------------------------------------------------------------------------------------------


def test_bb_is_minus_one_from_the_15th_bb_candle_while_bbw2_is_nan() -> None:
    # Spec §7.4 step 6: sq2 starts true and stays true while BBW2 is NaN (first 59 candles). At
    # the 15th candle BBW exists, PL is empty, so pl_avg = min(BBW, 5) = BBW for BBW < 5 and
    # squeeze = BBW/0.7 > BBW: step 7b sets BB = −1. No crossover can fire while BBW < 3.5
    # (buzz = 0.7·5), and step 7d needs BBW > pl_avg = BBW: BB stays −1.
    _, candles = _inputs("1m", ONE_MINUTE[1])
    got = bb_states(candles["5m"].close, debug=True)
    assert got.inputs is not None
    assert got.debug is not None
    bbw, bbw2, sq2 = got.inputs.bbw, got.inputs.bbw2, got.debug[:, 6]
    assert np.isnan(bbw[:14]).all()
    assert (bbw[14:60] < 3.5).all()
    assert np.isnan(bbw2[:59]).all()
    assert not np.isnan(bbw2[59])
    assert (sq2[:59] == 1.0).all()
    assert (got.bb[:14] == 0).all()
    assert (got.bb[14:60] == -1).all()


def test_bb_value_lags_one_candle_when_the_bb_timeframe_is_the_chart_timeframe() -> None:
    # 1h chart, 1h BB: bar i opens when candle i−1 closes, so it sees BB of candle i−1 (also
    # across the gaps in the data: the as-of rule uses close times, not positions).
    settings = ONE_HOUR[1]
    chart, candles = _inputs("1h", settings)
    assert np.any(np.diff(chart) > 3_600_000)  # the data has gaps
    dbg = trend_debug(settings, chart, candles)
    np.testing.assert_array_equal(dbg.bb_index, np.arange(len(chart)) - 1)
    assert dbg.bb_at_bar[0] == 0
    np.testing.assert_array_equal(dbg.bb_at_bar[1:], dbg.bb.bb[:-1])


def test_state_is_zero_until_its_inputs_exist_and_ready_waits_for_ma_bbw() -> None:
    # Data starts at 00:00. RQK needs 7 cycle candles: the 7th 15m candle closes at minute 105.
    # MA_BBW = SMA100 of BBW (defined from the 15th candle) first exists on the 114th 5m candle,
    # which closes at minute 570.
    settings = ONE_MINUTE[1]
    chart, candles = _inputs("1m", settings)
    assert chart[0] % (15 * MIN) == 0
    got = trend_series(settings, chart, candles)
    assert (got.state[:105] == 0).all()
    assert not got.ready[:570].any()
    assert got.ready[570:].all()


@pytest.mark.parametrize("target", [2, -2])
def test_state_is_evaluated_on_the_first_chart_bar(target: int) -> None:
    # Start the chart at a bar whose inputs already say bull and BB = 2 (bear and BB = −2):
    # S must be set on that very first bar, in both forms.
    settings = ONE_MINUTE[1]
    chart, candles = _inputs("1m", settings)
    dbg = trend_debug(settings, chart, candles)
    flag = dbg.bull if target == 2 else dbg.bear
    first = int(np.flatnonzero(flag & (dbg.bb_at_bar == target))[0])
    late = chart[first:]
    assert trend_series(settings, late, candles).state[0] == target
    state, _ = _stream(settings, late, candles)
    assert state[0] == target


# ----------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------


def test_trend_series_refuses_bad_inputs() -> None:
    settings = ONE_MINUTE[1]
    chart, candles = _inputs("1m", settings, 2000)
    with pytest.raises(ValueError, match="no candles"):
        trend_series(settings, chart, {"15m": candles["15m"]})
    with pytest.raises(ValueError, match="chart open times"):
        trend_series(settings, chart[::-1], candles)
    shifted = _arrays(candles["5m"].ts + MIN, candles["5m"].close)
    with pytest.raises(ValueError, match="UTC-aligned"):
        trend_series(settings, chart, {**candles, "5m": shifted})


def test_tracker_refuses_out_of_order_or_foreign_input() -> None:
    tracker = TrendTracker(TrendSettings("1m"))
    t0 = 1712016000000
    tracker.on_candle("5m", t0, 100.0)
    bad: list[tuple[tuple[Any, ...], str]] = [
        (("5m", t0, 101.0), "not after the last one"),  # repeated
        (("5m", t0 + MIN, 101.0), "not UTC-aligned"),
        (("1h", t0, 101.0), "not a trend timeframe"),  # of a 1m chart
        (("15m", t0, math.nan), "has close nan"),
    ]
    for args, message in bad:
        with pytest.raises(ValueError, match=message):
            tracker.on_candle(*args)
    tracker.on_chart_bar(t0 + 5 * MIN)
    with pytest.raises(ValueError, match="not after the last one"):
        tracker.on_chart_bar(t0 + 5 * MIN)


# ----------------------------------------------------------------------------------------------
# Speed
# ----------------------------------------------------------------------------------------------


def test_trend_series_over_a_million_one_minute_bars_takes_well_under_300_ms() -> None:
    n = 1_000_000
    rng = np.random.default_rng(20261124)
    close = 60_000 + np.cumsum(rng.standard_normal(n) * 20)
    ts = 1712016000000 + np.arange(n, dtype=np.int64) * MIN
    candles = {tf: _candles(ts, close, "1m", tf) for tf in ("15m", "5m")}
    settings = TrendSettings("1m")
    trend_series(settings, ts[:1000], candles)  # compiled already; warm the caches
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        got = trend_series(settings, ts, candles)
        best = min(best, time.perf_counter() - t0)
    print(f"trend_series over {n:,} 1m bars: {best * 1000:.1f} ms")
    assert len(got.state) == n
    assert best < 0.3
