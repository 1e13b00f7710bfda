"""Benchmark: RSI, EMA, ATR and Bollinger over 10,000,000 points against TA-Lib and a plain
numpy copy (the memory floor), median of several runs; numba compile time reported apart.

Run: ``uv run python bench/indicators.py [--points N] [--runs K] [--write docs/benchmarks.md]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import talib

N_DEFAULT = 10_000_000


def _median_seconds(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _cpu() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown"
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    model = fields.get("Model name", "unknown").strip()
    return f"{model}, {os.cpu_count()} logical CPUs"


def main() -> None:
    """Run the benchmark and print (and optionally write) a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--points", type=int, default=N_DEFAULT)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args()

    t0 = time.perf_counter()
    from tbsdk import indicators as ind

    import_s = time.perf_counter() - t0
    rng = np.random.default_rng(20261124)
    n = args.points
    close = 30_000 + np.cumsum(rng.standard_normal(n))
    spread = np.abs(rng.standard_normal(n)) * 5
    high, low = close + spread, close - spread

    # First call compiles (or loads from the numba cache): timed apart, excluded from the medians.
    small = close[:1000]
    t0 = time.perf_counter()
    ind.rsi(small, 14)
    ind.ema(small, 14)
    ind.atr(high[:1000], low[:1000], small, 14)
    ind.bollinger(small, 20, 2.0)
    warm_s = time.perf_counter() - t0

    cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        ("RSI(14)", lambda: ind.rsi(close, 14), lambda: talib.RSI(close, 14)),
        ("EMA(14)", lambda: ind.ema(close, 14), lambda: talib.EMA(close, 14)),
        ("ATR(14)", lambda: ind.atr(high, low, close, 14), lambda: talib.ATR(high, low, close, 14)),
        (
            "Bollinger(20, 2)",
            lambda: ind.bollinger(close, 20, 2.0),
            lambda: talib.BBANDS(close, 20, 2.0, 2.0, 0),  # type: ignore[arg-type]  # 0 = SMA,
        ),
    ]
    copy_s = _median_seconds(close.copy, args.runs)
    rows = []
    for name, ours, ref in cases:
        ours_s = _median_seconds(ours, args.runs)
        ref_s = _median_seconds(ref, args.runs)
        rows.append((name, ours_s, ref_s))

    lines = [
        "## Indicators",
        "",
        f"* Machine: {_cpu()}; Python {platform.python_version()}, numpy {np.__version__}, "
        f"TA-Lib Python {talib.__version__}.",
        f"* Input: {n:,} float64 points (random walk around 30,000; high/low = close ± |N(0,5)|), "
        f"median of {args.runs} runs per entry, single thread.",
        f"* `import tbsdk.indicators`: {import_s * 1000:.0f} ms; first calls (numba compile or "
        f"cache load, excluded from the medians): {warm_s * 1000:.0f} ms.",
        f"* Memory floor, `numpy` copy of the input: {copy_s * 1000:.1f} ms.",
        "",
        "| indicator | tbsdk (ms) | TA-Lib (ms) | ratio to TA-Lib | ratio to copy |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, ours_s, ref_s in rows:
        lines.append(
            f"| {name} | {ours_s * 1000:.1f} | {ref_s * 1000:.1f} | {ours_s / ref_s:.2f}× "
            f"| {ours_s / copy_s:.1f}× |"
        )
    lines += [
        "",
        "Target: ≤ 1.5× TA-Lib for each. Bollinger returns basis, upper and lower as TA-Lib does.",
        "",
        "Notes. The machine is a shared 2-vCPU VM: TA-Lib's own ATR time varied between 18 and",
        "29 ms across runs, so the ATR ratio ranged 1.2×–1.7× between runs of this script. The",
        "TA-Lib 0.8 wheel's C library is compiled with fused multiply-add (its machine code",
        "holds several hundred `vfmadd` instructions), which shortens the Wilder/EMA recurrence",
        "chain; IND §1.1 forbids FMA for this library, so the recurrences here run the longer",
        "multiply-then-add chain. Each kernel is the same compiled code for both APIs.",
        "Reproduce with `uv run python bench/indicators.py --write docs/benchmarks.md`.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write is not None:
        _write_section(args.write, text)


def _write_section(path: Path, section: str) -> None:
    """Replace (or append) the "## Indicators" section of ``path``."""
    old = path.read_text() if path.exists() else "# Benchmarks\n\n"
    start = old.find("## Indicators")
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + section
    else:
        end = old.find("\n## ", start + 1)
        new = old[:start] + section + ("" if end < 0 else old[end:])
    path.write_text(new)


if __name__ == "__main__":
    main()
