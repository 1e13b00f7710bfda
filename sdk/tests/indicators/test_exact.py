"""Exact-arithmetic conformance against math.fsum two-pass computations (IND §9.3)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from indicator_support import FILES, Candles, assert_close, load

from tbsdk.indicators import bollinger_width, er, sma, stdev


def _exact_windows(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    mean = np.full(len(x), np.nan)
    sd = np.full(len(x), np.nan)
    for t in range(n - 1, len(x)):
        w = [float(v) for v in x[t - n + 1 : t + 1]]
        mu = math.fsum(w) / n
        mean[t] = mu
        sd[t] = math.sqrt(math.fsum((v - mu) ** 2 for v in w) / n)
    return mean, sd


def _exact_er(x: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    for t in range(n, len(x)):
        path = math.fsum(abs(float(x[i]) - float(x[i - 1])) for i in range(t - n + 1, t + 1))
        out[t] = 0.0 if path == 0 else abs(float(x[t]) - float(x[t - n])) / path
    return out


def _stdev_ok(ours: np.ndarray, exact: np.ndarray, mean: np.ndarray) -> None:
    defined = ~np.isnan(exact)
    assert np.array_equal(np.isnan(ours), ~defined)
    tol = 1e-9 * np.maximum(1.0, np.abs(mean[defined]))
    bad = np.flatnonzero(np.abs(ours[defined] - exact[defined]) > tol)
    assert bad.size == 0, f"{bad.size} windows off, first at defined index {bad[0]}"


# Files whose daily candles hold flat stretches right after a jump: the case that made the
# extra flat-window resync necessary (see bollinger.py).
_RESIDUE_FILES = {"BITSTAMP_BTC-USD_1d.csv.gz", "COINBASE_BTC-USD_1d.csv.gz"}


@pytest.mark.parametrize(
    ("name", "n"),
    [(f, n) for f in FILES for n in (5, 15, 20, 60)],
)
def test_sma_stdev_bbw_er_against_fsum(name: str, n: int) -> None:
    d: Candles = load(name)
    x = d.c[:3000]
    mean, sd = _exact_windows(x, n)
    assert_close(sma(x, n), mean)
    assert_close(er(x, n), _exact_er(x, n))
    _stdev_ok(stdev(x, n), sd, mean)
    exact_bbw = ((mean + 1.5 * sd) - (mean - 1.5 * sd)) * 10 / mean
    ours = bollinger_width(x, n, 1.5)
    # BBW = 30·σ/μ, so the σ tolerance 1e-9·μ becomes 3e-8 absolute on the width.
    assert np.array_equal(np.isnan(ours), np.isnan(exact_bbw))
    ok = ~np.isnan(exact_bbw)
    assert np.all(np.abs(ours[ok] - exact_bbw[ok]) <= 30 * 1e-9 * 1.0000001)


def test_stdev_equals_a_transcription_of_the_spec() -> None:
    def nadd(s: float, k: float, v: float) -> tuple[float, float]:
        t = s + v
        k = k + ((s - t) + v) if abs(s) >= abs(v) else k + ((v - t) + s)
        return t, k

    def spec_stdev(xs: list[float], n: int) -> list[float]:
        # Every "/ n" as "· (1/n)", the choice documented in bollinger.py (IND §1.1).
        inv = 1.0 / n
        out, ring, m, m2, run, prev = [], [], 0.0, 0.0, 0, math.nan
        for c, x in enumerate(xs, start=1):
            run = run + 1 if x == prev else 1
            prev = x
            if c <= n:
                ring.append(x)
                d = x - m
                m = m + d / c
                m2 = m2 + d * (x - m)
            else:
                o = ring.pop(0)
                ring.append(x)
                mn = m + (x - o) * inv
                m2 = m2 + (x - o) * ((x - mn) + (o - m))
                m = mn
            # IND §4.3's resync, plus the resync when the window turns flat (bollinger.py).
            if c >= n and ((c - n) % n == 0 or run == n):
                s = k = 0.0
                for v in ring:
                    s, k = nadd(s, k, v)
                m = (s + k) * inv
                m2 = 0.0
                for v in ring:
                    m2 = m2 + (v - m) * (v - m)
            out.append(math.sqrt(max(m2 * inv, 0.0)) if c >= n else math.nan)
        return out

    for name in sorted(_RESIDUE_FILES):
        x = load(name).c
        ours = stdev(x, 20)
        ref = np.array(spec_stdev([float(v) for v in x], 20))
        assert np.array_equal(ours, ref, equal_nan=True)


@pytest.mark.parametrize("level", [1.0, 100.0, 1e6])
def test_flat_then_step_series(level: float) -> None:
    n = 20
    # Flat, a small step (σ/μ down to 1e-9 around it), flat again, a big step, flat.
    x = np.concatenate(
        [
            np.full(50, level),
            np.full(50, level * (1 + 1e-9)),
            np.full(37, level),
            np.full(45, level * 1.5),
            np.full(30, level * 1.5 + 1e-9 * level),
        ]
    )
    mean, sd = _exact_windows(x, n)
    assert_close(sma(x, n), mean)
    _stdev_ok(stdev(x, n), sd, mean)
    assert_close(er(x, n), _exact_er(x, n))
