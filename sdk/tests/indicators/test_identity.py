"""Streaming == vectorised, bit for bit, on every copied candle file, including a JSON
save/restore of the streaming state at a random index (IND §1.1, §9.1)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from indicator_support import Candles, assert_bitwise

from tbsdk import indicators as ind

Arrays = list[np.ndarray[Any, Any]]


def _close(d: Candles) -> Arrays:
    return [d.c]


def _hlc(d: Candles) -> Arrays:
    return [d.h, d.l, d.c]


def _bbw(d: Candles) -> Arrays:
    return [ind.bollinger_width(d.c, 15, 1.5)]


def _pair(d: Candles) -> Arrays:
    return [d.c, ind.ema(d.c, 10)]


def _di(d: Candles) -> Arrays:
    _, pdi, mdi = ind.adx(d.h, d.l, d.c, 28)
    return [pdi, mdi]


def _jma5(d: Candles) -> Arrays:
    return [ind.jma(d.c, 5)]


# (id, streaming factory, vectorised function, inputs) — the parameter sets the strategies use
# (hyperrsi §7, grid §4.2–4.4) plus the defaults.
CASES: list[tuple[str, Callable[[], Any], Callable[..., Any], Callable[[Candles], Arrays]]] = [
    ("sma20", lambda: ind.SMA(20), lambda x: ind.sma(x, 20), _close),
    ("sma100_of_bbw", lambda: ind.SMA(100), lambda x: ind.sma(x, 100), _bbw),
    ("ema5", lambda: ind.EMA(5), lambda x: ind.ema(x, 5), _close),
    ("ema120", lambda: ind.EMA(120), lambda x: ind.ema(x, 120), _close),
    ("ema1", lambda: ind.EMA(1), lambda x: ind.ema(x, 1), _close),
    ("rma14", lambda: ind.RMA(14), lambda x: ind.rma(x, 14), _close),
    ("wma20", lambda: ind.WMA(20), lambda x: ind.wma(x, 20), _close),
    ("t3_20", lambda: ind.T3(20), lambda x: ind.t3(x, 20), _close),
    ("jma5", lambda: ind.JMA(5), lambda x: ind.jma(x, 5), _close),
    ("jma20", lambda: ind.JMA(20), lambda x: ind.jma(x, 20), _close),
    ("vidya3", lambda: ind.VIDYA(3), lambda x: ind.vidya(x, 3), _close),
    ("vidya21", lambda: ind.VIDYA(21), lambda x: ind.vidya(x, 21), _close),
    ("rqk_of_jma5", lambda: ind.RQK(), lambda x: ind.rqk(x), _jma5),
    ("rsi14", lambda: ind.RSI(14), lambda x: ind.rsi(x, 14), _close),
    ("rsi2", lambda: ind.RSI(2), lambda x: ind.rsi(x, 2), _close),
    ("tr", ind.TrueRange, ind.true_range, _hlc),
    ("atr14", lambda: ind.ATR(14), lambda h, lo, c: ind.atr(h, lo, c, 14), _hlc),
    ("adx28", lambda: ind.ADX(28), lambda h, lo, c: ind.adx(h, lo, c, 28), _hlc),
    ("adx14", lambda: ind.ADX(14), lambda h, lo, c: ind.adx(h, lo, c, 14), _hlc),
    ("stdev20", lambda: ind.STDEV(20), lambda x: ind.stdev(x, 20), _close),
    ("bb15", lambda: ind.Bollinger(15, 1.5), lambda x: ind.bollinger(x, 15, 1.5), _close),
    (
        "bbw15",
        lambda: ind.BollingerWidth(15, 1.5),
        lambda x: ind.bollinger_width(x, 15, 1.5),
        _close,
    ),
    (
        "bbw60",
        lambda: ind.BollingerWidth(60, 1.5),
        lambda x: ind.bollinger_width(x, 60, 1.5),
        _close,
    ),
    (
        "pctb15",
        lambda: ind.BollingerPercentB(15, 1.5),
        lambda x: ind.bollinger_percent_b(x, 15, 1.5),
        _close,
    ),
    ("er20", lambda: ind.ER(20), lambda x: ind.er(x, 20), _close),
    ("er_adaptive", ind.ERAdaptive, ind.er_adaptive, _close),
    ("pivothigh_bbw", lambda: ind.PivotHigh(20, 10), lambda x: ind.pivothigh(x, 20, 10), _bbw),
    ("pivotlow_bbw", lambda: ind.PivotLow(20, 10), lambda x: ind.pivotlow(x, 20, 10), _bbw),
    ("pivotlow_close", lambda: ind.PivotLow(30, 10), lambda x: ind.pivotlow(x, 30, 10), _close),
    ("highest50", lambda: ind.Highest(50), lambda x: ind.highest(x, 50), _close),
    ("lowest50", lambda: ind.Lowest(50), lambda x: ind.lowest(x, 50), _close),
    ("change", ind.Change, ind.change, _close),
    ("crossover", ind.Crossover, ind.crossover, _pair),
    ("crossunder", ind.Crossunder, ind.crossunder, _pair),
    ("crossover_di", ind.Crossover, ind.crossover, _di),
    ("rising3", lambda: ind.Rising(3), lambda x: ind.rising(x, 3), _close),
    ("falling3", lambda: ind.Falling(3), lambda x: ind.falling(x, 3), _close),
]


def _stack(outputs: list[Any]) -> list[np.ndarray[Any, Any]]:
    if isinstance(outputs[0], tuple):
        return [np.array([o[j] for o in outputs]) for j in range(len(outputs[0]))]
    return [np.array(outputs)]


@pytest.mark.parametrize(("case", "make", "vectorised", "inputs"), CASES, ids=[c[0] for c in CASES])
def test_streaming_equals_vectorised(
    candles: Candles,
    case: str,
    make: Callable[[], Any],
    vectorised: Callable[..., Any],
    inputs: Callable[[Candles], Arrays],
) -> None:
    arrays = inputs(candles)
    expected = vectorised(*arrays)
    expected_list = list(expected) if isinstance(expected, tuple) else [expected]
    n = len(arrays[0])
    cut = zlib.crc32(f"{candles.name}/{case}".encode()) % n  # a stable "random" index
    obj = make()
    outputs = [obj.update(*(float(a[t]) for a in arrays)) for t in range(cut)]
    state = json.loads(json.dumps(obj.get_state(), allow_nan=False))
    restored = make()
    restored.set_state(state)
    outputs += [restored.update(*(float(a[t]) for a in arrays)) for t in range(cut, n)]
    got = _stack(outputs)
    assert len(got) == len(expected_list)
    for g, e in zip(got, expected_list, strict=True):
        assert_bitwise(g, e)
