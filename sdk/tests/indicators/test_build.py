"""Build properties: no fused multiply-add in any kernel (IND §1.1), and ``import tbsdk`` does
not import numba or the indicators."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from indicator_support import assert_bitwise, load

from tbsdk import indicators as ind

# Run in a child process with an empty numba cache: code loaded from the cache cannot be
# disassembled, so every kernel has to be compiled afresh there.
_CHECK = r"""
import re, sys
sys.path.insert(0, sys.argv[1])
from indicator_support import load
from tbsdk import indicators as ind
from tbsdk.indicators import (_neumaier, adx, atr, averages, bollinger, efficiency, extremes,
                              helpers, jma, pivots, resample, rqk, rsi, vidya, wma)
x = load("BINANCE_ETH-USDT_1h.csv.gz")
ind.adx(x.h, x.l, x.c, 14); ind.atr(x.h, x.l, x.c, 14); ind.true_range(x.h, x.l, x.c)
for f in (ind.sma, ind.ema, ind.rma, ind.wma, ind.rsi, ind.stdev, ind.er, ind.highest,
          ind.jma, ind.vidya):
    f(x.c, 5)
ind.rqk(x.c); ind.er_adaptive(x.c); ind.pivothigh(x.c, 3, 2); ind.change(x.c)
ind.crossover(x.c, x.o); ind.rising(x.c, 2)
ind.resample(x.ts, x.o, x.h, x.l, x.c, x.v, "1h", "4h")
checked = 0
for mod in (_neumaier, adx, atr, averages, bollinger, efficiency, extremes, helpers, jma,
            pivots, resample, rqk, rsi, vidya, wma):
    for obj in vars(mod).values():
        if hasattr(obj, "inspect_asm"):
            if not obj.signatures:
                print("UNCOMPILED", obj.py_func.__name__)
            for asm in obj.inspect_asm().values():
                if re.search(r"\bv?fn?m(add|sub)", asm):
                    print("FMA", obj.py_func.__name__)
                checked += 1
print("checked", checked)
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 mnemonics")
def test_no_kernel_contains_fused_multiply_add(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    here = str(Path(__file__).parent)
    out = subprocess.run(
        [sys.executable, "-c", _CHECK, here], capture_output=True, text=True, env=env, check=True
    )
    lines = out.stdout.split("\n")
    assert not [line for line in lines if line.startswith(("FMA", "UNCOMPILED"))], out.stdout
    checked = int(next(line for line in lines if line.startswith("checked")).split()[1])
    assert checked >= 15


def test_kernel_equals_plain_python_floats() -> None:
    # Plain Python float arithmetic never fuses; equal bits prove the compiled EMA did not.
    x = load("BINANCE_BTC-USDT_5m.csv.gz").c
    n, alpha = 10, 2.0 / 11
    e = float(ind.ema(x[:n], n)[-1])  # the seed; the recurrence below is what could fuse
    out = [e]
    for v in x[n:]:
        e = e + alpha * (v - e)
        out.append(e)
    assert_bitwise(np.array(out), ind.ema(x, n)[n - 1 :])


def test_import_tbsdk_does_not_import_numba() -> None:
    code = "import sys, tbsdk; print('numba' in sys.modules, 'tbsdk.indicators' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
