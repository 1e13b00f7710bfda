"""Rules every stored candle series obeys, checked vectorised (a million rows in milliseconds)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tbsdk.model import CandleArrays


@dataclass(frozen=True)
class Gap:
    """Missing candles: ``missing`` candles between ``after`` and ``before`` (open times, ms)."""

    after: int
    before: int
    missing: int


@dataclass(frozen=True)
class RowProblem:
    """Row ``index`` (0-based, data rows) breaks ``rule``."""

    index: int
    rule: str


def row_problems(arrays: CandleArrays, timeframe_ms: int) -> list[RowProblem]:
    """Every row that breaks a rule, in row order. Empty means the series can be stored."""
    a = arrays
    checks: list[tuple[str, npt.NDArray[np.bool_]]] = [
        ("price is not positive", (a.open <= 0) | (a.high <= 0) | (a.low <= 0) | (a.close <= 0)),
        (
            "value is not a finite number",
            np.asarray(
                (~np.isfinite(np.stack([a.open, a.high, a.low, a.close, a.volume]))).any(axis=0)
            ),
        ),
        ("high is below max(open, close)", a.high < np.maximum(a.open, a.close)),
        ("low is above min(open, close)", a.low > np.minimum(a.open, a.close)),
        ("volume is negative", a.volume < 0),
        ("timestamp is not aligned to the timeframe", a.ts % timeframe_ms != 0),
    ]
    step = np.diff(a.ts)
    order = np.zeros(len(a), dtype=np.bool_)
    order[1:] = step < 0
    dup = np.zeros(len(a), dtype=np.bool_)
    dup[1:] = step == 0
    checks += [
        ("timestamp is earlier than the row before (not sorted)", order),
        ("duplicate timestamp", dup),
    ]
    problems = [RowProblem(int(i), rule) for rule, mask in checks for i in np.flatnonzero(mask)]
    problems.sort(key=lambda p: p.index)
    return problems


def find_gaps(ts: npt.NDArray[np.int64], timeframe_ms: int) -> list[Gap]:
    """Holes in a sorted series: consecutive open times more than one timeframe apart."""
    if len(ts) < 2:
        return []
    step = np.diff(ts)
    holes = np.flatnonzero(step > timeframe_ms)
    return [Gap(int(ts[i]), int(ts[i + 1]), int(step[i] // timeframe_ms - 1)) for i in holes]
