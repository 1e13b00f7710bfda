"""Scenarios on real candles through the real engine and the paper exchange (grid spec §4).

Twenty days of ETH/BTC 5m candles (``ADAPTIVE_DATA.md``) as spot and as a linear swap; the 15m
and 4h series are resampled from them by the host, as in any backtest, so the grid trades from
the 4h close where ADX(28) is first defined (2018-01-19 12:00 UTC). Every check rebuilds what
the spec says should have happened from the fills and candles of the run, with the spec's
formulas written out here: the table and regime come from the library functions whose own tests
pin them, everything else (rung search, prices, sizes, targets, stops, caps) is computed in
this module.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib

from test_adaptive_kit import (
    ETHBTC_SPOT,
    ETHBTC_SWAP,
    Decision,
    RecordingGrid,
    backtest,
    cid,
    ethbtc_5m,
)

from tb_strategy_grid.adaptive.levels import level_table
from tb_strategy_grid.adaptive.regime import regime_series
from tb_strategy_grid.config import GridConfig
from tb_strategy_grid.engine import money_text
from tbhost.engine.backtest import BacktestResult
from tbsdk.commands import Cancel, Replace, Submit
from tbsdk.indicators import resample
from tbsdk.model import (
    CandleArrays,
    FillEvent,
    Instrument,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionMode,
    PositionSide,
)
from tbsdk.money import ceil_to, floor_to

D = Decimal
MINUTE = 60_000
M5, M15, H4 = 5 * MINUTE, 15 * MINUTE, 240 * MINUTE

SPOT_LONG: dict[str, Any] = {
    "mode": "adaptive", "symbols": ["ETH/BTC"], "direction": "long", "level_capital": ["1"],
    "eval_timeframe": "5m",
}  # fmt: skip
SWAP_NEUTRAL: dict[str, Any] = {
    **SPOT_LONG, "symbols": ["ETH/BTC:BTC"], "direction": "neutral", "leverage": 2,
}  # fmt: skip
SWAP_LONG: dict[str, Any] = {**SWAP_NEUTRAL, "direction": "long"}
HEDGE: dict[str, Any] = {"position_mode": PositionMode.HEDGE, "leverage": 2}


def parse(cid: str) -> tuple[int, str, int, int]:
    """``(seq, letter, index, rev)`` of a grid client id (grid spec §2)."""
    return int(cid[10:15], 36), cid[15], int(cid[16:18], 36), int(cid[18:20], 36)


class Tables:
    """The 15m level table and 4h regime of the run's candles, by time."""

    def __init__(self, candles: CandleArrays, n: int = 20) -> None:
        c = candles
        q = resample(c.ts, c.open, c.high, c.low, c.close, c.volume, "5m", "15m")
        self.close15 = q.open_time + M15
        self.rows = level_table(q.high, q.low, q.close, n, D("0.5"), D("0.004"))
        h = resample(c.ts, c.open, c.high, c.low, c.close, c.volume, "5m", "4h")
        self.close4 = h.open_time + H4
        self.regime = regime_series(h.high, h.low, h.close)[:, 0]

    def at(self, t: int, *, inclusive: bool) -> np.ndarray:
        """The table in force at ``t``: a fill at ``t`` sees it before the 15m candle closing at
        ``t`` is delivered (``inclusive=False``), a candle event at ``t`` after (§2 order)."""
        i = int(np.searchsorted(self.close15, t, "right" if inclusive else "left")) - 1
        row: np.ndarray = self.rows[i]
        return row


def candidates(row: np.ndarray, price: Decimal, long: bool) -> list[int]:
    """§4.6 steps 1–2, written out: ``k* − 1, k* − 2`` (long), ``k' + 1, k' + 2`` (short)."""
    p, n = float(price), len(row) - 2
    if long:
        below = [k for k in range(n + 2) if row[k] < p]
        return [j for j in (max(below) - 1, max(below) - 2) if 1 <= j <= n] if below else []
    above = [k for k in range(n + 2) if row[k] >= p]
    return [j for j in (min(above) + 1, min(above) + 2) if 1 <= j <= n] if above else []


