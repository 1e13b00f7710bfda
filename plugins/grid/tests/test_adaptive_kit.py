"""Shared helpers of the adaptive-mode tests (no tests here): markets, candle files, hand-made
fills and backtests through the real engine and the paper exchange. The other
``test_adaptive_*`` modules import it by path (``--import-mode=importlib``)."""

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

from tb_exchange_paper import LimitFillRule, PaperConfig, PaperExchange
from tb_strategy_grid.adaptive.engine import AdaptiveEngine
from tb_strategy_grid.config import GridConfig
from tb_strategy_grid.ids import grid_client_id, symbol_key
from tb_strategy_grid.strategy import Grid
from tbhost.engine.backtest import BacktestResult, run_backtest
from tbsdk import StrategyContext
from tbsdk.commands import Command
from tbsdk.ids import bot_key
from tbsdk.model import (
    Candle,
    CandleArrays,
    CandleClosed,
    Fill,
    FillEvent,
    Instrument,
    Liquidity,
    MarketType,
    Order,
    OrderIntent,
    OrderSide,
    OrderType,
    OrderUpdate,
    PositionMode,
    PositionSide,
    TimerFired,
)
from tbsdk.testing import MemoryContext, dispatch

D = Decimal
MINUTE = 60_000
DATA = Path(__file__).parent / "data"

# Grid spec §7: a linear perpetual, ct = 1, lot = min size = 0.01, tick 0.001, maker 0.02 %.
EXAMPLE_SWAP = Instrument(
    exchange="paper", symbol="XYZ/USDT:USDT", base="XYZ", quote="USDT", settle="USDT",
    type=MarketType.SWAP, tick_size=D("0.001"), lot_step=D("0.01"), min_size=D("0.01"),
    maker_fee=D("0.0002"), taker_fee=D("0.0005"), max_leverage=D(125),
)  # fmt: skip

# ETH/BTC with Binance's rules (tick 0.000001, lot 0.001), as spot and as a linear swap.
ETHBTC_SPOT = Instrument(
    exchange="paper", symbol="ETH/BTC", base="ETH", quote="BTC", tick_size=D("0.000001"),
    lot_step=D("0.001"), min_size=D("0.001"), min_notional=D("0.0001"),
    maker_fee=D("0.001"), taker_fee=D("0.001"),
)  # fmt: skip
ETHBTC_SWAP = Instrument(
    exchange="paper", symbol="ETH/BTC:BTC", base="ETH", quote="BTC", settle="BTC",
    type=MarketType.SWAP, tick_size=D("0.000001"), lot_step=D("0.001"), min_size=D("0.001"),
    maker_fee=D("0.0002"), taker_fee=D("0.0005"), max_leverage=D(20),
)  # fmt: skip

ACCOUNT, BOT_ID = "paper", "backtest"  # run_backtest's default BotInfo
TEST_ACCOUNT, TEST_BOT = "testaccount", "testbot"  # MemoryContext's default BotInfo


