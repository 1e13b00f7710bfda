"""The reference values quoted in IND §4.1, §4.2 and §4.5, within 1e-12 relative (IND §1.4)."""

from __future__ import annotations

import math

import pytest
from indicator_support import load

from tbsdk.indicators import adx, atr, rsi

FILE = "BINANCE_ETH-USDT_1h.csv.gz"


def _rel_ok(ours: float, ref: float) -> bool:
    return abs(ours - ref) <= 1e-12 * abs(ref)


@pytest.mark.parametrize(
    ("index", "ref"),
    [(14, 52.24274406332451), (100, 27.306129668585328), (499, 77.45740475457184)],
)
def test_rsi14_reference_values(index: int, ref: float) -> None:
    d = load(FILE)
    values = rsi(d.c, 14)
    assert _rel_ok(float(values[index]), ref)
    assert math.isnan(values[13])


@pytest.mark.parametrize(("index", "ref"), [(14, 6.747142857142868), (499, 4.302055509586374)])
def test_atr14_reference_values(index: int, ref: float) -> None:
    d = load(FILE)
    values = atr(d.h, d.l, d.c, 14)
    assert _rel_ok(float(values[index]), ref)
    assert math.isnan(values[13])


@pytest.mark.parametrize(
    ("index", "ref_adx", "ref_pdi", "ref_mdi"),
    [
        (55, 7.273998596582892, 18.770365256458497, 22.11930649928347),
        (499, 25.87719190111029, 36.19848199383598, 10.696962071954106),
    ],
)
def test_adx28_reference_values(index: int, ref_adx: float, ref_pdi: float, ref_mdi: float) -> None:
    d = load(FILE)
    a, pdi, mdi = adx(d.h, d.l, d.c, 28)
    assert _rel_ok(float(a[index]), ref_adx)
    assert _rel_ok(float(pdi[index]), ref_pdi)
    assert _rel_ok(float(mdi[index]), ref_mdi)
    # +DI/−DI from t = n, ADX from t = 2n − 1 (IND §4.5).
    assert math.isnan(pdi[27])
    assert not math.isnan(pdi[28])
    assert math.isnan(a[54])
    assert not math.isnan(a[55])