def tp_price(inst: Instrument, long: bool, row: np.ndarray, rung: int, p: D, now: D) -> D:
    """§4.7 written out (levels converted exactly, rounded away from the lot)."""
    if long:
        t = min(max(p * D("1.004"), D(float(row[rung + 1]))), p * D("1.08"))
        t = now * D("1.005") if t <= now else t
        return ceil_to(t, inst.tick_size)
    t = max(min(p * D("0.993"), D(float(row[rung - 1]))), p * D("0.93"))
    t = now * D("0.995") if t >= now else t
    return floor_to(t, inst.tick_size)


def intents(decision: Decision) -> list[OrderIntent]:
    return [
        c.intent if isinstance(c, Submit) else c.new
        for c in decision.commands
        if isinstance(c, Submit | Replace)
    ]


def entry_fills(result: BacktestResult) -> dict[int, FillEvent]:
    """Filled entries by seq: the lots of the run."""
    return {
        parse(f.order.client_order_id)[0]: f
        for f in result.fills
        if parse(f.order.client_order_id)[1] in "bs" and f.order.status is OrderStatus.FILLED
    }


def recorded(
    config: dict[str, Any], inst: Instrument, **kw: Any
) -> tuple[RecordingGrid, BacktestResult]:
    strategy = RecordingGrid(GridConfig.model_validate(config))
    result = backtest(config, ethbtc_5m(), inst, "5m", strategy=strategy, **kw)
    return strategy, result


# -- every entry and take-profit ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("config", "inst", "kw"),
    [(SPOT_LONG, ETHBTC_SPOT, {}), (SWAP_NEUTRAL, ETHBTC_SWAP, HEDGE)],
    ids=["spot-long", "swap-neutral"],
)
def test_every_entry_and_take_profit_follows_the_rules(
    config: dict[str, Any], inst: Instrument, kw: dict[str, Any]
) -> None:
    strategy, result = recorded(config, inst, **kw)
    tables = Tables(ethbtc_5m())
    lots = entry_fills(result)
    margin = D(config["level_capital"][0]) * config.get("leverage", 1)
    hedge = kw.get("position_mode") is PositionMode.HEDGE
    checked = {"entry": 0, "tp": 0, "retarget": 0}
    for d in strategy.decisions:
        if d.kind not in ("fill", "15m", "5m") or d.price is None:
            continue
        row = tables.at(d.ts, inclusive=d.kind != "fill")
        for intent in intents(d):
            seq, letter, rung, rev = parse(intent.client_order_id)
            # g + bot6 (account "paper", bot "backtest") + sym3 + seq5 + tag3 + rev2 (§2)
            assert intent.client_order_id == cid(inst.symbol, seq, letter, rung, rev)
            if letter in "bs":
                long = letter == "b"
                # One or two rungs beyond the nearest level, at the level (never > 10 % away
                # here), sized from level_capital · leverage.
                assert rung in candidates(row, d.price, long), (d.ts, intent)
                level = D(float(row[rung]))
                assert level >= D("0.9") * d.price if long else level <= D("1.1") * d.price
                price = floor_to(level, inst.tick_size) if long else ceil_to(level, inst.tick_size)
                qty = floor_to(margin / (price * inst.contract_size), inst.lot_step)
                assert (intent.price, intent.qty, intent.type) == (price, qty, OrderType.LIMIT)
                assert intent.side is (OrderSide.BUY if long else OrderSide.SELL)
                book = (
                    (PositionSide.LONG if long else PositionSide.SHORT)
                    if hedge
                    else (PositionSide.NET)
                )
                assert (intent.position_side, intent.reduce_only) == (book, False)
                checked["entry"] += 1
            elif letter == "t":
                lot = lots[seq]
                entry_letter = parse(lot.order.client_order_id)[1]
                long = entry_letter == "b"
                assert rung == parse(lot.order.client_order_id)[2]
                expected = tp_price(inst, long, row, rung, lot.order.avg_fill_price, d.price)
                assert intent.price == expected, (d.ts, intent)
                assert intent.qty == lot.order.filled_qty
                assert intent.side is (OrderSide.SELL if long else OrderSide.BUY)
                assert intent.reduce_only is inst.is_derivative
                if rev == 0:
                    assert d.kind == "fill"
                    assert d.event.order.client_order_id == lot.order.client_order_id
                    checked["tp"] += 1
                else:
                    checked["retarget"] += 1
    assert checked["entry"] > 500
    assert checked["tp"] == len(lots) > 25
    assert checked["retarget"] > 100
    # Every lot that closed closed through its own take-profit, for its whole size.
    for f in result.fills:
        seq, letter, _, _ = parse(f.fill.client_order_id)
        if letter == "t":
            assert f.fill.qty == lots[seq].order.filled_qty
            limit = f.order.intent.price
            assert limit is not None
            assert f.fill.price >= limit if f.fill.side is OrderSide.SELL else f.fill.price <= limit
    # The report's closed lots, recomputed from the fills of the take-profits and market exits
    # (no stop here): (exit − entry)·qty·ct for a long (the negative for a short), less the
    # fees of both orders' fills.
    fees_of: dict[str, D] = {}
    for f in result.fills:
        fees_of[f.fill.client_order_id] = fees_of.get(f.fill.client_order_id, D(0)) + f.fill.fee
    realised = fees = D(0)
    for f in result.fills:
        seq, letter, _, _ = parse(f.fill.client_order_id)
        assert letter != "k"
        if letter in "tx" and f.order.status is OrderStatus.FILLED:
            entry = lots[seq].order
            assert entry.avg_fill_price is not None
            assert f.order.avg_fill_price is not None
            move = f.order.avg_fill_price - entry.avg_fill_price
            sign = 1 if parse(entry.client_order_id)[1] == "b" else -1
            paid = fees_of[entry.client_order_id] + fees_of[f.order.client_order_id]
            realised += move * f.order.filled_qty * inst.contract_size * sign - paid
            fees += paid
    assert result.strategy_report == {
        "Closed lots": f"{money_text(realised)} after {money_text(fees)[1:]} fees"
    }


