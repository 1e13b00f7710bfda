"""The trend state against an independent computation from the spec text (hyperrsi spec §7).

Everything in the first half of this module is written from ``shared/specs/hyperrsi.md`` §7 and
``indicators.md`` (IND) in plain Python loops over lists: resampling (IND §7.1–7.2), SMA, EMA,
T3, JMA, VIDYA, RQK, Bollinger/BBW/%B (two-pass with ``math.fsum``), pivots, crossover /
rising / falling from their definitions, the FIFOs, ``sq2``, the BB machine, the as-of rule with
``bisect`` and the sticky state. It does not call the plugin or ``tbsdk.indicators``. The tests
then compare, on real BTC/USDT candles, every bar's trend state and readiness exactly and every
float intermediate within ``1e-9`` relative.
"""

from __future__ import annotations

import bisect
import gzip
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from tb_strategy_hyperrsi.trend import (
    TrendSettings,
    TrendTimeframes,
    trend_debug,
    trend_series,
    trend_timeframes,
)
from tbsdk.model import CandleArrays

NAN = math.nan
DATA = Path(__file__).parent / "data"
MINUTE = 60_000
TF_MS = {"1m": MINUTE, "5m": 5 * MINUTE, "15m": 15 * MINUTE, "30m": 30 * MINUTE}
TF_MS |= {"1h": 60 * MINUTE, "4h": 240 * MINUTE, "1d": 1440 * MINUTE}
TOL = 1e-9

Floats = list[float]


def isnan(v: float) -> bool:
    return v != v


# ----------------------------------------------------------------------------------------------
# Candles: the data files and resampling (IND §7.1–7.2)
# ----------------------------------------------------------------------------------------------

DATASETS = {
    "1m": ("trend_BINANCE_BTC-USDT_1m_close.csv.gz", "1m"),
    "1h": ("trend_BINANCE_BTC-USDT_1h_close.csv.gz", "1h"),
}


