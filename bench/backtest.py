"""Backtest speed: ``rsi_reversal`` through the real engine, and the same strategy in
backtesting.py, on the same synthetic candles in one run.

    uv run python bench/backtest.py [--rows 1000000] [--runs 3] [--bt-rows N] [--bt-runs 3]
                                    [--write docs/benchmarks.md]

Candles: the seeded synthetic 1-minute walk of ``bench/_candles.py``. The engine runs with the
paper exchange on a BTC/USDT linear swap with the fill rules of the parity test
(``limit_fill=touch``, ``stop_first``, 0.05 % fees, no slippage); backtesting.py runs
``FractionalBacktest`` with one unit = 2**-5 BTC (see ``examples/tb-strategy-
example/tests/test_rsi_reversal.py``). Each side's time is the median of its runs; ``--bt-rows``
below ``--rows`` times backtesting.py on the first rows only, and its rate is reported per
candle of that shorter series.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import re
import statistics
import subprocess
import time
import warnings
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from _candles import synthetic
from backtesting import Strategy as BtStrategy  # type: ignore[import-untyped]
from backtesting.lib import FractionalBacktest  # type: ignore[import-untyped]

from tb_exchange_paper import PaperConfig, PaperExchange
from tb_exchange_paper.settings import LimitFillRule
from tb_strategy_example import RsiReversal
from tbhost.engine.backtest import run_backtest
from tbhost.engine.instruments import backtest_instrument
from tbsdk.indicators import rsi_with_flat
from tbsdk.model import CandleArrays

MINUTE = 60_000
SWAP = "BTC/USDT:USDT"
FEE = Decimal("0.0005")
UNIT = 2.0**-5  # one backtesting.py unit: 0.03125 BTC, an exact binary scaling of prices
QTY = "0.03125"
TICK = Decimal("0.01")
SECTION = "### rsi_reversal against backtesting.py"


def run_engine(candles: CandleArrays) -> tuple[float, int]:
    """Seconds for one backtest through ``run_backtest``, and the number of round trips."""
    instrument = backtest_instrument("paper", SWAP, maker_fee=FEE, taker_fee=FEE)
    exchange = PaperExchange(
        PaperConfig(
            instruments=(instrument,),
            balances={"USDT": Decimal(1_000_000)},
            limit_fill=LimitFillRule.TOUCH,
            stop_first=True,
        )
    )
    strategy = RsiReversal.from_settings({"symbol": SWAP, "timeframe": "1m", "qty": QTY})
    start = time.perf_counter()
    result = asyncio.run(run_backtest(strategy, exchange, instrument, candles, "1m"))
    elapsed = time.perf_counter() - start
    if result.fault is not None:
        raise SystemExit(f"the engine run faulted: {result.fault}")
    return elapsed, len(result.trades)


class BtRsiReversal(BtStrategy):  # type: ignore[misc]
    """``rsi_reversal`` for backtesting.py (the parity test's translation), prices scaled."""

    def init(self) -> None:
        values, flat = rsi_with_flat(np.asarray(self.data.Close, dtype=np.float64), 14)
        self.rsi = self.I(lambda: values, name="RSI")
        self.flat = flat

    def next(self) -> None:
        i = len(self.data) - 1
        for trade in self.trades:
            if trade.entry_bar == i:
                entry = Decimal(repr(float(trade.entry_price) / UNIT))
                tp = (entry * Decimal("1.02") / TICK).to_integral_value(ROUND_CEILING) * TICK
                sl = (entry * Decimal("0.99") / TICK).to_integral_value(ROUND_FLOOR) * TICK
                trade.tp = float(tp) * UNIT
                trade.sl = float(sl) * UNIT
        if self.flat[i] or self.flat[i - 1]:
            return
        prev, now = float(self.rsi[-2]), float(self.rsi[-1])
        if prev >= 70 > now and self.position:
            for trade in self.trades:
                trade.sl = trade.tp = None
                trade.close()
        elif prev <= 30 < now and not self.position:
            self.buy(size=1)


def run_bt(candles: CandleArrays) -> tuple[float, int]:
    """Seconds for one backtesting.py run (data frame built outside the timing)."""
    frame = pd.DataFrame(
        {"Open": candles.open, "High": candles.high, "Low": candles.low,
         "Close": candles.close, "Volume": candles.volume},
        index=pd.to_datetime(candles.ts, unit="ms"),
    )  # fmt: skip
    bt = FractionalBacktest(
        frame, BtRsiReversal, cash=1_000_000, commission=float(FEE), fractional_unit=UNIT
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = bt.run()
    return time.perf_counter() - start, len(stats["_trades"])


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"
    model = re.search(r"Model name:\s*(.+)", out)
    cpus = re.search(r"^CPU\(s\):\s*(\d+)", out, re.MULTILINE)
    name = model.group(1).strip() if model else "unknown CPU"
    return f"{name}, {cpus.group(1) if cpus else '?'} logical CPUs"


def timed(label: str, fn: Any, candles: CandleArrays, runs: int) -> tuple[float, int]:
    times, trades = [], 0
    for k in range(runs):
        seconds, trades = fn(candles)
        times.append(seconds)
        print(f"  {label} run {k + 1}/{runs}: {seconds:.2f} s, {trades} round trips", flush=True)
    return statistics.median(times), trades


def write_section(path: Path, text: str) -> None:
    """Put ``text`` (starting with SECTION) at the end of the "## Backtest engine" section,
    replacing an earlier version of it."""
    doc = path.read_text()
    lines = doc.splitlines(keepends=True)
    if SECTION in doc:
        start = next(i for i, line in enumerate(lines) if line.startswith(SECTION))
    else:
        engine = next(
            (i for i, ln in enumerate(lines) if ln.startswith("## Backtest engine")), None
        )
        if engine is None:
            lines.append("\n## Backtest engine\n")
            engine = len(lines) - 1
        start = next(
            (i for i in range(engine + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        while start > engine + 1 and not lines[start - 1].strip():
            start -= 1
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith(("## ", "### "))),
        len(lines),
    )
    after = lines[end:]
    block = "\n" + text.rstrip("\n") + "\n" + ("\n" if after else "")
    path.write_text("".join(lines[:start]).rstrip("\n") + "\n" + block + "".join(after))


def notes(rate: float, ratio: float) -> str:
    """The target and where the time goes (from cProfile runs of this benchmark)."""
    verdict = "Met" if rate >= 2_000_000 and ratio >= 10 else "**Not met**"
    return f"""Target (issue): ≥ 2,000,000 candles/s and ≥ 10× backtesting.py. {verdict}:
{rate:,.0f} candles/s, {ratio:.1f}× backtesting.py. With `candle_filter` the engine touches
37,757 of the 1,000,000 candles (26,766 RSI crossings delivered to the strategy, and the
candles that fill an order) and handles 19,719 orders, 11,062 fills and 8,657 cancels; the
rest pass in bulk. Removed on the way: full garbage collections (a quarter of the run: every
order and event is kept, and CPython traversed all of them again and again), pydantic's slow
copy and construction paths for orders and positions, scans of the whole resting book per
candle (the paper venue indexes resting orders by price and keeps its last scan while the
book is unchanged), risk checks when no limit is set. Where the time goes now (cProfile),
spread with no hot spot: the paper venue's order entry, cancels and fills (~40 %: each order
and fill still builds the pydantic `Order`, `Fill` and event models strategies receive), the
runner and the strategy's own handlers (~25 %: `rsi_reversal` builds and validates its
intents and looks its RSI up per delivered candle), skipping and scanning (~15 %), building
the delivered candles (a Decimal per price) and the equity bookkeeping. 2,000,000 candles/s
is 0.5 s for the run, about what the strategy's handlers and the 26,766 candle events cost on
their own: it needs a strategy that asks only for the candles it can act on (crossings in
the state it is in) or events that are not pydantic models (an SDK change). Measured on a
shared 2-vCPU machine with other jobs running: run-to-run spread is wide; interleaved with the
engine before these changes under the same load, a run took about 0.65× the time."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bt-rows", type=int, default=None, help="default: --rows")
    parser.add_argument("--bt-runs", type=int, default=3)
    parser.add_argument("--write", type=Path, default=None, help="update this benchmarks file")
    args = parser.parse_args()
    bt_rows = min(args.bt_rows or args.rows, args.rows)
    candles = synthetic(args.rows)
    print(
        f"{args.rows:,} synthetic 1m candles; engine x{args.runs}, backtesting.py x{args.bt_runs}"
    )
    rsi_with_flat(candles.close[:100], 14)  # compile (or load) the numba kernel first
    engine_s, engine_trades = timed("engine", run_engine, candles, args.runs)
    bt_s, bt_trades = timed("backtesting.py", run_bt, candles.slice(0, bt_rows), args.bt_runs)
    engine_rate, bt_rate = args.rows / engine_s, bt_rows / bt_s
    scaled = "" if bt_rows == args.rows else f" (first {bt_rows:,} candles)"
    rows = [
        f"engine          {args.rows:>9,} candles  median {engine_s:7.2f} s  "
        f"{engine_rate:>9,.0f} candles/s  {engine_trades} round trips",
        f"backtesting.py  {bt_rows:>9,} candles  median {bt_s:7.2f} s  "
        f"{bt_rate:>9,.0f} candles/s  {bt_trades} round trips{scaled}",
        f"engine / backtesting.py speed: {engine_rate / bt_rate:.2f}x",
    ]
    print("\n".join(rows))
    if args.write is None:
        return
    py = platform.python_version()
    text = f"""{SECTION}

* Command: `uv run python bench/backtest.py --rows {args.rows} --runs {args.runs} \\
  --bt-rows {bt_rows} --bt-runs {args.bt_runs} --write docs/benchmarks.md`.
* Machine: {cpu_model()}; Python {py}, numpy {version("numpy")}, pandas {version("pandas")},
  backtesting {version("backtesting")}.
* Input: {args.rows:,} synthetic 1-minute candles (seeded geometric random walk, OHLC
  consistent, 0.01 tick). `rsi_reversal` (RSI 14, 30/70, TP +2 %, SL -1 %) through
  `run_backtest` with the paper exchange (touch limits, stop first, 0.05 % fees) and the same
  strategy in backtesting.py `FractionalBacktest`; medians of {args.runs} and {args.bt_runs}
  runs, numba compiled beforehand, candle generation and data frame outside the timing.

```
{chr(10).join(rows)}
```

{notes(engine_rate, engine_rate / bt_rate)}
"""
    write_section(args.write, text)
    print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
