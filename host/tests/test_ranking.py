"""The backtest service behind ``ctx.request_backtest`` (:mod:`tbhost.engine.ranking`).

A bot backtests its own strategy class inside a backtest (and a paper run) on real BTC/USDT
1h candles: the answer equals a backtest run by hand on the candles closed by the time of the
request, whatever comes after (future candles are replaced by nonsense to prove it), and every
failure comes back as an answer while the bot keeps running.
"""

from __future__ import annotations

import asyncio
import math
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np
import pytest
from pydantic import Field

from tb_exchange_paper import PaperConfig, PaperExchange
from tb_strategy_example import SmaCross
from tb_strategy_example.strategy import SmaCrossConfig
from tbhost.candles import read_candle_csv
from tbhost.datasets import BUNDLED
from tbhost.engine.backtest import run_backtest
from tbhost.engine.instruments import backtest_instrument
from tbhost.engine.paper import run_paper
from tbhost.engine.ranking import BacktestService, quote_volume, window
from tbhost.engine.runner import BotState
from tbsdk import BotInfo, RunMode, StrategyConfig, StrategyContext
from tbsdk.commands import RequestBacktest
from tbsdk.model import BacktestDone, CandleArrays, CandleClosed

HOUR = 3_600_000
SYMBOL = "BTC/USDT"
INSTRUMENT = backtest_instrument("paper", SYMBOL)
SMA: dict[str, Any] = {"symbol": SYMBOL, "timeframe": "1h", "fast": 8, "slow": 21, "qty": "0.01"}
REQUEST_AT = 2_000  # the candle whose close the request is made at
WINDOW_FROM = 1_000  # the first candle of the requested window


def _candles(rows: int = 2_600) -> CandleArrays:
    path = next(d.path for d in BUNDLED if d.timeframe == "1h")
    return read_candle_csv(path, HOUR).slice(40_000, 40_000 + rows)


class RankingConfig(SmaCrossConfig):
    request_at: int | None = None
    request_symbol: str = SYMBOL
    request_start: int = 0
    request_end: int = 0
    request_settings: dict[str, Any] = Field(default_factory=dict)


class RankingSma(SmaCross):
    """The SMA cross that, at ``request_at``, asks for a backtest; every answer (also those of
    the copies the service runs) is logged with the time it arrived."""

    name: ClassVar[str] = "ranking_sma"
    config_class: ClassVar[type[StrategyConfig]] = RankingConfig
    answers: ClassVar[list[tuple[int, BacktestDone]]] = []

    def __init__(self, config: RankingConfig) -> None:
        super().__init__(config)
        self.cfg = config
        self.asked = False

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        super().on_candle(ctx, event)
        cfg = self.cfg
        if cfg.request_at is not None and not self.asked and ctx.now() >= cfg.request_at:
            self.asked = True
            ctx.request_backtest(
                "r1", cfg.request_symbol, cfg.request_settings, cfg.request_start, cfg.request_end
            )

    def on_backtest_done(self, ctx: StrategyContext, event: BacktestDone) -> None:
        RankingSma.answers.append((ctx.now(), event))


@pytest.fixture(autouse=True)
def _fresh_log() -> None:
    RankingSma.answers.clear()


def _venue() -> PaperExchange:
    return PaperExchange(PaperConfig(instruments=(INSTRUMENT,), balances={"USDT": 10_000}))


def _outer(candles: CandleArrays, **request: Any) -> dict[str, Any]:
    close = candles.ts + HOUR
    return {
        **SMA,
        "request_at": int(close[REQUEST_AT]),
        "request_start": int(candles.ts[WINDOW_FROM]),
        "request_end": int(close[-1]) + 100 * HOUR,  # beyond the data: cut at the request
        "request_settings": SMA,
        **request,
    }


def _run(candles: CandleArrays, settings: dict[str, Any]) -> Any:
    strategy = RankingSma.from_settings(settings)
    return asyncio.run(run_backtest(strategy, _venue(), INSTRUMENT, candles, "1h"))


def _by_hand(candles: CandleArrays) -> BacktestDone:
    """The answer expected: SmaCross run directly on the window's candles closed by then."""
    part = candles.slice(WINDOW_FROM, REQUEST_AT + 1)
    result = asyncio.run(
        run_backtest(SmaCross.from_settings(SMA), _venue(), INSTRUMENT, part, "1h")
    )
    volume = sum(
        float(c) * float(v) for c, v in zip(part.close[-24:], part.volume[-24:], strict=True)
    )
    assert math.isclose(float(quote_volume(part, "1h")), volume, rel_tol=1e-12)
    return BacktestDone(
        request_id="r1",
        symbol=SYMBOL,
        net_pnl=result.end_equity - result.start_equity,
        trades=len(result.trades),
        quote_volume_24h=quote_volume(part, "1h"),
    )


