"""Hypothesis properties: no exception on valid input, RSI in [0, 100], streaming == vectorised."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from indicator_support import assert_bitwise

from tbsdk import indicators as ind

prices = arrays(
    np.float64,
    st.integers(0, 80),
    elements=st.floats(1e-3, 1e6, allow_nan=False, allow_infinity=False),
)
lead = st.integers(0, 5)


@settings(max_examples=150, deadline=None)
@given(prices, lead, st.integers(2, 20))
def test_rsi_bounds_and_identity(x: np.ndarray, k: int, n: int) -> None:
    xs = np.concatenate([np.full(k, np.nan), x])
    values = ind.rsi(xs, n)
    ok = values[~np.isnan(values)]
    assert ((ok >= 0) & (ok <= 100)).all()
    obj = ind.RSI(n)
    assert_bitwise(np.array([obj.update(v) for v in xs]), values)


@settings(max_examples=100, deadline=None)
@given(prices, lead, st.integers(1, 12))
def test_series_indicators_identity(x: np.ndarray, k: int, n: int) -> None:
    xs = np.concatenate([np.full(k, np.nan), x])
    pairs: list[tuple[Any, np.ndarray]] = [
        (ind.SMA(n), ind.sma(xs, n)),
        (ind.EMA(n), ind.ema(xs, n)),
        (ind.RMA(n), ind.rma(xs, n)),
        (ind.WMA(n), ind.wma(xs, n)),
        (ind.STDEV(n), ind.stdev(xs, n)),
        (ind.ER(n), ind.er(xs, n)),
        (ind.JMA(n), ind.jma(xs, n)),
        (ind.VIDYA(n), ind.vidya(xs, n)),
        (ind.T3(n), ind.t3(xs, n)),
        (ind.Highest(n), ind.highest(xs, n)),
        (ind.Lowest(n), ind.lowest(xs, n)),
        (ind.PivotHigh(n, 2), ind.pivothigh(xs, n, 2)),
        (ind.RQK(), ind.rqk(xs)),
    ]
    for obj, expected in pairs:
        assert_bitwise(np.array([obj.update(v) for v in xs], dtype=np.float64), expected)
    sd = ind.stdev(xs, n)
    assert (sd[~np.isnan(sd)] >= 0).all()


@settings(max_examples=100, deadline=None)
@given(prices, st.integers(1, 30))
def test_candle_indicators_identity(x: np.ndarray, n: int) -> None:
    rng = np.random.default_rng(len(x))
    spread = rng.random(len(x)) * x * 0.01
    h, lo, c = x + spread, x - spread, x
    obj = ind.ATR(n)
    assert_bitwise(
        np.array([obj.update(*v) for v in zip(h, lo, c, strict=True)]), ind.atr(h, lo, c, n)
    )
    if n >= 2:
        adx_obj = ind.ADX(n)
        got = [adx_obj.update(*v) for v in zip(h, lo, c, strict=True)]
        for j, arr in enumerate(ind.adx(h, lo, c, n)):
            values = np.array([g[j] for g in got])
            assert_bitwise(values, arr)
            ok = values[~np.isnan(values)]
            assert ((ok >= 0) & (ok <= 100 + 1e-9)).all()
