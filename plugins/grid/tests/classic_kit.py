"""Shared helpers of the classic grid tests: instruments, candles, and backtests through the
real engine and the paper exchange. Imported by the ``test_classic_*`` modules."""

from __future__ import annotations

import asyncio
import csv
import gzip
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from tb_exchange_paper import LimitFillRule, PaperConfig, PaperExchange
from tb_strategy_grid.config import GridConfig
from tb_strategy_grid.ids import grid_client_id, symbol_key
from tb_strategy_grid.strategy import Grid
from tbhost.engine.backtest import BacktestResult, run_backtest
from tbsdk.ids import bot_key
from tbsdk.model import CandleArrays, Instrument, MarketType, OrderIntent, PositionMode
from tbsdk.testing import MemoryContext, RunResult, run_strategy

D = Decimal
MINUTE = 60_000
DATA = Path(__file__).parent / "data"

# The worked examples of grid spec §8: tick and lot 0.001, fee 0.1 %.
EXAMPLE_SPOT = Instrument(
    exchange="paper", symbol="GRD/USDT", base="GRD", quote="USDT",
    tick_size=D("0.001"), lot_step=D("0.001"), min_size=D("0.001"),
    maker_fee=D("0.001"), taker_fee=D("0.001"),
)  # fmt: skip
EXAMPLE_SWAP = Instrument(
    exchange="paper", symbol="GRD/USDT:USDT", base="GRD", quote="USDT", settle="USDT",
    type=MarketType.SWAP, tick_size=D("0.001"), lot_step=D("0.001"), min_size=D("0.001"),
    maker_fee=D("0.001"), taker_fee=D("0.001"), max_leverage=D(100),
)  # fmt: skip

# Binance-like BTC markets for the scenarios on real candles.
BTC_SPOT = Instrument(
    exchange="paper", symbol="BTC/USDT", base="BTC", quote="USDT",
    tick_size=D("0.01"), lot_step=D("0.00001"), min_size=D("0.00001"), min_notional=D(5),
    maker_fee=D("0.001"), taker_fee=D("0.001"),
)  # fmt: skip
BTC_SWAP = Instrument(
    exchange="paper", symbol="BTC/USDT:USDT", base="BTC", quote="USDT", settle="USDT",
    type=MarketType.SWAP, tick_size=D("0.1"), lot_step=D("0.001"), min_size=D("0.001"),
    min_notional=D(5), maker_fee=D("0.0002"), taker_fee=D("0.0005"), max_leverage=D(125),
)  # fmt: skip

ACCOUNT, BOT_ID = "paper", "backtest"  # what run_backtest's default BotInfo uses
TEST_ACCOUNT, TEST_BOT = "testaccount", "testbot"  # run_strategy's default BotInfo


