"""The 4h ADX regime of grid spec §4.4: each rule on hand-made values, and on real 4h candles
vectorised == streaming (across a restart), no look-ahead, and every change of the regime
explained by the rule that allows it (the rule's inputs recomputed here from the SDK's ADX,
crossover and highest/lowest)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib

from test_adaptive_kit import btc_4h

from tb_strategy_grid.adaptive.regime import RegimeTracker, next_regime, regime_series
from tbsdk.indicators import adx, crossover, highest, lowest

NAN = math.nan
FLAT = (25.0, 25.0, 25.0, 25.0)  # ADX neither rising nor falling, above 20


def _step(
    regime: int,
    *,
    up: bool = False,
    down: bool = False,
    adx: tuple[float, float, float, float] = FLAT,
    close: float = 100.0,
    hh: float = 100.0,
    ll: float = 100.0,
) -> int:
    return next_regime(regime, up, down, adx, close, hh, ll)


def test_di_crosses_move_only_from_zero() -> None:
    assert _step(0, up=True) == 1
    assert _step(0, down=True) == -1
    assert _step(0, up=True, down=True) == 1  # +DI over −DI is tested first
    # No direct 1 <-> −1: a cross while trending changes nothing (ADX flat above 20).
    assert _step(1, down=True) == 1
    assert _step(-1, up=True) == -1
    # Before ADX exists the crosses still count; every ADX comparison is false.
    assert _step(0, up=True, adx=(NAN, NAN, NAN, NAN)) == 1


def test_rising_adx_makes_a_strong_trend() -> None:
    rising = (30.0, 29.0, 28.0, 27.0)
    assert _step(1, adx=rising) == 2
    assert _step(2, adx=rising) == 2
    assert _step(-1, adx=rising) == -2
    assert _step(0, adx=rising) == 0
    assert _step(1, adx=(30.0, 29.0, NAN, NAN)) == 1  # adx_{t−2} missing: false
    assert _step(1, adx=(30.0, 30.0, 28.0, 27.0)) == 1  # not strictly rising


def test_price_reset_of_a_strong_trend() -> None:
    rising = (30.0, 29.0, 28.0, 27.0)
    # −2 ends when the close is 10 % above the 50-candle low; +2 when 10 % below the high.
    # (Comparisons are plain float64: 1.1 · 100 is 110.00000000000001.)
    assert _step(-1, adx=rising, close=110.01, ll=100.0) == 0
    assert _step(-1, adx=rising, close=110.0, ll=100.0) == -2
    assert _step(1, adx=rising, close=89.99, hh=100.0) == 0
    assert _step(1, adx=rising, close=90.01, hh=100.0) == 2
    assert _step(-2, close=110.0, ll=NAN) == -2  # NaN bound: false


def test_adx_weakening_ends_any_trend() -> None:
    assert _step(1, adx=(19.0, 20.0, 21.0, 22.0)) == 0  # adx_t < 20 <= adx_{t−1}
    assert _step(-2, adx=(19.0, 20.0, 21.0, 22.0)) == 0
    assert _step(1, adx=(19.0, 19.5, 21.0, 22.0)) == 1  # already below 20 at t−1
    assert _step(2, adx=(25.0, 26.0, 27.0, 28.0)) == 0  # three falls, still above 20
    assert _step(2, adx=(25.0, 26.0, 27.0, NAN)) == 2  # adx_{t−3} missing: false
    assert _step(0, adx=(19.0, 20.0, 21.0, 22.0)) == 0


def test_streaming_equals_vectorised_across_a_restart() -> None:
    candles = btc_4h()
    whole = regime_series(candles.high, candles.low, candles.close)
    tracker = RegimeTracker()
    rows = []
    for i in range(len(candles)):
        if i in (40, 57, 300):
            state = json.loads(json.dumps(tracker.get_state(), allow_nan=False))
            tracker = RegimeTracker()
            tracker.set_state(state)
        rows.append(tracker.update(candles.high[i], candles.low[i], candles.close[i]))
    assert np.array_equal(np.array(rows), whole, equal_nan=True)


def test_no_look_ahead() -> None:
    candles = btc_4h()
    whole = regime_series(candles.high, candles.low, candles.close)
    for stop in (56, 200, 411):
        part = regime_series(candles.high[:stop], candles.low[:stop], candles.close[:stop])
        assert np.array_equal(part, whole[:stop], equal_nan=True)


def test_every_change_on_real_candles_has_its_reason() -> None:
    candles = btc_4h()
    rows = regime_series(candles.high, candles.low, candles.close)
    regime = rows[:, 0].astype(int)
    a, pdi, mdi = adx(candles.high, candles.low, candles.close, 28)
    assert np.array_equal(rows[:, 1], a, equal_nan=True)
    up, down = crossover(pdi, mdi), crossover(mdi, pdi)
    hh, ll = highest(candles.high, 50), lowest(candles.low, 50)

    def past(t: int, k: int) -> float:
        return float(a[t - k]) if t - k >= 0 else NAN

    seen: set[tuple[int, int]] = set()
    prev = 0
    for t in range(len(candles)):
        now = int(regime[t])
        if now != prev:
            seen.add((prev, now))
            a0, a1, a2, a3 = (past(t, k) for k in range(4))
            weak = a0 < 20 <= a1 or (a0 < a1 < a2 < a3 and a0 > 20)
            if now == 0:
                # Step 2 may act on a strength reached in step 1 of the same candle.
                rising = a0 > a1 > a2
                strong = 2 * prev if abs(prev) == 1 and rising else prev
                reset = (strong == -2 and candles.close[t] >= 1.1 * ll[t]) or (
                    strong == 2 and candles.close[t] <= 0.9 * hh[t]
                )
                assert weak or reset, t
            elif now in (1, -1):
                assert prev == 0, t
                assert up[t] if now == 1 else (down[t] and not up[t]), t
            else:
                assert prev == now // 2, t  # ±1 -> ±2 only
                assert a0 > a1 > a2, t
        prev = now
    # The data exercises every kind of move of the sticky state.
    assert {(0, 1), (1, 2), (2, 0), (0, -1), (-1, -2), (-2, 0), (-1, 0)} <= seen
    assert int(np.flatnonzero(~np.isnan(a))[0]) == 55  # ADX from t = 2n − 1


@pytest.mark.parametrize("bad", [{"indicator": "ADX"}, {"indicator": "RegimeTracker"}])
def test_a_foreign_state_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises((ValueError, KeyError)):
        RegimeTracker().set_state(bad)
