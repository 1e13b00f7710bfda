"""The level table of grid spec §4.3 on real 15m candles: vectorised and streaming agree bit for
bit (also across a saved and restored state), no value looks ahead, the NaN rules hold, and the
clamps give what the spec's formulas give when computed here independently."""

from __future__ import annotations

import json
import math
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib

from test_adaptive_kit import btc_15m

from tb_strategy_grid.adaptive.levels import LevelLadder, centre_index, level_table
from tbsdk.indicators import ATR, EMA, ERAdaptive

SETTINGS = [(20, Decimal("0.5"), Decimal("0.004")), (7, Decimal("2.0"), Decimal("0.001"))]


@pytest.mark.parametrize(("n", "band", "gap"), SETTINGS)
def test_streaming_equals_vectorised_across_a_restart(n: int, band: Decimal, gap: Decimal) -> None:
    candles = btc_15m()
    whole = level_table(candles.high, candles.low, candles.close, n, band, gap)
    assert whole.shape == (len(candles), n + 2)
    ladder = LevelLadder(n, band, gap)
    rows = []
    for i in range(len(candles)):
        if i in (30, 250):  # a restart: the state through JSON into a new ladder
            state = json.loads(json.dumps(ladder.get_state(), allow_nan=False))
            ladder = LevelLadder(n, band, gap)
            ladder.set_state(state)
        rows.append(ladder.update(candles.high[i], candles.low[i], candles.close[i]))
    assert np.array_equal(np.array(rows), whole, equal_nan=True)
    # A batch after a single update is the same again.
    split = LevelLadder(n, band, gap)
    head = split.update_many(candles.high[:100], candles.low[:100], candles.close[:100])
    tail = split.update_many(candles.high[100:], candles.low[100:], candles.close[100:])
    assert np.array_equal(np.vstack([head, tail]), whole, equal_nan=True)


def test_no_look_ahead() -> None:
    candles = btc_15m()
    args = (20, Decimal("0.5"), Decimal("0.004"))
    whole = level_table(candles.high, candles.low, candles.close, *args)
    for stop in (23, 120, 333):
        part = level_table(candles.high[:stop], candles.low[:stop], candles.close[:stop], *args)
        assert np.array_equal(part, whole[:stop], equal_nan=True)


def test_when_the_table_is_defined() -> None:
    # C (EMA(5) of the FAMA recursion) is defined from candle 4, so the centre rung's final
    # EMA(5) from candle 8. ATR(14) is defined from candle 14 and A with it (not C·min_gap
    # earlier), so Q_n from 18, raw_n from 18 and every other L_n from 22.
    candles = btc_15m()
    rows = level_table(candles.high, candles.low, candles.close, 20, Decimal("0.5"), "0.004")
    centre = centre_index(20)
    assert centre == 11
    first = [int(np.flatnonzero(~np.isnan(rows[:, k]))[0]) for k in range(22)]
    assert first[centre] == 8
    assert first[:centre] == [22] * centre
    assert first[centre + 1 :] == [22] * 10


def _ema_chain(values: list[float]) -> list[float]:
    ema = EMA(5)
    return [ema.update(v) for v in values]


def _spec_table(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, n: int, band: float, gap: float
) -> tuple[np.ndarray, dict[str, int]]:
    """§4.3 written out with plain floats, one rung and one candle at a time (the SDK's
    indicators for ATR, the centre line and the EMAs); also counts how often each clamp
    replaced a value."""
    bound_hits = {"centre": 0, "spacing": 0}
    atr_obj, centre_obj = ATR(14), ERAdaptive(20, 5)
    c_idx = n // 2 + 1
    pct = [EMA(5) for _ in range(n)]
    atr_e = [EMA(5) for _ in range(n)]
    final = [EMA(5) for _ in range(n)]
    out = np.full((len(close), n + 2), math.nan)
    for t in range(len(close)):
        atr = atr_obj.update(high[t], low[t], close[t])
        c = centre_obj.update(close[t])[1]
        a = math.nan if math.isnan(atr) or math.isnan(c) else max(atr, c * gap)
        raws: list[float] = []
        for k in range(n):
            d = c_idx - (k + 1)
            p = pct[k].update(c * (1 - (band * 0.012) * d))
            q = atr_e[k].update(c - (a * 1.5) * d)
            raw = (p + q) / 2
            g = min(0.05 * abs(d), 0.5)
            if d > 0 and c * (1 - g) > raw:
                raw = c * (1 - g)
                bound_hits["centre"] += 1
            elif d < 0 and c * (1 + g) < raw:
                raw = c * (1 + g)
                bound_hits["centre"] += 1
            elif d == 0:
                raw = c
            if raws and raws[-1] * (1 + gap) > raw:
                raw = raws[-1] * (1 + gap)
                bound_hits["spacing"] += 1
            raws.append(raw)
            out[t, k + 1] = final[k].update(raw)
        out[t, 0] = out[t, 1] * 0.992
        out[t, n + 1] = out[t, n] * 1.008
    return out, bound_hits


@pytest.mark.parametrize(
    ("n", "band", "gap", "scale", "binding"),
    [
        (20, 0.5, 0.004, 1.0, set()),
        (20, 0.1, 0.05, 1.0, {"spacing"}),
        (9, 0.5, 0.004, 12.0, {"centre"}),
        (40, 2.0, 0.001, 8.0, {"centre", "spacing"}),  # rungs past the 50 % cap coincide
    ],
)
def test_matches_the_spec_formulas_with_clamps(
    n: int, band: float, gap: float, scale: float, binding: set[str]
) -> None:
    # ``scale`` widens each candle's range around its close, so the ATR step dominates and the
    # centre-distance clamp binds; min_gap 0.05 with band_mult 0.1 makes the spacing clamp bind.
    candles = btc_15m()
    c = candles.close
    high = c + (candles.high - c) * scale
    low = np.maximum(c - (c - candles.low) * scale, c * 0.01)
    got = level_table(high, low, c, n, Decimal(str(band)), Decimal(str(gap)))
    want, bound_hits = _spec_table(high, low, c, n, band, gap)
    assert np.array_equal(got, want, equal_nan=True)
    assert binding <= {name for name, hits in bound_hits.items() if hits}


def test_converged_clamps_by_hand() -> None:
    close = np.full(400, 100.0)
    # Candles 20 % wide: ATR -> 20, A = 20; Q_n = 100 − 30·d lies far outside the centre bounds,
    # so every rung converges onto its bound C·(1 ∓ g): L_n = 100 − 5·d with g capped at 50 %.
    rows = level_table(close * 1.1, close * 0.9, close, 20, Decimal("0.5"), Decimal("0.004"))
    for k in range(1, 21):
        d = 11 - k
        assert rows[-1, k] == pytest.approx(100 * (1 - min(0.05 * abs(d), 0.5) * np.sign(d)))
    assert rows[-1, 1] == pytest.approx(50.0)  # d = 10: the 50 % cap
    # Zero-range candles: ATR = 0, A = C·min_gap = 5; raw_n = 100 − 3.81·d is closer together
    # than 5 % near the centre, so the spacing clamp lifts each rung to 1.05 × the one below.
    flat = level_table(close, close, close, 20, Decimal("0.1"), Decimal("0.05"))[-1]
    raw = [100 - 3.81 * (11 - k) for k in range(1, 21)]
    raw[10] = 100.0
    for k in range(1, 20):
        raw[k] = max(raw[k], raw[k - 1] * 1.05)
    assert list(flat[1:21]) == pytest.approx(raw, rel=1e-12)
    assert flat[11] > 100.0  # the centre rung is lifted by the spacing clamp too (see README)
