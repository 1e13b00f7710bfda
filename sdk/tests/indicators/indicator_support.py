"""Helpers for the indicator tests: the real candle files in ``data/`` and comparisons."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

DATA = Path(__file__).parent / "data"
FILES = sorted(p.name for p in DATA.glob("*.csv.gz"))


@dataclass(frozen=True)
class Candles:
    """One candle file as columns."""

    name: str
    ts: npt.NDArray[np.int64]
    o: npt.NDArray[np.float64]
    h: npt.NDArray[np.float64]
    l: npt.NDArray[np.float64]  # noqa: E741 - the usual OHLC letter
    c: npt.NDArray[np.float64]
    v: npt.NDArray[np.float64]


_CACHE: dict[str, Candles] = {}


def load(name: str) -> Candles:
    """Parse ``data/<name>`` (cached). Prices are converted by Python's correctly rounded
    ``float``, i.e. exact-nearest conversion (IND §1.5)."""
    if name not in _CACHE:
        with gzip.open(DATA / name, "rt") as fh:
            header = fh.readline().strip()
            assert header == "timestamp,open,high,low,close,volume"
            rows = [line.rstrip("\n").split(",") for line in fh if line.strip()]
        ts = np.array([int(r[0]) for r in rows], dtype=np.int64)
        cols = [np.array([float(r[k]) for r in rows], dtype=np.float64) for k in range(1, 6)]
        _CACHE[name] = Candles(name, ts, *cols)
    return _CACHE[name]


def assert_bitwise(a: npt.ArrayLike, b: npt.ArrayLike) -> None:
    """``a`` and ``b`` are identical bit for bit (NaN at the same places counts as equal)."""
    x = np.asarray(a)
    y = np.asarray(b)
    assert x.shape == y.shape
    if x.dtype == np.bool_ or y.dtype == np.bool_:
        assert x.dtype == y.dtype
        assert np.array_equal(x, y)
        return
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    nx, ny = np.isnan(x), np.isnan(y)
    assert np.array_equal(nx, ny), f"NaN positions differ at {np.flatnonzero(nx != ny)[:5]}"
    bx, by = x[~nx].view(np.int64), y[~ny].view(np.int64)
    diff = np.flatnonzero(bx != by)
    assert diff.size == 0, f"{diff.size} values differ, first at non-NaN position {diff[:5]}"


def assert_close(ours: npt.ArrayLike, ref: npt.ArrayLike, rel: float = 1e-9) -> None:
    """IND §1.4: ``|ours − ref| ≤ rel·max(1, |ref|)`` where ``ref`` is defined, NaN exactly
    where ``ref`` is NaN."""
    x = np.asarray(ours, dtype=np.float64)
    y = np.asarray(ref, dtype=np.float64)
    assert x.shape == y.shape
    nx, ny = np.isnan(x), np.isnan(y)
    assert np.array_equal(nx, ny), f"NaN positions differ at {np.flatnonzero(nx != ny)[:5]}"
    err = np.abs(x[~ny] - y[~ny]) / np.maximum(1.0, np.abs(y[~ny]))
    worst = float(err.max()) if err.size else 0.0
    assert worst <= rel, f"max relative error {worst:.3e} > {rel:.0e}"
