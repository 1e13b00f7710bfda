"""Grid spec §7, the adaptive worked example, number for number.

Converged inputs (C = 100, ATR = 0.5) give the linear ladder ``L_n = 100 − 0.675·(11 − n)``.
The level test feeds the level ladder candles that converge to exactly those inputs; the order
tests then hand the engine the spec's table directly (the floats nearest the spec's decimals, as
the spec assumes) and replay the story: the first orders at 99.800, the buy at 98.650 filling,
the quarter-hour that moves L_10 to 99.600, the take-profit filling there, and the 4h regime
turning −2. Every expected price and size below is worked out from the spec's formulas in the
comments, not taken from a run of the code.

The spec's narrative names only the long side in step 2; the example is ``neutral``, so the
short side follows the same §4.6 rules at every rebalance and its orders are asserted too.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib

from test_adaptive_kit import (
    EXAMPLE_SWAP,
    H4,
    M1,
    M15,
    T0,
    ExampleBot,
    buy,
    eid,
    limit,
    sell,
    tick_candle,
)

from tb_strategy_grid.adaptive.books import Side
from tb_strategy_grid.adaptive.ladder import entry_price, tp_target
from tb_strategy_grid.adaptive.levels import LevelLadder
from tbsdk.model import OrderIntent, OrderSide, OrderType, PositionSide
from tbsdk.testing import Cancel, Replace, Submit

D = Decimal
SYMBOL = EXAMPLE_SWAP.symbol


# -- levels --------------------------------------------------------------------------------------
def test_converged_inputs_give_the_spec_ladder() -> None:
    # Constant closes of 100 with a 0.5 range: TR = 0.5 every candle (ATR -> 0.5), ER = 0
    # (the centre line stays exactly at the first close, C = 100), A = max(0.5, 0.4) = 0.5.
    n = 300
    close = np.full(n, 100.0)
    rows = LevelLadder(20, D("0.5"), D("0.004")).update_many(close + 0.25, close - 0.25, close)
    last = rows[-1]
    expected = {
        1: 93.25, 8: 97.975, 9: 98.65, 10: 99.325, 11: 100.0, 12: 100.675, 13: 101.35,
        20: 106.075,
    }  # fmt: skip
    for k, value in expected.items():
        assert last[k] == pytest.approx(value, rel=1e-12, abs=0), k
    for k in range(1, 21):  # the linear ladder C − d·(0.003·C + 0.75·A)
        assert last[k] == pytest.approx(100 - (11 - k) * (0.3 + 0.75 * 0.5), rel=1e-12, abs=0)
    assert last[0] == pytest.approx(92.504, rel=1e-12, abs=0)
    assert last[21] == pytest.approx(106.9236, rel=1e-12, abs=0)
    # Clamps inactive: every spacing 0.675 (>= 0.63 % > min_gap), far inside the centre bounds.
    assert np.all(np.diff(last[1:21]) == pytest.approx(0.675, rel=1e-9))

    # Orders off the converged (not exactly decimal) levels still land on the spec's prices:
    # a level within float noise of a tick is that tick, then buys floor and sells ceil.
    p = D("99.800")
    assert entry_price(EXAMPLE_SWAP, OrderSide.BUY, list(last), 8, p) == D("97.975")
    assert entry_price(EXAMPLE_SWAP, OrderSide.BUY, list(last), 9, p) == D("98.650")
    assert entry_price(EXAMPLE_SWAP, OrderSide.SELL, list(last), 12, p) == D("100.675")
    assert entry_price(EXAMPLE_SWAP, OrderSide.SELL, list(last), 13, p) == D("101.350")
    assert tp_target(EXAMPLE_SWAP, True, list(last), 9, D("98.650"), D("98.650")) == D("99.325")


def test_the_worked_example_step_by_step() -> None:
    story = ExampleBot()
    long_, short = PositionSide.LONG, PositionSide.SHORT
    assert story.send(tick_candle("4h", T0 - H4, "99.800"), T0) == []

    # 1. P = 99.800: k* = 10 (L_10 = 99.325 < 99.8 < L_11) -> buys at rungs 9 and 8,
    #    50/98.65 = 0.5068 -> 0.50 and 50/97.975 = 0.5103 -> 0.51; k' = 11 -> sells at 12 and 13,
    #    50/100.675 = 0.4966 -> 0.49 and 50/101.35 = 0.4933 -> 0.49.
    step1 = story.send(tick_candle("15m", T0 - M15, "99.800"), T0)
    assert step1 == [
        Submit(buy(1, 9, "0.50", "98.650"), T0),
        Submit(buy(2, 8, "0.51", "97.975"), T0),
        Submit(sell(3, 12, "0.49", "100.675"), T0),
        Submit(sell(4, 13, "0.49", "101.350"), T0),
    ]
    assert story.send(tick_candle("1m", T0 - M1, "99.800"), T0) == []  # nothing missing

    # 2. The buy at 98.650 fills: lot (long, rung 9), TP min(max(99.0446, 99.325), 106.542)
    #    = 99.325, reduce-only. Partial rebalance at 98.650: k* = 8 -> buys at 7 (97.300,
    #    50/97.3 = 0.5139 -> 0.51) and 6 (96.625, 0.5175 -> 0.51); rung 8 keeps its buy.
    #    Shorts: k' = 9 (L_9 = 98.650 >= P) -> sells at 10 (99.325, 50/99.325 = 0.5034 -> 0.50)
    #    and 11 (100.000, 0.50).
    t2 = T0 + 5 * M1
    step2 = story.fill(eid(1, "b", 9), "98.650", t2)
    tp1 = limit(eid(1, "t", 9), OrderSide.SELL, "0.50", "99.325", long_, tp=True)
    assert step2 == [
        Submit(tp1, t2),
        Submit(buy(5, 7, "0.51", "97.300"), t2),
        Submit(buy(6, 6, "0.51", "96.625"), t2),
        Submit(sell(7, 10, "0.50", "99.325"), t2),
        Submit(sell(8, 11, "0.50", "100.000"), t2),
    ]
    # Rung 10 is now blocked for long entries: the lot's TP sits at L_10.
    assert story.send(tick_candle("1m", t2 - M1, "99.400"), t2) == []

    # 3. The next 15m close (P = 98.900) brings the table with L_10 = 99.600 (every level
    #    +0.275). Longs: k* = 8 (L_9 = 98.925 > P) -> candidates 7 (97.575) and 6 (96.900):
    #    rung 8 is no candidate, 7 and 6 moved by more than a tick -> all three canceled, 7 and 6
    #    placed again (50/97.575 = 0.5124 -> 0.51, 50/96.9 = 0.5160 -> 0.51). Shorts: k' = 9 ->
    #    candidates 10 (99.600) and 11 (100.275): 12, 13 off, 10, 11 moved -> canceled; new
    #    sells 0.50 @ 99.600 and 50/100.275 = 0.4986 -> 0.49 @ 100.275. The TP is re-targeted to
    #    min(max(99.0446, 99.600), 106.542) = 99.600 (next revision).
    t3 = T0 + M15
    step3 = story.send(tick_candle("15m", t3, "98.900"), t3 + M15)
    tp1b = limit(eid(1, "t", 9, 1), OrderSide.SELL, "0.50", "99.600", long_, tp=True)
    at = t3 + M15
    assert step3 == [
        Cancel(eid(2, "b", 8), at), Cancel(eid(5, "b", 7), at), Cancel(eid(6, "b", 6), at),
        Cancel(eid(3, "s", 12), at), Cancel(eid(4, "s", 13), at), Cancel(eid(7, "s", 10), at),
        Cancel(eid(8, "s", 11), at),
        Replace(eid(1, "t", 9), tp1b, at),
        Submit(buy(9, 7, "0.51", "97.575"), at),
        Submit(buy(10, 6, "0.51", "96.900"), at),
        Submit(sell(11, 10, "0.50", "99.600"), at),
        Submit(sell(12, 11, "0.49", "100.275"), at),
    ]  # fmt: skip

    # A second lot for step 5: the buy at rung 7 (97.575) fills; its TP targets L_8 = 98.250
    # (97.575·1.004 = 97.9653 < 98.250). Rebalance at 97.575: k* = 6 -> buys at 5 (96.225,
    # 0.5196 -> 0.51) and 4 (95.550, 0.5233 -> 0.52); k' = 7 -> sells at 8 (98.250, 0.5089 ->
    # 0.50) and 9 (98.925, 0.5054 -> 0.50).
    t_lot2 = at + 3 * M1
    lot2 = story.fill(eid(9, "b", 7), "97.575", t_lot2)
    tp2 = limit(eid(9, "t", 7), OrderSide.SELL, "0.51", "98.250", long_, tp=True)
    assert lot2 == [
        Submit(tp2, t_lot2),
        Submit(buy(13, 5, "0.51", "96.225"), t_lot2),
        Submit(buy(14, 4, "0.52", "95.550"), t_lot2),
        Submit(sell(15, 8, "0.50", "98.250"), t_lot2),
        Submit(sell(16, 9, "0.50", "98.925"), t_lot2),
    ]

    # 4. The TP fills at 99.600: the lot closes with (99.600 − 98.650)·0.50 = 0.475 gross, fees
    #    0.02 % of 49.325 and of 49.800 = 0.009865 + 0.00996. Rebalance at 99.600: longs at 8 and
    #    7 are blocked (lot at 7; its TP sits at L_8); shorts: k' = 10 -> 11 rests, 12 is new
    #    (100.950, 50/100.95 = 0.4953 -> 0.49).
    t4 = t_lot2 + 4 * M1
    step4 = story.fill(eid(1, "t", 9, 1), "99.600", t4)
    assert step4 == [Submit(sell(17, 12, "0.49", "100.950"), t4)]
    desk = story.engine.desk
    assert desk.realised == D("0.475") - D("0.009865") - D("0.00996")
    assert desk.fees == D("0.019825")
    assert desk.closed_lots == 1
    assert [(lot.rung, lot.qty, lot.price) for lot in desk.books[Side.LONG].lots] == [
        (7, D("0.51"), D("97.575"))
    ]

    # 5. A 4h candle closes with the regime turning −2: long entries are canceled, the long lot
    #    is sold at market (reduce-only, its TP canceled first), and no long entry comes back
    #    while the regime stays −2.
    t5 = T0 + H4
    step5 = story.send(tick_candle("4h", T0, "97.000"), t5)
    exit2 = OrderIntent(
        client_order_id=eid(9, "x", 7), symbol=SYMBOL, side=OrderSide.SELL,
        type=OrderType.MARKET, qty=D("0.51"), position_side=long_, reduce_only=True,
        tag="regime_exit",
    )  # fmt: skip
    assert step5 == [
        Cancel(eid(10, "b", 6), t5), Cancel(eid(13, "b", 5), t5), Cancel(eid(14, "b", 4), t5),
        Cancel(eid(9, "t", 7), t5), Submit(exit2, t5),
    ]  # fmt: skip
    # At 95.000 the long side would want rungs 2 and 1; regime −2 holds it back. The short side
    # carries on: k' = 4 (L_4 = 95.550) -> sells at 5 (96.225, 0.5196 -> 0.51) and 6 (96.900).
    later = story.send(tick_candle("1m", t5, "95.000"), t5 + M1)
    assert later == [
        Submit(sell(18, 5, "0.51", "96.225"), t5 + M1),
        Submit(sell(19, 6, "0.51", "96.900"), t5 + M1),
    ]
    assert short is PositionSide.SHORT