@lru_cache
def base_candles(dataset: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
    name, _ = DATASETS[dataset]
    with gzip.open(DATA / name, "rt") as fh:
        lines = fh.read().splitlines()
    assert lines[0] == "timestamp,close"
    ts, close = [], []
    for line in lines[1:]:
        a, b = line.split(",")
        ts.append(int(a))
        close.append(float(b))
    return tuple(ts), tuple(close)


@lru_cache
def ref_candles(dataset: str, tf: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Complete ``tf`` candles (open time, close) from the base candles: epoch-aligned buckets;
    a bucket is emitted when its last base candle arrives or a later bucket starts."""
    ts, close = base_candles(dataset)
    base, period = TF_MS[DATASETS[dataset][1]], TF_MS[tf]
    if base == period:
        return ts, close
    out_ts: list[int] = []
    out_close: list[float] = []
    start: int | None = None
    last = NAN
    for t, c in zip(ts, close, strict=True):
        bucket = t - t % period
        if start is not None and bucket != start:
            out_ts.append(start)
            out_close.append(last)
            start = None
        start, last = bucket, c
        if t + base == bucket + period:
            out_ts.append(bucket)
            out_close.append(c)
            start = None
    return tuple(out_ts), tuple(out_close)


def candle_arrays(dataset: str, tf: str) -> CandleArrays:
    """The plugin's input: the trend reads closes only, so open/high/low repeat the close."""
    ts, close = ref_candles(dataset, tf)
    c = np.array(close, dtype=np.float64)
    return CandleArrays(np.array(ts, dtype=np.int64), c, c, c, c, np.zeros(len(c)))


# ----------------------------------------------------------------------------------------------
# Indicators, from the IND text
# ----------------------------------------------------------------------------------------------


def ref_sma(x: Sequence[float], n: int) -> Floats:
    """IND §3.1, leading NaNs skipped (IND §1.2)."""
    out, seen = [NAN] * len(x), []
    for t, v in enumerate(x):
        if isnan(v):
            assert not seen, "interior NaN"
            continue
        seen.append(v)
        if len(seen) >= n:
            out[t] = math.fsum(seen[-n:]) / n
    return out


def ref_ema(x: Sequence[float], n: int) -> Floats:
    """IND §3.2: SMA seed at the n-th finite input, then ``E = E + α·(x − E)``."""
    alpha = 2 / (n + 1)
    out, seen, e = [NAN] * len(x), [], NAN
    for t, v in enumerate(x):
        if isnan(v):
            continue
        seen.append(v)
        c = len(seen)
        if c < n:
            continue
        if c == n:
            e = math.fsum(seen) / n
        elif n == 1:
            e = v
        else:
            e = e + alpha * (v - e)
        out[t] = e
    return out


def ref_t3(x: Sequence[float], n: int, a: float = 0.7) -> Floats:
    """IND §3.5: six chained EMAs, coefficients evaluated as written."""
    e1 = ref_ema(x, n)
    e2 = ref_ema(e1, n)
    e3 = ref_ema(e2, n)
    e4 = ref_ema(e3, n)
    e5 = ref_ema(e4, n)
    e6 = ref_ema(e5, n)
    a2 = a * a
    a3 = a2 * a
    c1 = -a3
    c2 = 3 * a2 + 3 * a3
    c3 = ((-6 * a2) - 3 * a) - 3 * a3
    c4 = ((1 + 3 * a) + a3) + 3 * a2
    return [
        NAN if isnan(e6[t]) else ((c1 * e6[t] + c2 * e5[t]) + c3 * e4[t]) + c4 * e3[t]
        for t in range(len(x))
    ]


def ref_jma(x: Sequence[float], length: float, phase: float = 50, power: float = 2) -> Floats:
    """IND §3.6 with Pine ``nz`` start (all state 0)."""
    phase_ratio = 0.5 if phase < -100 else 2.5 if phase > 100 else phase / 100 + 1.5
    beta = 0.45 * (length - 1) / (0.45 * (length - 1) + 2)
    alpha = beta * beta if power == 2 else beta**power
    q = (1 - alpha) * (1 - alpha)
    alpha2 = alpha * alpha
    e0 = e1 = e2 = j = 0.0
    out = []
    for v in x:
        e0 = (1 - alpha) * v + alpha * e0
        e1 = (v - e0) * (1 - beta) + beta * e1
        e2 = (e0 + phase_ratio * e1 - j) * q + alpha2 * e2
        j = e2 + j
        out.append(j)
    return out


def ref_vidya(x: Sequence[float], n: int) -> Floats:
    """IND §3.7: CMO over 9 differences of the source with ``nz`` history, ``V`` from 0."""
    out, v_prev = [], 0.0
    for t, v in enumerate(x):

        def m(k: int, t: int = t) -> float:
            return x[t - k] if t - k >= 0 else 0.0

        up = dn = 0.0
        for k in range(1, 10):
            d = m(k) - m(k - 1)
            if d > 0:
                up = up + d
            else:
                dn = dn - d
        cmo = abs((up - dn) / (up + dn)) if (up + dn) != 0 else 1.0
        k_t = (cmo * 2.0) / (1.0 + max(n, 1))
        v_prev = v_prev + k_t * (v - v_prev)
        out.append(v_prev)
    return out


RQK_W = [1 / math.sqrt(1 + (i * i) / 900.0) for i in range(7)]


def ref_rqk(x: Sequence[float]) -> Floats:
    """IND §3.8: ``Σ x_{t−i}·w_i / Σ w_i`` over 7 taps, NaN if any tap is NaN or missing."""
    wsum = 0.0
    for w in RQK_W:
        wsum = wsum + w
    out = []
    for t in range(len(x)):
        taps = [x[t - i] for i in range(7)] if t >= 6 else [NAN]
        if any(isnan(v) for v in taps):
            out.append(NAN)
            continue
        num = 0.0
        for i in range(7):
            num = num + taps[i] * RQK_W[i]
        out.append(num / wsum)
    return out


def ref_bands(x: Sequence[float], n: int, k: float) -> tuple[Floats, Floats, Floats]:
    """``(BBW, BBR, basis)`` of Bollinger(n, k) (IND §4.3), two-pass population deviation."""
    bbw, bbr, basis = [NAN] * len(x), [NAN] * len(x), [NAN] * len(x)
    for t in range(n - 1, len(x)):
        w = x[t - n + 1 : t + 1]
        mu = math.fsum(w) / n
        sd = math.sqrt(max(0.0, math.fsum((v - mu) ** 2 for v in w) / n))
        upper, lower = mu + k * sd, mu - k * sd
        basis[t] = mu
        bbw[t] = ((upper - lower) * 10) / mu
        bbr[t] = NAN if upper - lower == 0 else (x[t] - lower) / (upper - lower)
    return bbw, bbr, basis


def ref_pivot(x: Sequence[float], left: int, right: int, high: bool) -> Floats:
    """IND §5: at t the candidate is ``c = t − right``; older equal values allowed, newer not."""
    first = next((t for t, v in enumerate(x) if not isnan(v)), len(x))
    out = [NAN] * len(x)
    for t in range(len(x)):
        c = t - right
        if c - left < first or any(isnan(v) for v in x[c - left : t + 1]):
            continue
        xc = x[c]
        if high:
            ok = all(xc >= x[j] for j in range(c - left, c))
            ok = ok and all(xc > x[j] for j in range(c + 1, t + 1))
        else:
            ok = all(xc <= x[j] for j in range(c - left, c))
            ok = ok and all(xc < x[j] for j in range(c + 1, t + 1))
        if ok:
            out[t] = xc
    return out


def ref_falling(x: Sequence[float], t: int, n: int) -> bool:
    """IND §2: ``x_t < x_{t−1} < … < x_{t−n}``; false with fewer values or a NaN."""
    return t >= n and all(x[t - j] < x[t - j - 1] for j in range(n))


def ref_rising(x: Sequence[float], t: int, n: int) -> bool:
    return t >= n and all(x[t - j] > x[t - j - 1] for j in range(n))


def fifo_mean(fifo: deque[float]) -> float:
    total = 0.0
    for v in fifo:
        total = total + v
    return total / len(fifo)


# ----------------------------------------------------------------------------------------------
# Spec §7.2–7.6
# ----------------------------------------------------------------------------------------------


@dataclass
class RefBB:
    bbw: Floats
    bbr: Floats
    ma_bbw: Floats
    ph: Floats
    pl: Floats
    bbw2: Floats
    pl2: Floats
    ph_avg: Floats
    pl_avg: Floats
    pl2_avg: Floats
    sq2: list[bool]
    bb: list[int]
    fifo_sizes: list[tuple[int, int, int]]


@lru_cache
def ref_bb(dataset: str, tf: str) -> RefBB:
    """Spec §7.4, steps 1–7 per BB candle."""
    x = ref_candles(dataset, tf)[1]
    bbw, bbr, _ = ref_bands(x, 15, 1.5)
    ma = ref_sma(bbw, 100)
    ph = ref_pivot(bbw, 20, 10, high=True)
    pl = ref_pivot(bbw, 20, 10, high=False)
    bbw2, _, _ = ref_bands(x, 60, 1.5)
    pl2 = ref_pivot(bbw2, 30, 10, high=False)
    r = RefBB(bbw, bbr, ma, ph, pl, bbw2, pl2, [], [], [], [], [], [])
    fifo_ph: deque[float] = deque(maxlen=50)
    fifo_pl: deque[float] = deque(maxlen=50)
    fifo_pl2: deque[float] = deque(maxlen=50)
    sq2, bb = True, 0
    buzz_hist: Floats = []
    for t, w in enumerate(bbw):
        if w > ma[t] and ph[t] > 0:
            fifo_ph.append(ph[t])
        if w < ma[t] and pl[t] > 0:
            fifo_pl.append(pl[t])
        ph_avg = fifo_mean(fifo_ph) if fifo_ph else (NAN if isnan(w) else max(w, 5))
        pl_avg = fifo_mean(fifo_pl) if fifo_pl else (NAN if isnan(w) else min(w, 5))
        w2 = bbw2[t]
        if w2 < 1 and pl2[t] > 0:
            fifo_pl2.append(pl2[t])
        pl2_avg = fifo_mean(fifo_pl2) if fifo_pl2 else (NAN if isnan(w2) else min(w2, 5))
        inv = 1 / 0.7
        buzz, squeeze, squeeze2 = ph_avg * 0.7, pl_avg * inv, pl2_avg * inv
        buzz_hist.append(buzz)
        if w2 > squeeze2:
            sq2 = False
        if w2 < squeeze2:
            sq2 = True
        cross = t >= 1 and w > buzz and bbw[t - 1] <= buzz_hist[t - 1]
        if cross and bbr[t] > 0.5:
            bb = 2
        if cross and bbr[t] < 0.5:
            bb = -2
        if w < squeeze and sq2:
            bb = -1
        if bb == 2 and bbr[t] < 0.2:
            bb = -2
        if bb == -2 and bbr[t] > 0.8:
            bb = 2
        if (bb in (2, -2) and ref_falling(bbw, t, 3)) or (
            w > pl_avg and bb == -1 and ref_rising(bbw, t, 1)
        ):
            bb = 0
        r.ph_avg.append(ph_avg)
        r.pl_avg.append(pl_avg)
        r.pl2_avg.append(pl2_avg)
        r.sq2.append(sq2)
        r.bb.append(bb)
        r.fifo_sizes.append((len(fifo_ph), len(fifo_pl), len(fifo_pl2)))
    return r


@dataclass
class RefCycle:
    ma: tuple[Floats, Floats, Floats]
    r: tuple[Floats, Floats, Floats]
    bull: list[bool]
    bear: list[bool]
    defined: list[bool]


@lru_cache
def ref_cycle1(dataset: str, tf: str, longer: bool, ma_kind: str) -> RefCycle:
    """Spec §7.2."""
    x = ref_candles(dataset, tf)[1]
    if not longer:
        mas = (ref_jma(x, 5), ref_jma(x, 10), ref_jma(x, 20))
    elif ma_kind == "ema":
        mas = (ref_ema(x, 20), ref_ema(x, 40), ref_ema(x, 120))
    else:
        mas = (ref_t3(x, 20), ref_t3(x, 40), ref_t3(x, 120))
    rs = (ref_rqk(mas[0]), ref_rqk(mas[1]), ref_rqk(mas[2]))
    bull, bear, defined = [], [], []
    for r1, r2, r3 in zip(*rs, strict=True):
        bull.append((r1 > r2 and r2 > r3) or (r2 > r1 and r1 > r3))
        bear.append(r3 > r2 and r2 > r1)
        defined.append(not (isnan(r1) or isnan(r2) or isnan(r3)))
    return RefCycle(mas, rs, bull, bear, defined)


@lru_cache
def ref_cycle2(dataset: str) -> RefCycle:
    """Spec §7.3 on 4h candles."""
    x = ref_candles(dataset, "4h")[1]
    vs = (ref_vidya(x, 3), ref_vidya(x, 9), ref_vidya(x, 21))
    bull, bear = [], []
    for v1, v2, v3 in zip(*vs, strict=True):
        bull.append((v1 > v3 and v3 > v2) or (v1 > v2 and v2 > v3) or (v2 > v1 and v1 > v3))
        bear.append((v3 > v2 and v2 > v1) or (v2 > v3 and v3 > v1) or (v3 > v1 and v1 > v2))
    return RefCycle(vs, vs, bull, bear, [True] * len(x))


@lru_cache
def close_times(dataset: str, tf: str) -> list[int]:
    return [t + TF_MS[tf] for t in ref_candles(dataset, tf)[0]]


def asof(dataset: str, tf: str, anchor: int) -> int:
    """IND §7.3: index of the latest ``tf`` candle with ``close_time ≤ anchor`` (−1: none)."""
    return bisect.bisect_right(close_times(dataset, tf), anchor) - 1


@dataclass
class RefTrend:
    bull: list[bool]
    bear: list[bool]
    bb: list[int]
    state: list[int]
    ready: list[bool]


def ref_trend(dataset: str, settings: TrendSettings, tfs: TrendTimeframes) -> RefTrend:
    """Spec §7.5 (as of each chart bar's open) and §7.6 (sticky S), readiness of §5.1."""
    chart_ts = ref_candles(dataset, settings.chart_timeframe)[0]
    longer = settings.use_longer_trend
    cyc = ref_cycle1(dataset, tfs.cycle, longer, settings.longer_trend_ma)
    bbr = ref_bb(dataset, tfs.bb)
    cyc2 = ref_cycle2(dataset) if longer else None
    out = RefTrend([], [], [], [], [])
    s = 0
    for o in chart_ts:
        j = asof(dataset, tfs.cycle, o)
        bull = j >= 0 and cyc.bull[j]
        bear = j >= 0 and cyc.bear[j]
        ready = j >= 0 and cyc.defined[j]
        k = asof(dataset, tfs.bb, o)
        bb = bbr.bb[k] if k >= 0 else 0
        ready = ready and k >= 0 and not isnan(bbr.ma_bbw[k])
        if cyc2 is not None:
            assert tfs.cycle2 is not None
            m = asof(dataset, tfs.cycle2, o)
            bull = bull and m >= 0 and cyc2.bull[m]
            bear = bear and m >= 0 and cyc2.bear[m]
            ready = ready and m >= 0
        if bull and (longer or bb == 2):
            s = 2
        if s == 2 and not bull:
            s = 0
        if bear and (longer or bb == -2):
            s = -2
        if s == -2 and not bear:
            s = 0
        out.bull.append(bull)
        out.bear.append(bear)
        out.bb.append(bb)
        out.state.append(s)
        out.ready.append(ready)
    return out


# ----------------------------------------------------------------------------------------------
# Comparisons
# ----------------------------------------------------------------------------------------------


def assert_close(actual: np.ndarray, expected: Sequence[float], what: str) -> None:
    """NaN exactly where the reference is NaN; elsewhere ``|a − r| ≤ 1e-9·|r|`` (relative;
    stricter than the IND §1.4 ``1e-9·max(1, |r|)`` for the many values below 1)."""
    act = np.asarray(actual, dtype=np.float64)
    exp = np.array(expected, dtype=np.float64)
    assert act.shape == exp.shape, what
    nan_diff = np.flatnonzero(np.isnan(act) != np.isnan(exp))
    assert nan_diff.size == 0, f"{what}: NaN pattern differs at {nan_diff[:5]}"
    ok = ~np.isnan(exp)
    a, r = act[ok], exp[ok]
    zero = r == 0
    assert (a[zero] == 0).all(), f"{what}: non-zero where the reference is exactly 0"
    err = np.abs(a[~zero] - r[~zero]) / np.abs(r[~zero])
    assert err.max(initial=0.0) <= TOL, f"{what}: max relative error {err.max()}"


def assert_same(actual: np.ndarray, expected: Sequence[object], what: str) -> None:
    exp = np.array(expected)
    bad = np.flatnonzero(np.asarray(actual) != exp)
    assert bad.size == 0, f"{what}: {bad.size} mismatches, first at {bad[:5]}"


# Chart timeframe → expected timeframes, from the spec §7.1 table.
CASES = {
    "1m chart (15m cycle, 5m BB)": ("1m", TrendSettings("1m"), TrendTimeframes("15m", "5m", None)),
    "5m chart (30m cycle, 15m BB)": (
        "1m",
        TrendSettings("5m"),
        TrendTimeframes("30m", "15m", None),
    ),
    "1h chart (1h cycle, 1h BB)": ("1h", TrendSettings("1h"), TrendTimeframes("1h", "1h", None)),
    "1h chart, trend_timeframe 4h": (
        "1h",
        TrendSettings("1h", trend_timeframe="4h"),
        TrendTimeframes("4h", "1h", None),
    ),
    "1h chart, longer trend EMA (1d + 4h)": (
        "1h",
        TrendSettings("1h", use_longer_trend=True),
        TrendTimeframes("1d", "1h", "4h"),
    ),
    "1h chart, longer trend T3 (1d + 4h)": (
        "1h",
        TrendSettings("1h", use_longer_trend=True, longer_trend_ma="t3"),
        TrendTimeframes("1d", "1h", "4h"),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_trend_matches_the_independent_reference_on_every_bar(case: str) -> None:
    dataset, settings, tfs = CASES[case]
    assert trend_timeframes(settings) == tfs
    chart_ts = np.array(ref_candles(dataset, settings.chart_timeframe)[0], dtype=np.int64)
    candles = {tf: candle_arrays(dataset, tf) for tf in tfs.all()}
    dbg = trend_debug(settings, chart_ts, candles)
    longer = settings.use_longer_trend

    cyc = ref_cycle1(dataset, tfs.cycle, longer, settings.longer_trend_ma)
    for k in range(3):
        assert_close(dbg.cycle.ma[k], cyc.ma[k], f"cycle MA{k + 1}")
        assert_close(dbg.cycle.smoothed[k], cyc.r[k], f"cycle R{k + 1}")
    assert_same((dbg.cycle.code & 1) != 0, cyc.bull, "bull1")
    assert_same((dbg.cycle.code & 2) != 0, cyc.bear, "bear1")
    if longer:
        cyc2 = ref_cycle2(dataset)
        assert dbg.cycle2 is not None
        for k in range(3):
            assert_close(dbg.cycle2.ma[k], cyc2.ma[k], f"VIDYA{k + 1}")
        assert_same((dbg.cycle2.code & 1) != 0, cyc2.bull, "bull2")
        assert_same((dbg.cycle2.code & 2) != 0, cyc2.bear, "bear2")

    bb = ref_bb(dataset, tfs.bb)
    inp, cols = dbg.bb.inputs, dbg.bb.debug
    assert inp is not None
    assert cols is not None
    for name in ("bbw", "bbr", "ma_bbw", "ph", "pl", "bbw2", "pl2"):
        assert_close(getattr(inp, name), getattr(bb, name), name)
    assert_close(cols[:, 0], bb.ph_avg, "ph_avg")
    assert_close(cols[:, 1], bb.pl_avg, "pl_avg")
    assert_close(cols[:, 2], bb.pl2_avg, "pl2_avg")
    assert_same(cols[:, 6] == 1.0, bb.sq2, "sq2")
    assert_same(dbg.bb.bb, bb.bb, "BB")

    ref = ref_trend(dataset, settings, tfs)
    assert_same(dbg.bull, ref.bull, "bull per chart bar")
    assert_same(dbg.bear, ref.bear, "bear per chart bar")
    assert_same(dbg.bb_at_bar, ref.bb, "BB per chart bar")
    assert_same(dbg.series.state, ref.state, "trend_state")
    assert_same(dbg.series.ready, ref.ready, "ready")
    plain = trend_series(settings, chart_ts, candles)
    assert_same(plain.state, ref.state, "trend_series state")
    assert_same(plain.ready, ref.ready, "trend_series ready")

    # The comparison means something only if every branch occurred on these candles.
    ready_states = set(np.array(ref.state)[np.array(ref.ready)].tolist())
    assert ready_states == {-2, 0, 2}
    assert set(bb.bb) == {-2, -1, 0, 2}
    fullest = np.max(np.array(bb.fifo_sizes), axis=0)
    assert (fullest > 0).all()  # PH, PL and PL2 all received pivots
    if dataset == "1h":
        assert fullest[0] == fullest[1] == 50  # and the capacity bound was exercised


# ----------------------------------------------------------------------------------------------
# The reference itself, on values derived by hand from the spec
# ----------------------------------------------------------------------------------------------


def test_reference_jma_first_output_is_the_spec_closed_form() -> None:
    # IND §3.6: J_0 = ((1 − α) + phase_ratio·α·(1 − β))·(1 − α)²·x_0, phase 50 → ratio 2.
    beta = 0.45 * 4 / (0.45 * 4 + 2)
    alpha = beta * beta
    expected = ((1 - alpha) + 2 * alpha * (1 - beta)) * (1 - alpha) ** 2 * 100.0
    assert ref_jma([100.0], 5)[0] == pytest.approx(expected, rel=1e-15)


def test_reference_rqk_of_a_constant_is_the_constant() -> None:
    out = ref_rqk([7.5] * 9)
    assert all(isnan(v) for v in out[:6])
    assert out[6:] == [pytest.approx(7.5, rel=1e-15)] * 3


def test_reference_vidya_of_a_constant_after_nine_bars_uses_cmo_one() -> None:
    # IND §9.4: V_t = V_{t−1} + (2/(1+n))·(c − V_{t−1}) once the 9-difference window is flat.
    out = ref_vidya([10.0] * 12, 3)
    assert out[11] == out[10] + 0.5 * (10.0 - out[10])


def test_reference_pivots_and_steps_on_a_hand_series() -> None:
    x = [1.0, 3.0, 2.0, 3.0, 1.0, 0.5]
    # left 1, right 1: at t the candidate is t − 1; index 1 is reported at t = 2, index 3 at 4.
    highs = ref_pivot(x, 1, 1, high=True)
    assert [t for t, v in enumerate(highs) if not isnan(v)] == [2, 4]
    lows = ref_pivot(x, 1, 1, high=False)
    assert [t for t, v in enumerate(lows) if not isnan(v)] == [3]
    # Ties: an equal newer value disqualifies the candidate, an equal older one does not.
    tie = ref_pivot([1.0, 3.0, 3.0, 1.0], 1, 1, high=True)
    assert [t for t, v in enumerate(tie) if not isnan(v)] == [3]
    assert ref_falling([4.0, 3.0, 2.0, 1.0], 3, 3)
    assert not ref_falling([4.0, 3.0, 3.0, 1.0], 3, 3)
    assert not ref_rising([NAN, 1.0], 1, 1)


def test_reference_resampling_completes_buckets_and_skips_the_partial_last_one() -> None:
    ts, close = ref_candles("1m", "15m")
    base_ts, base_close = base_candles("1m")
    # 7207 one-minute candles from 00:00: 480 full quarter hours and 7 minutes left over.
    assert len(base_ts) == 7207
    assert base_ts[0] % TF_MS["15m"] == 0
    assert len(ts) == 480
    assert close[0] == base_close[14]
    assert close[-1] == base_close[7199]
