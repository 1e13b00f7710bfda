"""What the strategy benchmarks share: the command line, timed runs of one backtest on the
synthetic candles, and replacing their section of ``docs/benchmarks.md``."""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _candles import synthetic

from tbhost.engine.backtest import BacktestResult
from tbsdk.model import CandleArrays

RunOnce = Callable[[CandleArrays], tuple[float, BacktestResult]]


@dataclass(frozen=True)
class Timing:
    rows: int
    runs: int
    median: float
    result: BacktestResult  # of the last run

    @property
    def rate(self) -> float:
        return self.rows / self.median


def parse_args(doc: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", type=Path, help="Replace this section of a Markdown file.")
    return parser.parse_args()


def time_runs(run_once: RunOnce, rows: int, runs: int, warmup_rows: int) -> Timing:
    """One warm-up run (imports, compiled kernels), then ``runs`` timed ones; their median."""
    candles = synthetic(rows)
    run_once(candles.slice(0, warmup_rows))
    times = []
    for k in range(runs):
        seconds, result = run_once(candles)
        times.append(seconds)
        print(f"  run {k + 1}/{runs}: {seconds:.3f} s", flush=True)
    return Timing(rows, runs, statistics.median(times), result)


def replace_section(path: Path, text: str) -> None:
    """Put ``text`` in place of the section that starts with its first line (or append it)."""
    doc = path.read_text() if path.exists() else ""
    head = text.splitlines()[0]
    if head in doc:
        before, _, rest = doc.partition(head)
        nxt = rest.find("\n### ")
        after = "\n" + rest[nxt + 1 :] if nxt >= 0 else ""
        doc = before + text.rstrip("\n") + "\n" + after
    else:
        doc = doc.rstrip() + "\n\n" + text
    path.write_text(doc)