def btc_5m() -> CandleArrays:
    """Binance BTC/USDT 5m, 2024-04-02 .. 2024-04-07 (tests/data/README.md)."""
    with gzip.open(DATA / "BINANCE_BTC-USDT_5m.csv.gz", "rt", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    ts = np.array([int(r[0]) for r in rows], dtype=np.int64)
    cols = np.array([[float(x) for x in r[1:]] for r in rows], dtype=np.float64).T.copy()
    return CandleArrays(ts, cols[0], cols[1], cols[2], cols[3], cols[4])


def bars(rows: Sequence[tuple[float, float, float, float]], step: int = MINUTE) -> CandleArrays:
    """Hand-made candles ``(open, high, low, close)``, one per ``step`` from t = 0."""
    arr = np.array(rows, dtype=np.float64).T.copy()
    ts = np.arange(len(rows), dtype=np.int64) * step
    return CandleArrays(ts, arr[0], arr[1], arr[2], arr[3], np.ones(len(rows)))


def flat(*closes: float) -> CandleArrays:
    return bars([(c, c, c, c) for c in closes])


def cid(
    symbol: str, seq: int, letter: str, level: int, rev: int = 0, *, account: str = ACCOUNT,
    bot: str = BOT_ID,
) -> str:  # fmt: skip
    """The client id grid spec §2 gives an order, built from its parts."""
    return grid_client_id(bot_key(account, bot), symbol_key(symbol), seq, letter, level, rev)


def settings(**over: Any) -> dict[str, Any]:
    """Classic settings of the §8 arithmetic example, overridable."""
    base: dict[str, Any] = {
        "mode": "arithmetic", "symbol": EXAMPLE_SPOT.symbol, "lower_price": "90",
        "upper_price": "110", "grid_count": 10, "investment": "1000",
    }  # fmt: skip
    base.update(over)
    return base


def run(
    config: dict[str, Any],
    candles: CandleArrays,
    inst: Instrument,
    *,
    position_mode: PositionMode = PositionMode.ONE_WAY,
    ctx: MemoryContext | None = None,
    state: dict[str, Any] | None = None,
) -> RunResult:
    """``run_strategy`` on 1m candles (orders acknowledged, never filled)."""
    return run_strategy(
        Grid.from_settings(config), candles, inst.symbol, config.get("eval_timeframe", "1m"),
        inst, position_mode=position_mode, ctx=ctx, state=state,
    )  # fmt: skip


def backtest(
    config: dict[str, Any],
    candles: CandleArrays,
    inst: Instrument,
    timeframe: str,
    *,
    position_mode: PositionMode = PositionMode.ONE_WAY,
    limit_fill: LimitFillRule = LimitFillRule.TOUCH,
    balance: int = 10_000,
    use_filter: bool = True,
    restart_at: Sequence[int] = (),
    grid_class: type[Grid] = Grid,
) -> BacktestResult:
    """The strategy through the real engine against the paper exchange."""
    exchange = PaperExchange(
        PaperConfig(
            instruments=(inst,),
            balances={"USDT": D(balance)},
            limit_fill=limit_fill,
            position_mode=position_mode,
        )
    )

    def factory() -> Grid:
        return grid_class(GridConfig.model_validate(config))

    coro = run_backtest(
        factory(), exchange, inst, candles, timeframe, use_candle_filter=use_filter,
        restart_at=restart_at, strategy_factory=factory if restart_at else None,
    )  # fmt: skip
    result = asyncio.run(coro)
    assert result.fault is None, result.fault
    return result


def btc_range(inst: Instrument, **over: Any) -> dict[str, Any]:
    """An 8-level arithmetic grid over 64 400-66 000 on ``btc_5m`` (5m evaluation)."""
    base: dict[str, Any] = {
        "mode": "arithmetic", "symbol": inst.symbol, "lower_price": "64400",
        "upper_price": "66000", "grid_count": 8, "investment": "5000", "eval_timeframe": "5m",
    }  # fmt: skip
    return {**base, **over}


def run_record(result: BacktestResult) -> tuple[Any, ...]:
    """What two runs must share to be the same run: orders, fills, trades and final state."""
    return (
        [(o.intent, o.status, o.filled_qty, o.created_at, o.updated_at) for o in result.orders],
        [f.fill for f in result.fills],
        result.trades,
        result.strategy_state,
    )


def intents(result: BacktestResult) -> list[OrderIntent]:
    """Every order the strategy sent, in submission order."""
    return [o.intent for o in sorted(result.orders, key=lambda o: (o.created_at, _seq(o.intent)))]


def _seq(intent: OrderIntent) -> int:
    return int(intent.client_order_id[10:15], 36)


# -- independent computations the tests compare the engine with --------------------------------
def arithmetic_levels(
    lower: str, upper: str, n: int, tick: str, count: int | None = None
) -> list[D]:
    """Levels by exact rational arithmetic, rounded to the tick half up (grid spec §5.2)."""
    from fractions import Fraction

    lo, hi, t = Fraction(lower), Fraction(upper), Fraction(tick)
    out = []
    for i in range(count or n + 1):
        units = (lo + i * (hi - lo) / n) / t
        rounded = int(units) + (1 if units - int(units) >= Fraction(1, 2) else 0)
        out.append(D(rounded) * D(tick))
    return out


def geometric_levels(
    lower: str, upper: str, n: int, tick: str, count: int | None = None
) -> list[D]:
    """Levels as lower·exp(i/N·ln(upper/lower)) at 80 digits (not the engine's power
    function), rounded to the tick half up."""
    import decimal

    ctx = decimal.Context(prec=80)
    lo, hi = D(lower), D(upper)
    log_ratio = ctx.ln(ctx.divide(hi, lo))
    out = []
    for i in range(count or n + 1):
        exact = ctx.multiply(lo, ctx.exp(ctx.multiply(log_ratio, ctx.divide(D(i), D(n)))))
        out.append(exact.quantize(D(tick), rounding=decimal.ROUND_HALF_UP))
    return out


def floor_lot(x: D, lot: D) -> D:
    return (x / lot).to_integral_value(rounding="ROUND_FLOOR") * lot


def grid_fills(result: BacktestResult) -> list[Any]:
    """Fills of the grid's level orders (limit), in the order they happened."""
    return [f for f in result.fills if f.order.intent.type.value == "limit"]


def assert_counter_orders(
    result: BacktestResult, levels: list[D], qty_of_interval: Callable[[int], D]
) -> int:
    """Every complete fill of a level order is answered by the opposite order on the
    neighbouring level with that interval's quantity: at the same moment, or, when a candle
    crossed two levels and the neighbour still held the order placed after the first fill,
    at the moment that order fills. Returns the number of fills checked."""
    intents = sorted(
        ((o.created_at, o.intent) for o in result.orders if o.intent.type.value == "limit"),
        key=lambda x: x[0],
    )
    fills_at: dict[int, set[D]] = {}
    for event in grid_fills(result):
        fills_at.setdefault(event.fill.ts, set()).add(event.order.intent.price or D(0))
    used: set[str] = set()
    checked = 0
    for event in grid_fills(result):
        intent = event.order.intent
        assert event.order.status.value == "filled", "paper fills limits whole"
        assert intent.price is not None
        i = levels.index(intent.price)
        buy = intent.side.value == "buy"
        target, interval = (i + 1, i) if buy else (i - 1, i - 1)
        want = ("sell" if buy else "buy", levels[target], qty_of_interval(interval))
        match = None
        for at, o in intents:
            if at < event.fill.ts or o.client_order_id in used:
                continue
            if (o.side.value, o.price, o.qty) != want:
                continue
            # Later than the fill only when the target level's own order filled at that moment.
            if at == event.fill.ts or levels[target] in fills_at.get(at, set()):
                match = o
                break
        assert match is not None, f"no counter-order {want} for {intent.client_order_id}"
        used.add(match.client_order_id)
        checked += 1
    return checked


def pair_profit(result: BacktestResult, levels: list[D], ct: str = "1") -> tuple[D, int]:
    """Grid profit and pair count recomputed from the fills (grid spec §5.5): per interval, the
    first fill opens a leg and the opposite fill closes it into (sell − buy)·q·ct − both fees."""
    legs: dict[D, tuple[str, D, D, D]] = {}
    total, pairs = D(0), 0
    for event in grid_fills(result):
        f = event.fill
        i = levels.index(event.order.intent.price)  # a limit may fill better than its price
        key = levels[i] if f.side.value == "buy" else levels[i - 1]
        leg = legs.pop(key, None)
        if leg is None or leg[0] == f.side.value:
            legs[key] = (f.side.value, f.price, f.qty, f.fee)
            continue
        buy = leg if leg[0] == "buy" else ("buy", f.price, f.qty, f.fee)
        sell = leg if leg[0] == "sell" else ("sell", f.price, f.qty, f.fee)
        total += (sell[1] - buy[1]) * min(buy[2], sell[2]) * D(ct) - buy[3] - sell[3]
        pairs += 1
    return total, pairs


def net_filled(result: BacktestResult, until: int | None = None) -> D:
    """Net quantity the strategy's orders filled (buys minus sells), up to time ``until``."""
    fills = [f.fill for f in result.fills if until is None or f.fill.ts <= until]
    return sum((f.qty if f.side.value == "buy" else -f.qty for f in fills), D(0))
