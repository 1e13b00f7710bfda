"""Symbol rotation (grid spec §4.10) on real candles, ranked by the host's backtest service.

The scenario account lists nine BTC- and USDT-quoted markets; three pass the universe filters:
ETH/BTC and UNITTEST/BTC with real candles (``data/ROTATION_DATA.md``) and DOGE/BTC without any
(its ranking backtest fails). The strategy runs in a ``MemoryContext`` (orders are acknowledged,
never filled), its ranking requests are answered by :class:`tbhost.engine.ranking.BacktestService`
exactly as the host answers them, and each expected score is recomputed here by a plain backtest
of the same settings on the same window. The last test runs rotation through the host's own
backtest (a backtest inside the backtest) with 20 restarts.
"""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib

from test_adaptive_kit import ETHBTC_SPOT, ETHBTC_SWAP, backtest, ethbtc_5m, load

from tb_exchange_paper import LimitFillRule, PaperConfig, PaperExchange
from tb_strategy_grid import Grid, GridConfig
from tb_strategy_grid.adaptive.regime import ADX_PERIOD
from tb_strategy_grid.rotation import (
    RANK_WARMUP_MS,
    Rotation,
    Score,
    grid_notional,
    rank_order,
    rank_settings,
    rank_window,
    universe,
)
from tb_strategy_grid.rotator import REFRESH_TIMER
from tbhost.engine.paper import run_paper
from tbhost.engine.ranking import BacktestService, window
from tbsdk import BotInfo, RunMode
from tbsdk.commands import RequestBacktest
from tbsdk.indicators import resample
from tbsdk.model import CandleArrays, CandleClosed, Instrument, TimerFired
from tbsdk.testing import MemoryContext, dispatch

D = Decimal
MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
H4 = 4 * HOUR


def _spot(symbol: str, tick: str = "0.00000001", lot: str = "1") -> Instrument:
    base, quote = symbol.split("/")
    return Instrument(
        exchange="paper", symbol=symbol, base=base, quote=quote, tick_size=D(tick),
        lot_step=D(lot), min_size=D(lot), min_notional=D("0.0001"), maker_fee=D("0.001"),
        taker_fee=D("0.001"),
    )  # fmt: skip


UNITTEST = _spot("UNITTEST/BTC")
DOGE = _spot("DOGE/BTC")
ACCOUNT = [
    ETHBTC_SPOT, UNITTEST, DOGE,
    _spot("USDC/BTC"),  # stablecoin base
    _spot("FET/BTC"),  # built-in ban list
    _spot("LTC/BTC"),  # ban_list by base
    _spot("XRP/BTC"),  # ban_list by symbol
    ETHBTC_SPOT.model_copy(update={"symbol": "ETH/USDT", "quote": "USDT"}),  # other quote
    ETHBTC_SWAP,  # other market type
]  # fmt: skip
SETTINGS: dict[str, Any] = {
    "mode": "adaptive", "symbol_mode": "rotation", "symbols": ["ETH/BTC"], "direction": "long",
    "level_capital": ["1"], "eval_timeframe": "15m", "max_active_symbols": 1,
    "rank_lookback_days": 3, "rank_refresh_minutes": 1440, "custom_stop_minutes": 720,
    "ban_list": ["LTC", "XRP/BTC"],
}  # fmt: skip
CONFIG = GridConfig.model_validate(SETTINGS)
G = grid_notional(CONFIG)  # 20 rungs x 1 BTC


def _unittest_5m() -> CandleArrays:
    """UNITTEST/BTC (Nov 2017, 1m) as 5m candles, moved by whole 4h periods so that it ends
    with the ETH/BTC series (Jan 2018): the two share one clock (ROTATION_DATA.md)."""
    c = load("rotation_unknown_UNITTEST-BTC_1m.csv.gz")
    r = resample(c.ts, c.open, c.high, c.low, c.close, c.volume, "1m", "5m")
    shift = int(ethbtc_5m().ts[-1]) - int(r.open_time[-1])
    shift -= shift % H4
    assert shift == 6_580_800_000  # 76 days 4 hours, as ROTATION_DATA.md says
    return CandleArrays(r.open_time + shift, r.open, r.high, r.low, r.close, r.volume)


SERIES = {"ETH/BTC": ethbtc_5m(), "UNITTEST/BTC": _unittest_5m()}
T0 = 1_517_287_500_000  # 2018-01-30 04:45 UTC: the close of the last whole 15m of ETH/BTC


