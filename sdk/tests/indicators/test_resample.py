"""Resampling and the as-of rule without look-ahead (IND §7, §9.5)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from indicator_support import FILES, assert_bitwise, load

from tbsdk import indicators as ind
from tbsdk.timeframes import TIMEFRAMES

H = 3_600_000
M = 60_000


def _candles(times: list[int], base: int) -> tuple[np.ndarray, ...]:
    ts = np.array(times, dtype=np.int64)
    k = np.arange(len(ts), dtype=float)
    return ts, 100 + k, 101 + k, 99 - k, 100.5 + k, 1 + k


def test_complete_buckets_only_and_utc_alignment() -> None:
    # 1h base, 4h buckets aligned to 00/04/08 UTC. Last bucket (08:00) has only 2 of 4 hours.
    day = 1_700_006_400_000  # 2023-11-15 00:00 UTC
    ts, o, h, lo, c, v = _candles([day + i * H for i in range(10)], H)
    out = ind.resample(ts, o, h, lo, c, v, "1h", "4h")
    assert out.open_time.tolist() == [day, day + 4 * H]
    assert (out.close_time - out.open_time == 4 * H).all()
    assert out.open.tolist() == [100.0, 104.0]
    assert out.high.tolist() == [104.0, 108.0]
    assert out.low.tolist() == [96.0, 92.0]
    assert out.close.tolist() == [103.5, 107.5]
    assert out.volume.tolist() == [1 + 2 + 3 + 4, 5 + 6 + 7 + 8]
    assert out.constituents.tolist() == [4, 4]


def test_gap_completes_a_bucket_and_empty_buckets_are_not_emitted() -> None:
    day = 1_700_006_400_000
    # Hours 0, 1 then a gap to hour 13: bucket 00:00 is complete by the gap; 04:00, 08:00 empty.
    times = [day, day + H, day + 13 * H, day + 14 * H, day + 15 * H]
    ts, o, h, lo, c, v = _candles(times, H)
    r = ind.Resampler("1h", "4h")
    emitted = [r.update(*(x[i] for x in (ts, o, h, lo, c, v))) for i in range(5)]
    assert [len(e) for e in emitted] == [0, 0, 1, 0, 1]
    assert emitted[2][0].open_time == day
    assert emitted[2][0].constituents == 2
    assert emitted[4][0].open_time == day + 12 * H
    assert emitted[4][0].constituents == 3


def test_daily_buckets_start_at_midnight_utc_and_8h_at_00_08_16() -> None:
    d = load("BINANCE_BTC-USDT_1m.csv.gz")
    for tf in ("8h", "1d"):
        out = ind.resample(d.ts, d.o, d.h, d.l, d.c, d.v, "1m", tf)
        assert (out.open_time % TIMEFRAMES[tf] == 0).all()
        assert (out.constituents <= TIMEFRAMES[tf] // M).all()


def test_htf_bar_closing_with_the_chart_bar_is_not_visible() -> None:
    # HTF = 4h, chart = 1h. The chart bar 03:00–04:00 closes at the same instant as HTF bar
    # 00:00–04:00; with the Pine anchor (chart open time 03:00) it must see nothing yet.
    day = 1_700_006_400_000
    htf_close = np.array([day + 4 * H, day + 8 * H])
    values = np.array([1.0, 2.0])
    chart_open = np.array([day + i * H for i in range(10)])
    got = ind.asof(htf_close, values, chart_open, default=0.0)
    assert got.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    lookup = ind.AsOf(default=0.0)
    streamed = []
    for a in chart_open:
        streamed.append(lookup.value_at(int(a)))
        # An HTF value is pushed when its candle is emitted: at the close of this chart bar.
        for ct, val in zip(htf_close, values, strict=True):
            if ct == a + H:
                lookup.push(int(ct), float(val))
    assert streamed == got.tolist()


def _resample_cases() -> list[tuple[str, str]]:
    """(file, target timeframe) pairs where the target is a multiple of the file's base."""
    cases = []
    for name in FILES:
        ts = load(name).ts
        base = int(np.min(np.diff(ts)))
        for tf in ("5m", "15m", "1h", "4h", "1d"):
            if base in TIMEFRAMES.values() and TIMEFRAMES[tf] % base == 0:
                cases.append((name, tf))
    return cases


@pytest.mark.parametrize(("name", "tf"), _resample_cases())
def test_streaming_resample_equals_vectorised(name: str, tf: str) -> None:
    d = load(name)
    base = int(np.min(np.diff(d.ts)))
    vec = ind.resample(d.ts, d.o, d.h, d.l, d.c, d.v, base, tf)
    r = ind.Resampler(base, tf)
    got = []
    cut = len(d.ts) // 2
    for i in range(len(d.ts)):
        if i == cut:
            state = json.loads(json.dumps(r.get_state(), allow_nan=False))
            r = ind.Resampler(base, tf)
            r.set_state(state)
        got += r.update(int(d.ts[i]), d.o[i], d.h[i], d.l[i], d.c[i], d.v[i])
    assert [g.open_time for g in got] == vec.open_time.tolist()
    for field in ("open", "high", "low", "close", "volume"):
        assert_bitwise(np.array([getattr(g, field) for g in got]), getattr(vec, field))
    # No look-ahead: every emitted candle closed at or before the base candle that emitted it.
    assert (vec.close_time <= d.ts[-1] + base).all()


def test_asof_never_sees_the_future_on_real_data() -> None:
    d = load("BINANCE_BTC-USDT_5m.csv.gz")
    htf = ind.resample(d.ts, d.o, d.h, d.l, d.c, d.v, "5m", "1h")
    values = ind.ema(htf.close, 3)
    idx = ind.asof_index(htf.close_time, d.ts)
    seen = idx >= 0
    assert (htf.close_time[idx[seen]] <= d.ts[seen]).all()
    # and it is the latest such value
    nxt = idx[seen] + 1
    ok = nxt < len(htf)
    assert (htf.close_time[nxt[ok]] > d.ts[seen][ok]).all()
    mapped = ind.asof(htf.close_time, values, d.ts)
    assert_bitwise(mapped[seen], values[idx[seen]])


def test_out_of_order_candle_is_refused() -> None:
    r = ind.Resampler("1m", "5m")
    r.update(60_000, 1, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="not after"):
        r.update(60_000, 1, 1, 1, 1, 1)