# -- skipping candles and restarting change nothing ----------------------------------------------
@pytest.mark.parametrize(
    ("config", "inst", "kw"),
    [
        ({**SWAP_NEUTRAL, "stop_loss_pct": "2"}, ETHBTC_SWAP, HEDGE),
        ({**SPOT_LONG, "stop_loss_pct": "1.5"}, ETHBTC_SPOT, {}),
    ],
    ids=["swap-neutral", "spot-long"],
)
def test_skipping_and_twenty_restarts_give_the_same_trades(
    config: dict[str, Any], inst: Instrument, kw: dict[str, Any]
) -> None:
    candles = ethbtc_5m()
    every = RecordingGrid(GridConfig.model_validate(config))
    full = backtest(config, candles, inst, "5m", use_filter=False, strategy=every, **kw)
    skipping = RecordingGrid(GridConfig.model_validate(config))
    fast = backtest(config, candles, inst, "5m", strategy=skipping, **kw)
    restarts = [int(i) for i in np.linspace(50, len(candles) - 50, 20)]
    again = backtest(config, candles, inst, "5m", restart_at=restarts, **kw)

    def orders(r: BacktestResult) -> list[tuple[object, ...]]:
        return [(o.intent, o.status, o.created_at, o.updated_at) for o in r.orders]

    def fills(r: BacktestResult) -> list[tuple[object, ...]]:
        return [(f.fill.client_order_id, f.fill.qty, f.fill.price, f.fill.ts) for f in r.fills]

    assert len(full.trades) > 10
    assert full.trades == fast.trades == again.trades
    assert orders(full) == orders(fast) == orders(again)
    assert fills(full) == fills(fast) == fills(again)
    assert full.end_equity == fast.end_equity == again.end_equity
    # The mask and the every-candle requests left out most evaluation candles.
    evaluated = sum(d.kind == "5m" for d in skipping.decisions)
    assert sum(d.kind == "5m" for d in every.decisions) == len(candles)
    assert evaluated < len(candles) * 0.6