def test_a_backtest_in_a_backtest_sees_only_candles_closed_by_the_request() -> None:
    candles = _candles()
    result = _run(candles, _outer(candles))

    expected = _by_hand(candles)
    assert expected.trades > 10  # a real backtest, with a result worth comparing
    assert result.state is BotState.STOPPED
    assert result.fault is None
    assert RankingSma.answers == [(int(candles.ts[REQUEST_AT]) + HOUR, expected)]
    # The outer bot traded on regardless: the same trades as without the request.
    plain = _run(candles, SMA)
    assert [(t.opened_at, t.pnl) for t in result.trades] == [
        (t.opened_at, t.pnl) for t in plain.trades
    ]


def test_future_candles_change_nothing_in_the_answer() -> None:
    candles = _candles()
    k = REQUEST_AT + 1
    c = candles

    def later(col: np.ndarray, factor: float) -> np.ndarray:
        return np.concatenate([col[:k], col[k:] * factor])

    wild = CandleArrays(
        c.ts.copy(), later(c.open, 3), later(c.high, 3), later(c.low, 3), later(c.close, 3),
        later(c.volume, 50),
    )  # fmt: skip
    _run(candles, _outer(candles))
    _run(wild, _outer(wild))
    (t1, first), (t2, second) = RankingSma.answers
    assert (t1, first) == (t2, second)


@pytest.mark.parametrize(
    ("asked", "error"),
    [
        ({"request_symbol": "ETH/USDT"}, "'ETH/USDT' is not a market of this account"),
        ({"request_settings": {**SMA, "fast": 30}}, "fast (30) must be shorter than slow"),
        ({"request_start": 10**13}, "no 1h candles of BTC/USDT between"),
    ],
    ids=["unknown-symbol", "invalid-settings", "empty-window"],
)
def test_failures_come_back_as_answers_and_the_bot_goes_on(
    asked: dict[str, Any], error: str
) -> None:
    candles = _candles()
    result = _run(candles, _outer(candles, **asked))

    assert result.state is BotState.STOPPED
    assert result.fault is None
    [(at, done)] = RankingSma.answers
    assert at == int(candles.ts[REQUEST_AT]) + HOUR
    assert done.error is not None
    assert error in done.error, done.error
    assert (done.net_pnl, done.trades, done.quote_volume_24h) == (Decimal(0), 0, None)


def test_a_service_backtest_cannot_request_backtests() -> None:
    candles = _candles()
    # The copy the service runs asks too, at the last candle of its window: it is refused.
    _run(candles, _outer(candles, request_settings=_outer(candles)))

    [(_, nested), (_, outer)] = RankingSma.answers
    assert nested.error == "a backtest run for the service cannot request backtests"
    assert outer.error is None
    assert outer.trades > 0


def test_the_window_is_cut_at_whole_candles() -> None:
    candles = _candles(100)
    ts = candles.ts
    assert len(window(candles, "1h", int(ts[10]), int(ts[20]))) == 10  # [10, 20): 10 closed
    assert len(window(candles, "1h", int(ts[10]) + 1, int(ts[20]) + HOUR - 1)) == 9
    assert len(window(candles, "1h", int(ts[20]), int(ts[10]))) == 0


def test_without_stored_candles_or_a_simulated_venue_the_service_answers_why() -> None:
    request = RequestBacktest("r", SYMBOL, SMA, 0, 10**13, 10**13)
    no_candles = BacktestService(
        SmaCross, mode=RunMode.BACKTEST, candles=None, instruments=lambda s: INSTRUMENT, venue=None
    )
    done = asyncio.run(no_candles.backtest(request))
    assert done.error == "no stored candles of BTC/USDT"


def test_in_paper_mode_the_backtest_runs_beside_the_bot_and_answers_later() -> None:
    candles = _candles()
    settings = _outer(candles)
    bot = BotInfo(
        bot_id="p1", strategy="ranking_sma", exchange="paper", account_id="a", symbols=(SYMBOL,)
    )
    strategy = RankingSma.from_settings(settings)
    # One candle every 5 ms of wall time: the backtest finishes while the replay goes on.
    run = asyncio.run(
        run_paper(
            strategy, _venue(), INSTRUMENT, candles, "1h", bot=bot, speed=HOUR / 5, start=1_900
        )
    )

    assert run.state is BotState.STOPPED
    assert run.fault is None
    [(at, done)] = RankingSma.answers
    assert done == _by_hand(candles)
    assert at > int(candles.ts[REQUEST_AT]) + HOUR  # delivered at a later candle