def load(name: str, *, drop_last: bool = False) -> CandleArrays:
    """A candle file of ``tests/data`` (see ``ADAPTIVE_DATA.md``). ``drop_last`` removes the
    still-open last candle of the OctoBot files."""
    with gzip.open(DATA / name, "rt", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    if drop_last:
        rows = rows[:-1]
    ts = np.array([int(r[0]) for r in rows], dtype=np.int64)
    cols = np.array([[float(x) for x in r[1:]] for r in rows], dtype=np.float64).T.copy()
    return CandleArrays(ts, cols[0], cols[1], cols[2], cols[3], cols[4])


def btc_15m() -> CandleArrays:
    return load("adaptive_BINANCE_BTC-USDT_15m.csv.gz", drop_last=True)


def btc_4h() -> CandleArrays:
    return load("adaptive_BINANCE_BTC-USDT_4h.csv.gz", drop_last=True)


def ethbtc_5m() -> CandleArrays:
    return load("adaptive_unknown_ETH-BTC_5m.csv.gz")


def cid(
    symbol: str, seq: int, letter: str, level: int, rev: int = 0, *, account: str = ACCOUNT,
    bot: str = BOT_ID,
) -> str:  # fmt: skip
    """The client id grid spec §2 gives an order, built from its parts."""
    return grid_client_id(bot_key(account, bot), symbol_key(symbol), seq, letter, level, rev)


def filled(
    ctx: MemoryContext,
    client_order_id: str,
    price: str,
    fee_rate: Decimal,
    qty: str | None = None,
    order: Order | None = None,
) -> FillEvent:
    """The acknowledged order ``client_order_id`` of ``ctx`` (or ``order``) filled at ``price``,
    in full or ``qty`` of it."""
    order = order or ctx.order(client_order_id)
    assert order is not None, client_order_id
    intent = order.intent
    px, size = D(price), D(qty) if qty is not None else intent.qty
    fill = Fill(
        client_order_id=client_order_id, trade_id=f"t{client_order_id}{order.filled_qty}",
        symbol=intent.symbol, side=intent.side, position_side=intent.position_side, qty=size,
        price=px, fee=px * size * fee_rate, fee_currency="USDT", liquidity=Liquidity.MAKER,
        ts=ctx.now(),
    )  # fmt: skip
    return FillEvent(fill=fill, order=order.apply_fill(fill))


@dataclass
class Decision:
    """One handler call of a :class:`RecordingGrid`: the price it decided at and the commands
    it issued."""

    kind: str
    ts: int
    price: Decimal | None
    commands: list[Command]
    event: object


class RecordingGrid(Grid):
    """The grid strategy, recording what each candle and fill handler decided (and at which
    price), so a test can check every decision against the spec's rules independently."""

    decisions: list[Decision]

    def __init__(self, config: GridConfig) -> None:
        super().__init__(config)
        self.decisions = []

    def _record(
        self, ctx: StrategyContext, kind: str, price: Decimal | None, event: object, call: Any
    ) -> None:
        queue: list[Command] = ctx.commands  # type: ignore[attr-defined]  # BotContext
        before = len(queue)
        call()
        self.decisions.append(Decision(kind, ctx.now(), price, list(queue[before:]), event))

    def on_candle(self, ctx: StrategyContext, event: CandleClosed) -> None:
        self._record(
            ctx,
            event.timeframe,
            event.candle.close,
            event,
            lambda: super(RecordingGrid, self).on_candle(ctx, event),
        )

    def on_fill(self, ctx: StrategyContext, event: FillEvent) -> None:
        self._record(
            ctx,
            "fill",
            event.fill.price,
            event,
            lambda: super(RecordingGrid, self).on_fill(ctx, event),
        )

    def on_order_update(self, ctx: StrategyContext, event: OrderUpdate) -> None:
        self._record(
            ctx,
            "update",
            None,
            event,
            lambda: super(RecordingGrid, self).on_order_update(ctx, event),
        )

    def on_timer(self, ctx: StrategyContext, event: TimerFired) -> None:
        self._record(
            ctx, "timer", None, event, lambda: super(RecordingGrid, self).on_timer(ctx, event)
        )


def backtest(
    config: dict[str, Any],
    candles: CandleArrays,
    inst: Instrument,
    timeframe: str,
    *,
    position_mode: PositionMode = PositionMode.ONE_WAY,
    leverage: int = 1,
    balances: dict[str, Decimal] | None = None,
    use_filter: bool = True,
    restart_at: Sequence[int] = (),
    strategy: Grid | None = None,
) -> BacktestResult:
    """The grid through the real engine against the paper exchange (limits fill on touch)."""
    exchange = PaperExchange(
        PaperConfig(
            instruments=(inst,),
            balances=balances or {"BTC": D(100), "ETH": D(0)},
            limit_fill=LimitFillRule.TOUCH,
            default_leverage=D(leverage),
            position_mode=position_mode,
        )
    )
    factory: Callable[[], Grid] = lambda: Grid.from_settings(config)  # noqa: E731
    coro = run_backtest(
        strategy or factory(), exchange, inst, candles, timeframe, use_candle_filter=use_filter,
        restart_at=restart_at, strategy_factory=factory if restart_at else None,
    )  # fmt: skip
    result = asyncio.run(coro)
    assert result.fault is None, result.fault
    return result


# -- grid spec §7: the worked example's market and bot ------------------------------------
SYMBOL = EXAMPLE_SWAP.symbol
MAKER = D("0.0002")
EXAMPLE_SETTINGS: dict[str, Any] = {
    "mode": "adaptive", "symbols": [SYMBOL], "direction": "neutral", "leverage": 5,
    "level_capital": ["10"], "grid_num": 20, "band_mult": "0.5", "eval_timeframe": "1m",
}  # fmt: skip
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
H4, M15, M1 = 4 * 3_600_000, 15 * 60_000, 60_000


def spec_table(centre: str = "100") -> list[float]:
    """``L_0 .. L_21`` of §7: ``L_n = C − 0.675·(11 − n)``, edges ``L_1·0.992``, ``L_20·1.008``
    (``centre = 100.275`` moves every level up by 0.275: L_10 = 99.600, step 3)."""
    c = D(centre)
    rungs = [c - D("0.675") * (11 - n) for n in range(1, 21)]
    return [float(x) for x in [rungs[0] * D("0.992"), *rungs, rungs[-1] * D("1.008")]]


KEY, SYM3 = bot_key(TEST_ACCOUNT, TEST_BOT), symbol_key(SYMBOL)


def eid(seq: int, letter: str, rung: int, rev: int = 0) -> str:
    return grid_client_id(KEY, SYM3, seq, letter, rung, rev)


def limit(
    cid: str, side: OrderSide, qty: str, price: str, book: PositionSide, *, tp: bool = False
) -> OrderIntent:
    return OrderIntent(
        client_order_id=cid, symbol=SYMBOL, side=side, type=OrderType.LIMIT, qty=D(qty),
        price=D(price), position_side=book, reduce_only=tp, tag="tp" if tp else "entry",
    )  # fmt: skip


def buy(seq: int, rung: int, qty: str, price: str) -> OrderIntent:
    return limit(eid(seq, "b", rung), OrderSide.BUY, qty, price, PositionSide.LONG)


def sell(seq: int, rung: int, qty: str, price: str) -> OrderIntent:
    return limit(eid(seq, "s", rung), OrderSide.SELL, qty, price, PositionSide.SHORT)


def tick_candle(tf: str, opened: int, close: str) -> CandleClosed:
    c = D(close)
    candle = Candle(ts=opened, open=c, high=c, low=c, close=c, volume=D(1))
    return CandleClosed(symbol=SYMBOL, timeframe=tf, candle=candle)


class ExampleBot:
    """The §7 bot: a neutral adaptive grid in a hedge-mode account, tables handed in."""

    def __init__(self, **settings: Any) -> None:
        self.strategy = Grid(GridConfig.model_validate({**EXAMPLE_SETTINGS, **settings}))
        self.ctx = MemoryContext(EXAMPLE_SWAP, position_mode=PositionMode.HEDGE, now=T0)
        for tf in ("1m", "15m", "4h"):
            self.ctx.add_candles(SYMBOL, tf, CandleArrays.empty())
        self.strategy.on_start(self.ctx)
        engine = self.strategy.engines[SYMBOL]
        assert isinstance(engine, AdaptiveEngine)
        self.engine = engine
        # The 15m tables of the story (T0 − 15m: step 1, T0 + 15m: step 3) and the 4h regimes
        # (0 with ADX defined, then −2 at T0 + 4h).
        engine.levels.use_table(
            [T0 - M15, T0 + M15], np.array([spec_table(), spec_table("100.275")])
        )
        engine.regimes.use_table([T0 - H4, T0], np.array([[0.0, 25.0], [-2.0, 30.0]]))

    def send(self, event: object, at: int) -> list[object]:
        before = len(self.ctx.commands)
        self.ctx.set_time(at)
        dispatch(self.strategy, self.ctx, event)  # type: ignore[arg-type]
        return self.ctx.commands[before:]

    def fill(self, cid: str, price: str, at: int) -> list[object]:
        self.ctx.set_time(at)
        return self.send(filled(self.ctx, cid, price, MAKER), at)

    def step1(self) -> list[object]:
        """Regime 0, then the first table at P = 99.800: the four orders of §7 step 1."""
        self.send(tick_candle("4h", T0 - H4, "99.800"), T0)
        return self.send(tick_candle("15m", T0 - M15, "99.800"), T0)