# -- regime exit ----------------------------------------------------------------------------------
def test_regime_plus_two_closes_the_short_lots() -> None:
    candles = ethbtc_5m()
    tables = Tables(candles)
    turns = [
        i for i in range(1, len(tables.regime)) if tables.regime[i] == 2 != tables.regime[i - 1]
    ]
    assert len(turns) == 1  # 2018-01-28 08:00 opens the 4h candle that turns the regime +2
    at = int(tables.close4[turns[0]])
    assert not (tables.regime[turns[0] :] != 2).any()  # and it stays +2 to the end
    strategy, result = recorded(SWAP_NEUTRAL, ETHBTC_SWAP, **HEDGE)

    # Short lots open at that close: filled short entries not yet closed by a take-profit.
    open_short = {
        seq: f for seq, f in entry_fills(result).items()
        if parse(f.order.client_order_id)[1] == "s" and f.fill.ts <= at
    }  # fmt: skip
    for f in result.fills:
        seq, letter, _, _ = parse(f.fill.client_order_id)
        if letter == "t" and f.fill.ts <= at:
            open_short.pop(seq, None)
    assert len(open_short) >= 2

    (decision,) = [d for d in strategy.decisions if d.kind == "4h" and d.ts == at]
    exits = [c.intent for c in decision.commands if isinstance(c, Submit)]
    assert {parse(i.client_order_id)[0] for i in exits} == set(open_short)
    for intent in exits:
        lot = open_short[parse(intent.client_order_id)[0]]
        assert parse(intent.client_order_id)[1:] == ("x", parse(lot.order.client_order_id)[2], 0)
        assert (intent.type, intent.side, intent.qty) == (
            OrderType.MARKET, OrderSide.BUY, lot.order.filled_qty,
        )  # fmt: skip
        assert (intent.reduce_only, intent.position_side) == (True, PositionSide.SHORT)
    canceled = {parse(c.client_order_id)[:2] for c in decision.commands if isinstance(c, Cancel)}
    assert {(seq, "t") for seq in open_short} <= canceled  # their take-profits go first
    # Every short entry is gone at that close and none comes back while the regime is +2;
    # the long side goes on.
    for order in result.orders:
        seq, letter, _, _ = parse(order.client_order_id)
        if letter == "s":
            assert order.created_at <= at
            assert order.status.is_terminal
            assert order.updated_at <= at
    assert any(parse(o.client_order_id)[1] == "b" and o.created_at > at for o in result.orders)
    # The exits fill at the open of the next candle.
    exit_fills = [f for f in result.fills if parse(f.fill.client_order_id)[1] == "x"]
    i = int(np.searchsorted(candles.ts, at))
    assert {f.fill.ts for f in exit_fills} == {at + M5}
    assert {f.fill.price for f in exit_fills} == {D(repr(float(candles.open[i])))}
    final = result.strategy_state["symbols"]["ETH/BTC:BTC"]
    assert final["books"]["short"]["lots"] == []
    assert final["market"]["regime"] == 2


# -- stops ----------------------------------------------------------------------------------------
def _lot_changes(result: BacktestResult) -> list[tuple[FillEvent, dict[int, tuple[D, D]]]]:
    """After each fill, the open lots ``seq -> (qty, price)`` of the long side."""
    lots: dict[int, tuple[D, D]] = {}
    out = []
    for f in result.fills:
        seq, letter, _, _ = parse(f.fill.client_order_id)
        if letter == "b" and f.order.status is OrderStatus.FILLED:
            assert f.order.avg_fill_price is not None
            lots[seq] = (f.order.filled_qty, f.order.avg_fill_price)
        elif letter in "tx" and f.order.status is OrderStatus.FILLED:
            lots.pop(seq, None)
        elif letter == "k":
            lots.clear()
        out.append((f, dict(lots)))
    return out


def _stop_price(lots: dict[int, tuple[D, D]], pct: D, tick: D) -> D | None:
    if not lots:
        return None
    qty = sum(q for q, _ in lots.values())
    avg = sum(q * p for q, p in lots.values()) / qty
    return floor_to(avg * (1 - pct / 100), tick)


