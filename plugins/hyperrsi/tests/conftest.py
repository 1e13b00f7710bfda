"""Shared helpers for the HYPERRSI tests, handed out by the ``hr`` fixture (test modules are
imported with ``--import-mode=importlib`` and cannot import each other).

Backtests run through the real engine (``run_backtest``) and the paper exchange on a linear
BTC/USDT swap with the worked example's rules (hyperrsi spec §20): contract 0.01 BTC, lot and
minimum size 0.01, tick 0.1, maker 0.02 %, taker 0.05 %, leverage 10 isolated.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tb_exchange_paper import PaperConfig, PaperExchange
from tb_exchange_paper.settings import LimitFillRule
from tb_strategy_hyperrsi import HyperRsi
from tbhost.engine.backtest import BacktestResult, run_backtest
from tbhost.engine.instruments import backtest_instrument
from tbsdk.ids import bot_key
from tbsdk.model import CandleArrays, Instrument, MarginMode, Order, PositionMode

DATA = Path(__file__).parent / "data"
SWAP = "BTC/USDT:USDT"
_HEADER = ["timestamp", "open", "high", "low", "close", "volume"]


def _read(name: str) -> CandleArrays:
    with gzip.open(DATA / name, "rt", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == _HEADER, rows[0]
    body = rows[1:]
    ts = np.array([int(r[0]) for r in body], dtype=np.int64)
    cols = np.array([[float(x) for x in r[1:]] for r in body], dtype=np.float64).T.copy()
    return CandleArrays(ts, cols[0], cols[1], cols[2], cols[3], cols[4])


# -- the worked example's candles (spec §20) -------------------------------------------------
# Closes chosen (not fitted to the code under test) so that Wilder RSI(14) crosses down
# through 30 exactly at the entry bar (close 60 000.0) and at the DCA bar (close 58 150.0) and
# nowhere else after warm-up; ``test_worked_example`` re-checks that with tbsdk's RSI. Every
# other price is the spec's: the entry fills at the next open 60 010.0, the DCA at 58 155.0,
# TP1 and TP2 are touched exactly, the trailing bars reach 61 300.0 and 61 420.0, the exit bar
# falls through the stop without gapping.
WORKED_START = 1_704_067_200_000  # 2024-01-01 00:00 UTC
FIVE_MIN = 300_000
WICK = 5.0


def _r1(x: float) -> float:
    return float(round(x, 1))


def _zigzag(start: float, stop: float, down: float, up: float) -> list[float]:
    out, x = [], start
    while x - down > stop:
        x = _r1(x - down)
        out.append(x)
        x = _r1(x + up)
        out.append(x)
    return out


def _worked_closes() -> tuple[list[float], dict[str, int]]:
    """The closes, and the index of each named bar of the example."""
    c = [60_500.0 + (50.0 if i % 2 else -50.0) for i in range(200)]  # RSI about 50
    c += [_r1(x) for x in np.linspace(60_550.0, 60_000.0, 16)[1:]]  # down into oversold
    marks = {"entry": len(c) - 1}
    c += [60_100.0]  # the entry fills at this bar's open
    c += [_r1(x) for x in np.linspace(60_100.0, 60_700.0, 7)[1:]]
    c += _zigzag(60_700.0, 58_500.0, 100.0, 70.0)
    c += [58_450.0, 58_300.0, 58_150.0]
    marks["dca"] = len(c) - 1
    c += [_r1(58_300.0 + 200.0 * k) for k in range(10)]  # DCA fills at the first open
    c += [60_150.0]
    marks["tp1"] = len(c) - 1
    c += [60_700.0]
    marks["tp2"] = len(c) - 1
    c += [61_200.0]
    marks["trail1"] = len(c) - 1
    c += [61_350.0]
    marks["trail2"] = len(c) - 1
    c += [61_050.0]
    marks["exit"] = len(c) - 1
    c += [61_040.0, 61_045.0]
    return c, marks


def worked_example_candles() -> tuple[CandleArrays, dict[str, int]]:
    close, marks = _worked_closes()
    n = len(close)
    open_ = np.array([close[0], *close[:-1]], dtype=np.float64)
    open_[marks["entry"] + 1] = 60_010.0
    open_[marks["dca"] + 1] = 58_155.0
    c = np.array(close, dtype=np.float64)
    high = np.maximum(open_, c) + WICK
    low = np.minimum(open_, c) - WICK
    high[marks["tp1"]] = 60_250.1  # TP1 touched exactly
    high[marks["tp2"]] = 60_840.8  # TP2 touched exactly
    high[marks["trail1"]] = 61_300.0
    high[marks["trail2"]] = 61_420.0
    low[marks["exit"]] = 61_000.0  # through the 61 115.7 stop, from an open above it
    ts = WORKED_START + np.arange(n, dtype=np.int64) * FIVE_MIN
    return CandleArrays(ts, open_, high, low, c, np.ones(n)), marks


@dataclass(frozen=True)
class Helpers:
    """What the tests share."""

    swap: str = SWAP
    bot6: str = bot_key("paper", "backtest")
    """``bot6`` of ``run_backtest``'s default bot (account ``paper``, instance ``backtest``)."""

    def cid(self, seq: int, tag: str, rev: int) -> str:
        """A client id spelled out by hand from spec §3.3 (base-36 seq5 and rev2)."""
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"

        def b36(v: int, w: int) -> str:
            out = ""
            while v:
                v, r = divmod(v, 36)
                out = digits[r] + out
            return out.rjust(w, "0")

        return f"h{self.bot6}{b36(seq, 5)}{tag}{b36(rev, 2)}"

    def instrument(self) -> Instrument:
        inst = backtest_instrument(
            "paper",
            SWAP,
            contract_size=Decimal("0.01"),
            lot=Decimal("0.01"),
            tick=Decimal("0.1"),
            maker_fee=Decimal("0.0002"),
            taker_fee=Decimal("0.0005"),
            min_notional=Decimal(0),
        )
        return inst.model_copy(update={"min_size": Decimal("0.01")})

    def candles(self, name: str) -> CandleArrays:
        """A candle file of ``tests/data`` (see its README for sources and licences)."""
        return _read(name)

    def worked_example(self) -> tuple[CandleArrays, dict[str, int]]:
        """The hand-made 5m candles of spec §20 and the index of each named bar."""
        return worked_example_candles()

    def strategy(self, timeframe: str = "1h", **settings: Any) -> HyperRsi:
        strategy = HyperRsi.from_settings({"symbol": SWAP, "timeframe": timeframe, **settings})
        assert isinstance(strategy, HyperRsi)
        return strategy

    def run(
        self,
        candles: CandleArrays,
        timeframe: str,
        settings: dict[str, Any],
        *,
        use_filter: bool = True,
        restart_at: Sequence[int] = (),
        hedge: bool = False,
        limit_fill: LimitFillRule = LimitFillRule.TOUCH,
        balance: Decimal = Decimal(10_000),
    ) -> BacktestResult:
        inst = self.instrument()
        exchange = PaperExchange(
            PaperConfig(
                instruments=(inst,),
                balances={"USDT": balance},
                limit_fill=limit_fill,
                stop_first=True,
                default_leverage=Decimal(10),
                default_margin_mode=MarginMode.ISOLATED,
                position_mode=PositionMode.HEDGE if hedge else PositionMode.ONE_WAY,
            )
        )
        # The strategy's chart timeframe is the backtest's unless the settings name another
        # (a 4h chart replayed from 1h candles).
        settings = {"timeframe": timeframe, **settings}
        factory: Callable[[], HyperRsi] = lambda: self.strategy(**settings)  # noqa: E731
        result = asyncio.run(
            run_backtest(
                factory(),
                exchange,
                inst,
                candles,
                timeframe,
                use_candle_filter=use_filter,
                restart_at=restart_at,
                strategy_factory=factory,
            )
        )
        assert result.fault is None, result.fault
        return result

    @staticmethod
    def shape(order: Order) -> tuple[Any, ...]:
        """The fields of an order the tests compare: id, side, type, size, prices, flags."""
        i = order.intent
        return (
            i.client_order_id,
            str(i.side),
            str(i.type),
            i.qty,
            i.price,
            i.trigger_price,
            i.reduce_only,
            i.close_position,
            str(i.position_side),
        )


@pytest.fixture(scope="session")
def hr() -> Helpers:
    return Helpers()
