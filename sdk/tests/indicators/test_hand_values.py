"""Hand-computed values on short synthetic series (IND §9.4) and the helper semantics (IND §2)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from indicator_support import assert_bitwise, load

from tbsdk import indicators as ind


def test_jma_first_output_and_constants() -> None:
    for length, beta_ref, alpha_ref in [(5, 0.4736842, 0.2243767), (20, 0.8104265, 0.6567912)]:
        oma, alpha, _, beta, pr, _, _ = ind.jma_constants(length, 50, 2)
        assert pr == 2.0
        assert abs(beta - beta_ref) < 1e-7
        assert abs(alpha - alpha_ref) < 1e-7
        x0 = 1234.5
        j0 = ((1 - alpha) + pr * alpha * (1 - beta)) * (1 - alpha) ** 2 * x0
        got = ind.jma([math.nan, x0, x0], length)
        assert math.isnan(got[0])
        assert abs(got[1] - j0) <= 1e-15 * abs(j0) * 4
        assert oma == 1 - alpha


def test_rqk_of_a_constant_is_the_constant() -> None:
    assert ind.rqk_weights(30, 0.5, 7)[1] == 1 / math.sqrt(1 + 1 / 900.0)
    got = ind.rqk(np.full(20, 123.456))
    assert np.isnan(got[:6]).all()
    assert np.all(np.abs(got[6:] - 123.456) <= 1e-15 * 123.456 * 2)


def test_pivothigh_of_a_strictly_increasing_series_is_nan() -> None:
    x = np.arange(100, dtype=float)
    assert np.isnan(ind.pivothigh(x, 20, 10)).all()
    assert np.isnan(ind.pivotlow(x[::-1].copy(), 20, 10)).all()


def test_pivot_reporting_and_ties() -> None:
    x = np.array([1, 2, 5, 3, 2, 5, 1, 0], dtype=float)
    ph = ind.pivothigh(x, 2, 2)
    # Candidate at index 2 (value 5) is reported at index 4; the equal newer 5 at index 5
    # disqualifies nothing for candidate 2 (outside its right window) but candidate 5 has the
    # older equal 5 at index 2 in its left window (allowed): reported at index 7.
    expected = np.full(8, np.nan)
    expected[4] = 5.0
    expected[7] = 5.0
    assert_bitwise(ph, expected)
    y = np.array([1, 3, 5, 4, 5, 2, 1], dtype=float)
    # Candidate index 2 (5) has an equal newer value at index 4: not a pivot (would show at
    # t = 4). Candidate index 4 has that equal value on its older side: a pivot, shown at t = 6.
    expected = np.full(7, np.nan)
    expected[6] = 5.0
    assert_bitwise(ind.pivothigh(y, 2, 2), expected)


def test_pivots_match_a_naive_definition_on_real_data() -> None:
    x = load("BINANCE_ETH-USDT_1h.csv.gz").c
    left, right = 20, 10
    ph, pl = ind.pivothigh(x, left, right), ind.pivotlow(x, left, right)
    for t in range(len(x)):
        c = t - right
        if c - left < 0:
            assert math.isnan(ph[t])
            assert math.isnan(pl[t])
            continue
        lft, rgt = x[c - left : c], x[c + 1 : t + 1]
        is_h = bool(np.all(x[c] >= lft) and np.all(x[c] > rgt))
        is_l = bool(np.all(x[c] <= lft) and np.all(x[c] < rgt))
        assert (ph[t] == x[c]) if is_h else math.isnan(ph[t])
        assert (pl[t] == x[c]) if is_l else math.isnan(pl[t])


def test_vidya_of_a_constant() -> None:
    n, c = 9, 50.0
    got = ind.vidya(np.full(40, c), n)
    k = 2 / (1 + n)
    v = 0.0
    for t in range(40):
        v = v + ((1.0 * 2.0) / (1.0 + n)) * (c - v)
        assert got[t] == v
    assert k == (1.0 * 2.0) / (1.0 + n)


def test_highest_lowest_match_a_naive_window() -> None:
    x = load("BINANCE_BTC-USDT_4h.csv.gz").h
    for n in (1, 3, 50):
        hi, lo = ind.highest(x, n), ind.lowest(x, n)
        assert np.isnan(hi[: n - 1]).all()
        assert np.isnan(lo[: n - 1]).all()
        for t in range(n - 1, len(x)):
            assert hi[t] == x[t - n + 1 : t + 1].max()
            assert lo[t] == x[t - n + 1 : t + 1].min()


def test_cross_rising_falling_change() -> None:
    a = np.array([np.nan, 1.0, 2.0, 3.0, 2.0, 2.0, 3.0])
    b = np.array([2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    assert ind.crossover(a, b).tolist() == [False, False, False, True, False, False, True]
    assert ind.crossunder(a, b).tolist() == [False, False, False, False, False, False, False]
    x = np.array([1.0, 2.0, 3.0, 4.0, 4.0, 3.0, 2.0, 1.0, np.nan, 0.0])
    assert ind.rising(x, 3).tolist() == [False, False, False, True] + [False] * 6
    # falling(x, 3) needs three strict steps (IND §10.11): true at index 7 only.
    assert ind.falling(x, 3).tolist() == [False] * 7 + [True, False, False]
    ch = ind.change(x)
    assert math.isnan(ch[0])
    assert ch[1] == 1.0
    assert math.isnan(ch[8])
    assert math.isnan(ch[9])


def test_t3_coefficients_for_a_07() -> None:
    c1, c2, c3, c4 = ind.t3_coefficients(0.7)
    assert [round(v, 12) for v in (c1, c2, c3, c4)] == [-0.343, 2.499, -6.069, 4.913]
    got = ind.t3(np.arange(1.0, 200.0), 5)
    first = int(np.flatnonzero(~np.isnan(got))[0])
    assert first == 6 * 5 - 6  # defined from c = 6n − 5


@pytest.mark.parametrize(("n", "first"), [(14, 14), (2, 2)])
def test_rsi_flat_series(n: int, first: int) -> None:
    values, flat = ind.rsi_with_flat(np.full(30, 7.0), n)
    assert np.isnan(values[:first]).all()
    assert (values[first:] == 0.0).all()
    assert not flat[:first].any()
    assert flat[first:].all()
    obj = ind.RSI(n)
    for v in np.full(30, 7.0):
        obj.update(v)
    assert obj.flat


def test_rsi_peek_does_not_commit() -> None:
    x = load("BINANCE_ETH-USDT_1h.csv.gz").c
    obj = ind.RSI(14)
    for v in x[:100]:
        obj.update(v)
    before = obj.get_state()
    peeked = obj.peek(float(x[100]))
    assert obj.get_state() == before
    assert peeked == obj.update(float(x[100])) == ind.rsi(x[:101], 14)[100]