def test_futures_stop_rests_on_the_venue_and_completes() -> None:
    config = {**SWAP_LONG, "stop_loss_pct": "2"}
    result = backtest(config, ethbtc_5m(), ETHBTC_SWAP, "5m", leverage=2)
    stops = sorted(
        (o for o in result.orders if parse(o.client_order_id)[1] == "k"),
        key=lambda o: parse(o.client_order_id)[0],
    )
    # The expected stop after every lot change: avg · (1 − 2 %), floored; re-placed when it moves.
    expected, current = [], None
    (stop_fill,) = [f for f, _ in _lot_changes(result) if parse(f.fill.client_order_id)[1] == "k"]
    for f, lots in _lot_changes(result):
        if f is stop_fill:
            break
        want = _stop_price(lots, D(2), ETHBTC_SWAP.tick_size)
        if want is not None and want != current:
            expected.append(want)
        current = want
    assert len(expected) > 10
    assert [o.intent.trigger_price for o in stops] == expected
    for order in stops:
        intent = order.intent
        assert (intent.type, intent.side, intent.position_side) == (
            OrderType.STOP_MARKET, OrderSide.SELL, PositionSide.NET,
        )  # fmt: skip
        assert intent.close_position
        assert intent.reduce_only
        assert parse(intent.client_order_id)[2:] == (0, 0)  # k00: the long side's stop
    # Only the last stop ever executed; after it the symbol is complete and silent.
    assert stop_fill.order.client_order_id == stops[-1].client_order_id
    t = stop_fill.fill.ts
    assert all(o.created_at <= t for o in result.orders)
    assert all(o.status.is_terminal for o in result.orders)
    final = result.strategy_state["symbols"]["ETH/BTC:BTC"]
    assert (final["completion"], final["completed"]) == ("stop_loss", True)
    assert final["books"]["long"]["lots"] == []


def test_spot_stop_is_checked_at_every_evaluation() -> None:
    candles = ethbtc_5m()
    config = {**SPOT_LONG, "stop_loss_pct": "1.5"}
    strategy, result = recorded(config, ETHBTC_SPOT)
    # The first 5m close at or below avg·(1 − 1.5 %) of the lots open at that close.
    changes = _lot_changes(result)
    hit, k = None, 0
    lots: dict[int, tuple[D, D]] = {}
    for i in range(len(candles)):
        close_time = int(candles.ts[i]) + M5
        while k < len(changes) and changes[k][0].fill.ts <= close_time:
            lots = changes[k][1]
            k += 1
        trigger = _stop_price(lots, D("1.5"), ETHBTC_SPOT.tick_size)
        if trigger is not None and D(repr(float(candles.close[i]))) <= trigger:
            hit = (close_time, dict(lots))
            break
    assert hit is not None
    at, open_lots = hit
    assert len(open_lots) >= 1
    # An evaluation at that close (the 15m one when the quarter hour closes too) sells the lots.
    (decision,) = [d for d in strategy.decisions if d.kind in ("5m", "15m") and d.ts == at]
    exits = [c.intent for c in decision.commands if isinstance(c, Submit)]
    assert sorted((parse(i.client_order_id)[0], i.qty) for i in exits) == sorted(
        (seq, q) for seq, (q, _) in open_lots.items()
    )
    for intent in exits:  # spot: a plain market sell of the lot, its take-profit canceled first
        assert (intent.type, intent.side, intent.reduce_only) == (
            OrderType.MARKET,
            OrderSide.SELL,
            False,
        )
        assert Cancel(
            next(o.client_order_id for o in result.orders
                 if parse(o.client_order_id)[:2] == (parse(intent.client_order_id)[0], "t")
                 and o.status is OrderStatus.CANCELED and o.updated_at == at),
            at,
        ) in decision.commands  # fmt: skip
    assert all(o.created_at <= at for o in result.orders)
    final = result.strategy_state["symbols"]["ETH/BTC"]
    assert (final["completion"], final["completed"]) == ("stop_loss", True)


# -- inactivity and exposure ---------------------------------------------------------------------
def test_inactivity_completes_the_symbol() -> None:
    candles = ethbtc_5m()
    minutes = 13_445  # from the first candle to 2018-01-19 13:00, one hour after trading starts
    config = {**SPOT_LONG, "custom_stop_minutes": minutes}
    strategy, result = recorded(config, ETHBTC_SPOT)
    due = int(candles.ts[0]) + minutes * MINUTE
    assert due == 1_516_366_800_000  # 2018-01-19 13:00 UTC
    entries = [o for o in result.orders if parse(o.client_order_id)[1] == "b"]
    assert entries
    assert all(o.created_at <= due for o in entries)
    assert not result.fills  # no entry filled before: the start is the later time
    (decision,) = [d for d in strategy.decisions if d.kind == "timer"]
    assert decision.ts == due
    assert decision.event.name.endswith(":inactivity")
    live_then = {o.client_order_id for o in entries if o.updated_at >= due}
    assert {c.client_order_id for c in decision.commands if isinstance(c, Cancel)} == live_then
    assert all(o.status is OrderStatus.CANCELED for o in entries if o.client_order_id in live_then)
    final = result.strategy_state["symbols"]["ETH/BTC"]
    assert (final["completion"], final["completed"]) == ("inactivity", True)


