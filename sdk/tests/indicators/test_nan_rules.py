"""Missing values (IND §1.2): leading NaN skipped, interior NaN refused, state untouched."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from indicator_support import assert_bitwise, load

from tbsdk import indicators as ind

SERIES = [
    ("sma", lambda x: ind.sma(x, 5), lambda: ind.SMA(5)),
    ("ema", lambda x: ind.ema(x, 5), lambda: ind.EMA(5)),
    ("rma", lambda x: ind.rma(x, 5), lambda: ind.RMA(5)),
    ("wma", lambda x: ind.wma(x, 5), lambda: ind.WMA(5)),
    ("jma", lambda x: ind.jma(x, 5), lambda: ind.JMA(5)),
    ("vidya", lambda x: ind.vidya(x, 3), lambda: ind.VIDYA(3)),
    ("rqk", ind.rqk, ind.RQK),
    ("rsi", lambda x: ind.rsi(x, 5), lambda: ind.RSI(5)),
    ("stdev", lambda x: ind.stdev(x, 5), lambda: ind.STDEV(5)),
    ("er", lambda x: ind.er(x, 5), lambda: ind.ER(5)),
    ("highest", lambda x: ind.highest(x, 5), lambda: ind.Highest(5)),
    ("pivothigh", lambda x: ind.pivothigh(x, 2, 2), lambda: ind.PivotHigh(2, 2)),
]


@pytest.mark.parametrize(("name", "vec", "make"), SERIES, ids=[s[0] for s in SERIES])
def test_leading_nan_is_skipped(name: str, vec, make) -> None:  # type: ignore[no-untyped-def]
    x = load("BINANCE_ETH-USDT_1h.csv.gz").c[:200]
    padded = np.concatenate([np.full(7, np.nan), x])
    got = vec(padded)
    assert np.isnan(got[:7]).all()
    assert_bitwise(got[7:], vec(x))


@pytest.mark.parametrize(("name", "vec", "make"), SERIES, ids=[s[0] for s in SERIES])
def test_interior_nan_raises_and_keeps_state(name: str, vec, make) -> None:  # type: ignore[no-untyped-def]
    x = load("BINANCE_ETH-USDT_1h.csv.gz").c[:60]
    bad = x.copy()
    bad[30] = np.nan
    with pytest.raises(ind.IndicatorInputError, match="index 30"):
        vec(bad)
    obj = make()
    for v in x[:30]:
        obj.update(float(v))
    before = obj.get_state()
    with pytest.raises(ind.IndicatorInputError):
        obj.update(math.nan)
    assert obj.get_state() == before
    rest = [obj.update(float(v)) for v in x[30:]]
    assert_bitwise(np.array(rest), vec(x)[30:])


@pytest.mark.parametrize("position", [0, 10])
def test_candle_with_nan_raises_anywhere(position: int) -> None:
    d = load("BINANCE_ETH-USDT_1h.csv.gz")
    h = d.h[:40].copy()
    h[position] = np.nan
    for fn in (ind.atr, ind.adx):
        with pytest.raises(ind.IndicatorInputError, match=f"candle {position}"):
            fn(h, d.l[:40], d.c[:40], 5)
    with pytest.raises(ind.IndicatorInputError):
        ind.true_range(h, d.l[:40], d.c[:40])
    obj = ind.ATR(5)
    with pytest.raises(ind.IndicatorInputError):
        obj.update(math.nan, 1.0, 1.0)
    assert obj.get_state() == ind.ATR(5).get_state()


def test_update_many_rolls_back_on_error() -> None:
    obj = ind.SMA(3)
    obj.update_many([1.0, 2.0])
    before = obj.get_state()
    with pytest.raises(ind.IndicatorInputError):
        obj.update_many([3.0, math.nan])
    assert obj.get_state() == before


def test_state_from_other_params_is_refused() -> None:
    st = ind.EMA(5).get_state()
    with pytest.raises(ValueError, match="params"):
        ind.EMA(6).set_state(st)
    with pytest.raises(ValueError, match="not 'SMA'"):
        ind.SMA(5).set_state(st)


def test_bad_parameters_are_refused() -> None:
    from tbsdk.errors import ConfigError

    bad_float: Any = 2.5
    calls = (lambda: ind.SMA(0), lambda: ind.RSI(1), lambda: ind.ADX(1), lambda: ind.EMA(bad_float))
    for call in calls:
        with pytest.raises(ConfigError):
            call()
