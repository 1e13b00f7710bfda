"""GRID speed: a 40-level arithmetic grid over 1,000,000 one-minute candles through the engine
and the paper exchange (issue: at least 1,000,000 candles/s).

    uv run python bench/grid.py [--rows 1000000] [--runs 5] [--write docs/benchmarks.md]

Candles: the seeded synthetic walk of ``bench/_candles.py`` (from 30,000). The grid is a long
spot grid from 25,000 to 35,000 with 40 intervals (step 250), 10,000 USDT invested, fees 0.1 %,
on BTC/USDT with tick 0.01 and lot 0.00001. Time is wall time of ``run_backtest`` (candle filter
on, as ``tbhost backtest`` runs it), median of ``--runs`` runs after one warm-up run.
"""

from __future__ import annotations

import asyncio
import platform
import time
from decimal import Decimal

from _strategy_runs import parse_args, replace_section, time_runs

from tb_exchange_paper import PaperConfig, PaperExchange
from tb_strategy_grid import Grid
from tbhost.engine.backtest import BacktestResult, run_backtest
from tbhost.engine.instruments import backtest_instrument
from tbsdk.model import CandleArrays

SYMBOL = "BTC/USDT"
SECTION = "### GRID: 40-level arithmetic grid"
SETTINGS = {
    "mode": "arithmetic",
    "symbol": SYMBOL,
    "direction": "long",
    "eval_timeframe": "1m",
    "lower_price": "25000",
    "upper_price": "35000",
    "grid_count": 40,
    "investment": "10000",
}


def run_once(candles: CandleArrays) -> tuple[float, BacktestResult]:
    instrument = backtest_instrument("paper", SYMBOL)
    exchange = PaperExchange(
        PaperConfig(instruments=(instrument,), balances={"USDT": Decimal(20_000)})
    )
    strategy = Grid.from_settings(SETTINGS)
    start = time.perf_counter()
    result = asyncio.run(run_backtest(strategy, exchange, instrument, candles, "1m"))
    return time.perf_counter() - start, result


def main() -> None:
    args = parse_args(__doc__ or "")
    t = time_runs(run_once, args.rows, args.runs, warmup_rows=10_000)
    median, rate, r = t.median, t.rate, t.result
    print(
        f"grid  {args.rows:,} candles  median {median:.3f} s  {rate:,.0f} candles/s  "
        f"{len(r.fills):,} fills  {len(r.orders):,} orders  state {r.state}"
    )
    if args.write:
        per_fill = 1e6 * median / max(len(r.fills), 1)
        verdict = "met" if rate >= 1_000_000 else "not met"
        text = f"""{SECTION}

* Machine: {platform.machine()}, {platform.processor() or "cpu"},
  Python {platform.python_version()}.
* Input: {args.rows:,} synthetic 1-minute candles (`bench/_candles.py`, seed 7, from 30,000).
* Grid: long spot arithmetic, 25,000-35,000, 40 intervals, 10,000 USDT, fees 0.1 %.
* Result: median of {args.runs} runs **{median:.3f} s = {rate:,.0f} candles/s**
  ({len(r.fills):,} fills, {len(r.orders):,} orders). Target: at least 1,000,000 candles/s
  ({verdict} on this run).

Reproduce: `uv run python bench/grid.py --write docs/benchmarks.md`.

Where the time goes (cProfile): the engine processes only the ~5,700 candles that reach a
resting level (the rest pass in bulk via the venue's vectorised scan), so the cost is per
fill, about {per_fill:.0f} µs: the paper venue's fill and the counter-order's entry (~40 %: each
fill still builds its pydantic `Fill`, `Order` copies and events), the grid's reconciliation
after every position change (~18 %, one pass over the 41 level slots), runner and grid
decisions (~20 %) and skipping and scanning (~13 %). Removed on the way: the venue's scans of
all 41 resting levels per candle (resting orders are indexed by price, so a candle looks at
the nearest level each way), id formatting and generators per slot in the reconciliation,
pydantic's slow copy path for orders, and full garbage collections during the run. Measured
on a shared 2-vCPU machine with other jobs running: run-to-run spread is wide; interleaved
with the engine before these changes under the same load, a run took about 0.65× the time.

"""
        replace_section(args.write, text)


if __name__ == "__main__":
    main()