def test_exposure_cap_holds_at_every_entry() -> None:
    # Four rungs of 1 BTC: G = 4, no entries from 3.8 of lots (overbought), at most 4.2 of lots,
    # resting entries and the new order together (§4.8). The market's minimum order of 1.5 BTC
    # raises every order above its rung's capital (§2), so the cap binds: two orders fit, a third
    # does not. Every placement must respect the cap, and every free candidate rung left empty
    # must have been held back by it (or by the 0.1 % rule).
    candles = ethbtc_5m()
    config = {**SPOT_LONG, "grid_num": 4}
    inst = ETHBTC_SPOT.model_copy(update={"min_notional": D("1.5")})
    strategy, _ = recorded(config, inst)
    tables = Tables(candles, n=4)
    ready = int(tables.close4[55])  # ADX(28) is first defined on 4h candle 55
    assert not (tables.regime == -2).any()
    cap, full, tick, lot = D("4.2"), D("3.8"), ETHBTC_SPOT.tick_size, ETHBTC_SPOT.lot_step
    lots: dict[int, tuple[D, int]] = {}  # seq -> (qty, rung)
    resting: dict[str, tuple[D, D, int]] = {}  # cid -> (qty, price, rung)
    peak, held_back, placed_total = D(0), 0, 0
    for d in strategy.decisions:
        event = d.event
        if isinstance(event, FillEvent):
            seq, letter, rung, _ = parse(event.fill.client_order_id)
            resting.pop(event.fill.client_order_id, None)
            if letter == "b" and event.order.status is OrderStatus.FILLED:
                lots[seq] = (event.order.filled_qty, rung)
            elif letter in "tx":
                lots.pop(seq, None)
        elif hasattr(event, "order") and event.order.status.is_terminal:
            resting.pop(event.order.client_order_id, None)
        if d.price is None:
            assert not [c for c in d.commands if isinstance(c, Submit)]
            continue
        held = sum((q for q, _ in lots.values()), D(0)) * d.price
        placed = []
        for command in d.commands:
            if isinstance(command, Cancel):
                resting.pop(command.client_order_id, None)
            elif isinstance(command, Submit) and parse(command.intent.client_order_id)[1] == "b":
                intent = command.intent
                assert intent.price is not None
                total = held + sum((q * p for q, p, _ in resting.values()), D(0))
                total += intent.qty * intent.price
                assert held < full, d.ts
                assert total <= cap, d.ts
                peak = max(peak, total)
                rung = parse(intent.client_order_id)[2]
                resting[intent.client_order_id] = (intent.qty, intent.price, rung)
                placed.append(rung)
        placed_total += len(placed)
        if d.kind not in ("fill", "5m", "15m") or d.ts < ready:
            continue
        row = tables.at(d.ts, inclusive=d.kind != "fill")
        for rung in candidates(row, d.price, True):
            lot_rungs = {r for _, r in lots.values()}
            if rung in placed or rung in lot_rungs or rung - 1 in lot_rungs:
                continue
            if any(r == rung for _, _, r in resting.values()):
                continue
            price = floor_to(D(float(row[rung])), tick)
            qty = max(floor_to(D(1) / price, lot), ceil_to(D("1.5") / price, lot))
            others = sum((q * p for q, p, _ in resting.values()), D(0))
            near = any(abs(price - p) < p * D("0.001") for _, p, _ in resting.values())
            assert held >= full or held + others + qty * price > cap or near, (d.ts, rung)
            held_back += 1
    assert placed_total > 100
    assert peak > cap - D("1.5")  # a third order of 1.5 never fits
    assert held_back > 10  # and free rungs were held back by the cap