class StoredSeries:
    """The candle source the host gives its service: the stored 5m series."""

    def series(self, symbol: str) -> tuple[str, CandleArrays] | None:
        found = SERIES.get(symbol)
        return None if found is None else ("5m", found)


def _venue(_inst: Instrument) -> PaperExchange:
    # The account of the kit's backtests: 100 BTC, limits fill on touch.
    return PaperExchange(
        PaperConfig(
            instruments=tuple(ACCOUNT), balances={"BTC": D(100), "ETH": D(0)},
            limit_fill=LimitFillRule.TOUCH,
        )
    )  # fmt: skip


class Harness:
    """The grid in a MemoryContext on the scenario account, driven like the host drives it:
    ranking requests answered by the host's backtest service after each handler, then timers
    and candle closes in time order (at one instant: timers, then 4h, then 15m candles)."""

    def __init__(self, settings: dict[str, Any] = SETTINGS, now: int = T0) -> None:
        self.ctx = MemoryContext(ACCOUNT, now=now)
        self.candles: list[tuple[int, int, str, str, CandleArrays, int]] = []
        for symbol, c in SERIES.items():
            self.ctx.add_candles(symbol, "5m", c)
            for tf, tf_ms in (("15m", 15 * MINUTE), ("4h", H4)):
                r = resample(c.ts, c.open, c.high, c.low, c.close, c.volume, "5m", tf)
                arrays = CandleArrays(r.open_time, r.open, r.high, r.low, r.close, r.volume)
                self.ctx.add_candles(symbol, tf, arrays)
                closes = arrays.ts + tf_ms
                self.candles += [
                    (int(closes[k]), -tf_ms, symbol, tf, arrays, k) for k in range(len(arrays))
                ]
        self.candles.sort(key=lambda e: e[:4])
        self.service = BacktestService(
            Grid, mode=RunMode.BACKTEST, candles=StoredSeries(),
            instruments=self.ctx.instrument, venue=_venue,
        )  # fmt: skip
        self.grid = Grid(GridConfig.model_validate(settings))
        self.answered = 0

    def start(self, state: dict[str, Any] | None = None) -> None:
        if state is not None:
            self.grid.load_state(state)
        self.grid.on_start(self.ctx)
        self.answer()
        self.deliver_candles(self.ctx.now())  # those closing right now

    def answer(self) -> None:
        """Run the requested backtests and deliver the answers, as the host does after a
        handler (an answer may cause more requests)."""
        while self.answered < len(self.ctx.backtest_requests):
            request = self.ctx.backtest_requests[self.answered]
            self.answered += 1
            dispatch(self.grid, self.ctx, asyncio.run(self.service.backtest(request)))

    def deliver_candles(self, at: int) -> None:
        """The candles closing at ``at``, 4h before 15m."""
        for close, _, symbol, tf, arrays, k in self.candles:
            if close == at:
                event = CandleClosed(symbol=symbol, timeframe=tf, candle=arrays.candle(k))
                dispatch(self.grid, self.ctx, event)
                self.answer()

    def run_until(self, until: int) -> None:
        """Timers and candle closes after now, up to ``until``, in time order."""
        ctx = self.ctx
        while True:
            now = ctx.now()
            timers = [at for at in ctx.timers.values() if at <= until]
            closes = [c[0] for c in self.candles if now < c[0] <= until]
            if not timers and not closes:
                ctx.set_time(until)
                return
            t = max(now, min(timers + closes))
            ctx.set_time(t)
            while due := sorted((at, name) for name, at in ctx.timers.items() if at <= t):
                at, name = due[0]
                del ctx.timers[name]
                dispatch(self.grid, ctx, TimerFired(name=name, ts=at))
                self.answer()
            if t > now:
                self.deliver_candles(t)

    @property
    def started(self) -> list[str]:
        return [n.data["symbol"] for n in self.ctx.notifications if n.kind == "grid_rotation_start"]

    @property
    def rotation(self) -> Rotation:
        assert self.grid.rotator is not None
        return self.grid.rotator.state


def _expected_score(symbol: str, now: int) -> Decimal:
    """The §4.10 score by hand: the same settings as a fixed 15m grid on ``symbol``, over the
    last 3 days plus the 56 4h candles ADX(28) needs, candles closed by ``now``; net PnL / G."""
    since = now - 3 * DAY
    start = -(-since // H4) * H4 - 56 * H4
    candles = window(SERIES[symbol], "5m", start, now)
    assert int(candles.ts[0]) >= start
    assert int(candles.ts[-1]) + 5 * MINUTE <= now
    result = backtest(rank_settings(CONFIG, symbol), candles, _spot_of(symbol), "5m")
    return (result.end_equity - result.start_equity) / G


def _spot_of(symbol: str) -> Instrument:
    return next(i for i in ACCOUNT if i.symbol == symbol)


# -- the universe ----------------------------------------------------------------------------
def test_the_universe_keeps_the_reference_market_type_and_quote_minus_every_filter() -> None:
    assert universe(ACCOUNT, ETHBTC_SPOT, CONFIG) == ["DOGE/BTC", "ETH/BTC", "UNITTEST/BTC"]
    white = CONFIG.model_copy(update={"white_list": ("unittest", "DOGE/BTC", "FET", "LTC/BTC")})
    assert universe(ACCOUNT, ETHBTC_SPOT, white) == ["DOGE/BTC", "UNITTEST/BTC"]
    assert universe(ACCOUNT, ETHBTC_SPOT, CONFIG, completed=["ETH/BTC"]) == [
        "DOGE/BTC",
        "UNITTEST/BTC",
    ]
    keep = CONFIG.model_copy(update={"exclude_completed": False})
    assert "ETH/BTC" in universe(ACCOUNT, ETHBTC_SPOT, keep, completed=["ETH/BTC"])
    # A swap reference rotates through swaps of its settle currency only.
    assert universe(ACCOUNT, ETHBTC_SWAP, CONFIG) == ["ETH/BTC:BTC"]
    usdt = [_spot(f"{b}/USDT") for b in ("USDT", "DAI", "FDUSD", "TUSD", "USTC", "BUSD", "SOL")]
    assert universe(usdt, usdt[-1], CONFIG) == ["SOL/USDT"]


def test_the_bot_subscribes_the_universe_and_ranks_it_at_start() -> None:
    bot = Harness()
    bot.grid.on_start(bot.ctx)  # no answers yet

    subscribed = {(s.symbol, s.timeframe) for s in bot.ctx.subscriptions}
    assert subscribed == {
        (s, tf) for s in ("DOGE/BTC", "ETH/BTC", "UNITTEST/BTC") for tf in ("15m", "4h")
    }
    start, end = rank_window(T0, CONFIG)
    assert end == T0
    assert start == -(-(T0 - 3 * DAY) // H4) * H4 - RANK_WARMUP_MS
    assert RANK_WARMUP_MS == 2 * ADX_PERIOD * H4
    assert bot.ctx.backtest_requests == [
        RequestBacktest(f"rank:{T0}:{s}", s, rank_settings(CONFIG, s), start, end, T0)
        for s in ("DOGE/BTC", "ETH/BTC", "UNITTEST/BTC")
    ]
    settings = bot.ctx.backtest_requests[0].settings
    assert (settings["symbol_mode"], settings["symbols"], settings["eval_timeframe"]) == (
        "fixed",
        ["DOGE/BTC"],
        "15m",
    )
    assert bot.grid.engines == {}  # nothing starts before the ranking is in
    assert bot.ctx.timers == {REFRESH_TIMER: T0 + DAY}


# -- ranking, slots, completion ------------------------------------------------------------
def test_slots_fill_by_score_and_a_completed_symbol_is_not_restarted() -> None:
    bot = Harness()
    bot.start()

    eth, unit = _expected_score("ETH/BTC", T0), _expected_score("UNITTEST/BTC", T0)
    assert eth > unit > 0
    scores = bot.rotation.scores
    assert {s: v.value for s, v in scores.items()} == {"ETH/BTC": eth, "UNITTEST/BTC": unit}
    assert "DOGE/BTC" not in scores  # no candles: its backtest failed, it has no score
    assert bot.rotation.ranked_at == T0
    # One slot: the best score starts.
    assert bot.started == ["ETH/BTC"]
    assert bot.rotation.active == ["ETH/BTC"]
    assert bot.ctx.submitted  # the ETH/BTC grid placed its entries

    # 12 hours without an entry fill (orders are never filled here): ETH/BTC completes, and
    # the cached ranking (under a day old) fills its slot.
    bot.run_until(T0 + 12 * HOUR)
    assert bot.rotation.completed == ["ETH/BTC"]
    assert bot.started == ["ETH/BTC", "UNITTEST/BTC"]
    assert bot.rotation.active == ["UNITTEST/BTC"]
    assert bot.grid.engines["ETH/BTC"].completed

    # UNITTEST/BTC completes too; with the ranking a day old DOGE/BTC is ranked again (and
    # fails again); the completed symbols are never ranked or started again.
    bot.run_until(T0 + 36 * HOUR)
    assert bot.rotation.completed == ["ETH/BTC", "UNITTEST/BTC"]
    assert bot.started == ["ETH/BTC", "UNITTEST/BTC"]
    later = [r.symbol for r in bot.ctx.backtest_requests[3:]]
    assert later
    assert set(later) == {"DOGE/BTC"}
    assert bot.rotation.active == []


def test_a_symbol_another_bot_trades_is_left_to_it_until_it_is_free() -> None:
    bot = Harness()
    bot.ctx.other_bots_symbols = frozenset({"ETH/BTC"})  # the best score, but taken
    bot.start()
    assert [r.symbol for r in bot.ctx.backtest_requests] == ["DOGE/BTC", "UNITTEST/BTC"]
    assert bot.started == ["UNITTEST/BTC"]

    # The other bot lets ETH/BTC go; the next ranking (the daily refresh) takes it in.
    bot.ctx.other_bots_symbols = frozenset()
    bot.run_until(T0 + 12 * HOUR)  # UNITTEST/BTC completes; the cached ranking has no ETH/BTC
    assert bot.started == ["UNITTEST/BTC"]
    bot.run_until(T0 + DAY)
    assert "ETH/BTC" in [r.symbol for r in bot.ctx.backtest_requests[2:]]
    assert bot.started == ["UNITTEST/BTC", "ETH/BTC"]


def test_more_slots_start_every_positive_score_in_rank_order() -> None:
    bot = Harness({**SETTINGS, "max_active_symbols": 3})
    bot.start()
    assert bot.started == ["ETH/BTC", "UNITTEST/BTC"]  # DOGE/BTC has no score
    assert sorted(bot.grid.engines) == ["ETH/BTC", "UNITTEST/BTC"]


def test_rank_order_breaks_ties_by_volume_then_name() -> None:
    scores = {
        "B/BTC": Score(D("0.01"), D(5), 0),
        "A/BTC": Score(D("0.01"), D(5), 0),
        "C/BTC": Score(D("0.01"), D(9), 0),
        "D/BTC": Score(D("0.02"), None, 0),
        "E/BTC": Score(D(0), D(99), 0),
        "F/BTC": Score(D("-0.5"), D(99), 0),
    }
    assert rank_order(scores) == ["D/BTC", "C/BTC", "A/BTC", "B/BTC"]


def test_positions_first_then_previously_active_then_scores() -> None:
    rot = Rotation(scores={"S1": Score(D(1), None, 0), "S2": Score(D(2), None, 0)})
    order = rot.start_order(["P", "Q", "S1", "S2", "X"], ["Q"], ["X", "P"], use_scores=True)
    assert order == ["Q", "X", "P", "S2", "S1"]
    assert rot.start_order(["S1", "S2"], [], [], use_scores=False) == []


# -- restarts --------------------------------------------------------------------------------
def test_a_restarted_bot_keeps_its_active_set_completed_set_and_scores() -> None:
    bot = Harness({**SETTINGS, "max_active_symbols": 2})
    bot.start()
    bot.run_until(T0 + 13 * HOUR)  # both completed after 12 hours
    assert bot.rotation.completed == ["ETH/BTC", "UNITTEST/BTC"]
    saved = bot.grid.save_state()

    again = Harness({**SETTINGS, "max_active_symbols": 2}, now=T0 + 13 * HOUR)
    again.start(saved)
    assert again.rotation == Rotation.from_json(saved["rotation"])
    assert again.rotation.completed == bot.rotation.completed
    assert again.ctx.timers[REFRESH_TIMER] == bot.ctx.timers[REFRESH_TIMER]


def test_a_restart_resumes_the_active_symbols_before_any_new_ranking() -> None:
    bot = Harness()
    bot.start()
    bot.run_until(T0 + 5 * HOUR)
    saved = bot.grid.save_state()
    assert saved["rotation"]["active"] == ["ETH/BTC"]

    again = Harness(now=T0 + 5 * HOUR)
    again.start(saved)
    assert again.rotation.active == ["ETH/BTC"]
    assert again.ctx.backtest_requests == []  # the cached scores are fresh
    assert {s: v.value for s, v in again.rotation.scores.items()} == {
        s: v.value for s, v in bot.rotation.scores.items()
    }
    engine = again.grid.engines["ETH/BTC"]
    assert engine.save_state()["start_ts"] == T0  # the same grid, resumed
    # The resumed grid completes when the uninterrupted one does, and the cache fills the slot.
    again.run_until(T0 + 12 * HOUR - 1)
    assert again.rotation.active == ["ETH/BTC"]
    again.run_until(T0 + 12 * HOUR)
    assert again.rotation.completed == ["ETH/BTC"]
    assert again.rotation.active == ["UNITTEST/BTC"]


ROTATION_BACKTEST: dict[str, Any] = {
    "mode": "adaptive", "symbol_mode": "rotation", "symbols": ["ETH/BTC"], "direction": "long",
    "level_capital": ["1"], "eval_timeframe": "5m", "rank_lookback_days": 1,
    "rank_refresh_minutes": 240,
}  # fmt: skip


def test_rotation_in_the_host_backtest_survives_twenty_restarts() -> None:
    candles = ethbtc_5m()
    plain = backtest(ROTATION_BACKTEST, candles, ETHBTC_SPOT, "5m")
    assert len(plain.fills) > 10  # ETH/BTC ranked positive and traded
    rotation = plain.strategy_state["rotation"]
    assert rotation["active"] == ["ETH/BTC"]
    assert D(rotation["scores"]["ETH/BTC"]["value"]) > 0
    first_fill = min(f.fill.ts for f in plain.fills)
    # Nothing trades before a ranking backtest could: its engine needs the 56 4h candles too.
    assert first_fill >= int(candles.ts[0]) + RANK_WARMUP_MS

    restarts = [int(i) for i in np.linspace(50, len(candles) - 50, 20)]
    again = backtest(ROTATION_BACKTEST, candles, ETHBTC_SPOT, "5m", restart_at=restarts)
    assert [
        (f.fill.ts, f.order.client_order_id, f.fill.price, f.fill.qty) for f in again.fills
    ] == [(f.fill.ts, f.order.client_order_id, f.fill.price, f.fill.qty) for f in plain.fills]
    assert again.trades == plain.trades
    assert again.end_equity == plain.end_equity
    assert again.strategy_state["rotation"] == rotation


def test_rotation_is_refused_for_classic_grids_only() -> None:
    GridConfig.model_validate(SETTINGS)
    with pytest.raises(ValueError, match="rotates adaptive grids only"):
        GridConfig.model_validate(
            {
                **SETTINGS,
                "mode": "arithmetic",
                "symbol": "ETH/BTC",
                "lower_price": "1",
                "upper_price": "2",
                "investment": "5",
            }
        )


def test_rotation_in_paper_mode_ranks_beside_the_bot_and_then_trades() -> None:
    candles = ethbtc_5m()
    exchange = PaperExchange(
        PaperConfig(
            instruments=(ETHBTC_SPOT,), balances={"BTC": D(100), "ETH": D(0)},
            limit_fill=LimitFillRule.TOUCH,
        )
    )  # fmt: skip
    bot = BotInfo(
        bot_id="paper-rotation", strategy="grid", exchange="paper", account_id="paper",
        symbols=("ETH/BTC",), timeframe="5m", mode=RunMode.PAPER,
    )  # fmt: skip
    start = 3_600  # 12.5 days in: rankings have candles to trade on
    # One 5m candle per 10 ms of wall time: the ranking runs in a worker thread meanwhile, and
    # its answer (a few hundred ms later, some hours of candles) must come within the refresh
    # period to be used; a day, here.
    settings = {**ROTATION_BACKTEST, "rank_refresh_minutes": 1440}
    run = asyncio.run(
        run_paper(
            Grid.from_settings(settings), exchange, ETHBTC_SPOT, candles.slice(0, start + 400),
            "5m", bot=bot, speed=30_000, start=start,
        )
    )  # fmt: skip

    assert run.fault is None
    assert run.finished
    rotation = run.checkpoint.strategy_state["rotation"]
    assert rotation["active"] == ["ETH/BTC"]
    assert D(rotation["scores"]["ETH/BTC"]["value"]) > 0
    assert rotation["scores"]["ETH/BTC"]["ts"] >= int(candles.ts[start])
    assert run.checkpoint.strategy_state["symbols"]["ETH/BTC"]["seq"] > 0  # it placed orders
