"""The dual-side hedge (hyperrsi spec §15) on real hourly candles in a hedge-mode paper account.

The main trade of the window (a long that averages down three times, then leaves by its
trailing stop; see ``test_scenarios``) is the same with and without the hedge: hedge fills never
touch the main's cooldown, bar lock, entry count or TP ladder (§15.5). The hedge's orders are
derived here from the main's fills.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import pytest

from tbsdk.model import OrderStatus

D = Decimal
HOURLY = "BINANCE_BTC-USDT_1h_2019-2020.csv.gz"
BASE: dict[str, Any] = {
    "use_trend_logic": False,
    "use_trend_close": False,
    "use_dual_side_entry": True,
    "dual_side_entry_trigger": 2,
}


def _floor(x: Decimal, step: Decimal) -> Decimal:
    return (x / step).to_integral_value(ROUND_FLOOR) * step


def _ceil(x: Decimal, step: Decimal) -> Decimal:
    return (x / step).to_integral_value(ROUND_CEILING) * step


@pytest.fixture(scope="module")
def hourly(hr: Any) -> Any:
    return hr.candles(HOURLY).slice(0, 450)


def _by_tag(hr: Any, result: Any) -> dict[str, Any]:
    return {
        o.intent.client_order_id[12:]: o
        for o in result.orders
        if o.intent.client_order_id[7:12] == "00001"
    }


def _main(result: Any) -> list[tuple[Any, ...]]:
    """The main position's orders (hedge tags start with ``h``), book left out."""
    out = []
    for o in result.orders:
        i = o.intent
        if i.client_order_id[12] != "h":
            out.append((i.client_order_id, i.side, i.type, i.qty, i.price, i.trigger_price,
                        i.reduce_only, o.status, o.avg_fill_price))  # fmt: skip
    return out


def test_hedge_opens_after_the_trigger_dca_and_takes_profit_at_the_last_rung(
    hr: Any, hourly: Any
) -> None:
    result = hr.run(hourly, "1h", BASE, hedge=True)
    orders = _by_tag(hr, result)
    ent, d01, d02 = orders["ent00"], orders["d0100"], orders["d0200"]
    main_size = ent.filled_qty + d01.filled_qty
    # §15.2: H* = floor(main size x 30 %), a market order on the opposite (short) book.
    he1 = orders["he100"]
    assert (str(he1.intent.side), str(he1.intent.type), str(he1.intent.position_side)) == (
        "sell", "market", "short",
    )  # fmt: skip
    assert he1.intent.qty == _floor(main_size * D("0.30"), D("0.01"))
    assert not he1.intent.reduce_only
    assert he1.created_at == d01.updated_at  # sent when the DCA fill was processed
    # §15.3 last_dca_on_position: a limit at the main's last rung L_R, floored (short TP).
    avg2 = (ent.avg_fill_price * ent.filled_qty + d01.avg_fill_price * d01.filled_qty) / main_size
    l1 = avg2 * D("0.97")
    l2 = l1 * D("0.97")  # R = 4 - 2 = 2 rungs remain
    htp0 = orders["htp00"]
    assert (str(htp0.intent.side), str(htp0.intent.type), htp0.intent.reduce_only) == (
        "buy", "limit", True,
    )  # fmt: skip
    assert htp0.intent.price == _floor(l2, D("0.1"))
    assert htp0.intent.qty == he1.filled_qty
    # After DCA 2 the ladder has one rung left: the hedge TP follows it.
    size3 = main_size + d02.filled_qty
    avg3 = (avg2 * main_size + d02.avg_fill_price * d02.filled_qty) / size3
    htp1 = orders["htp01"]
    assert htp1.intent.price == _floor(avg3 * D("0.97"), D("0.1"))
    assert htp0.status is OrderStatus.CANCELED
    assert htp1.status is OrderStatus.FILLED
    assert htp1.avg_fill_price == htp1.intent.price
    hedge_trade = next(t for t in result.trades if t.exit_reason == "hedge_tp")
    assert hedge_trade.qty == he1.filled_qty
    # The main trade is untouched by its hedge.
    alone = hr.run(hourly, "1h", {"use_trend_logic": False, "use_trend_close": False})
    assert _main(result) == _main(alone)


def test_hedge_closes_with_its_main_position(hr: Any, hourly: Any) -> None:
    settings = {**BASE, "dual_side_entry_tp_trigger_type": "do_not_close", "use_dual_sl": True,
                "dual_side_entry_sl_value": 10}  # fmt: skip
    result = hr.run(hourly, "1h", settings, hedge=True)
    orders = _by_tag(hr, result)
    he1 = orders["he100"]
    assert "htp00" not in orders  # do_not_close: no take-profit
    # use_dual_sl percent 10: a stop-market 10 % above the hedge's own entry (short hedge).
    hsl = orders["hsl00"]
    assert hsl.intent.trigger_price == _ceil(he1.avg_fill_price * D("1.10"), D("0.1"))
    assert (str(hsl.intent.side), hsl.intent.close_position, str(hsl.intent.position_side)) == (
        "buy", True, "short",
    )  # fmt: skip
    # The main position leaves by its stop; the hedge is closed at market right after (§15.5).
    main_exit = max(
        (o for o in result.orders if o.intent.client_order_id[12:15] == "stp"
         and o.status is OrderStatus.FILLED),
        key=lambda o: o.updated_at,
    )  # fmt: skip
    hxc = orders["hxc00"]
    assert hxc.created_at == main_exit.updated_at
    assert (str(hxc.intent.side), str(hxc.intent.type), hxc.intent.qty) == (
        "buy", "market", he1.filled_qty,
    )  # fmt: skip
    assert hxc.intent.reduce_only
    assert hxc.status is OrderStatus.FILLED
    assert hsl.status is OrderStatus.CANCELED
    assert {t.exit_reason for t in result.trades} >= {"hedge_exit", "stop"}
    # Restarts inside the hedged stretch continue exactly.
    restarted = hr.run(hourly, "1h", settings, hedge=True, restart_at=list(range(288, 300)))
    assert restarted.trades == result.trades
    assert _main(restarted) == _main(result)


def test_hedge_needs_a_hedge_mode_account(hr: Any, hourly: Any) -> None:
    # on_start refuses the settings (a ConfigError naming the field): the bot faults.
    with pytest.raises(AssertionError, match="use_dual_side_entry requires a hedge-mode"):
        hr.run(hourly.slice(0, 10), "1h", BASE)


def _position(result: Any, seq: str) -> dict[str, Any]:
    return {o.client_order_id[12:]: o for o in result.orders if o.client_order_id[7:12] == seq}


def _hedge_trade(result: Any, closed_at: int, direction: str) -> Any:
    return next(t for t in result.trades if (t.closed_at, t.direction) == (closed_at, direction))


def test_a_hedge_tp_filled_in_the_candle_of_a_dca_is_refused_once_not_re_placed(hr: Any) -> None:
    # Position 0000f: DCA 2 fills in the candle where the hedge's TP also filled. The DCA moves
    # the ladder, so the hedge TP is replaced (htp01) before the TP's fill is seen; the venue
    # refuses it (no short position left). It must not be placed again at that moment: the
    # TP's own fill, next, closes the hedge.
    result = hr.run(hr.candles(HOURLY), "1h", {**BASE, "pyramiding_value": "1"}, hedge=True)
    pos = _position(result, "0000f")
    d02, htp0, htp1 = pos["d0200"], pos["htp00"], pos["htp01"]
    assert htp0.status is OrderStatus.FILLED
    assert htp0.updated_at == d02.updated_at == htp1.created_at
    assert htp1.status is OrderStatus.REJECTED
    assert "reduce-only buy with no short position" in (htp1.reason or "")
    assert "htp02" not in pos
    trade = _hedge_trade(result, htp0.updated_at, "short")
    assert trade.exit_reason == "hedge_tp"
    assert (trade.qty, trade.exit_price) == (pos["he100"].filled_qty, htp0.intent.price)


def test_a_hedge_close_refused_because_its_tp_just_filled_is_not_sent_again(hr: Any) -> None:
    # Position 0001d: the main short leaves by the trend in the candle where the hedge's TP
    # filled; the hedge's market close (hxc00), sent before that fill is seen, is refused.
    settings = {**BASE, "use_trend_logic": True, "use_trend_close": True,
                "pyramiding_value": "2", "dual_side_entry_tp_trigger_type": "percent"}  # fmt: skip
    result = hr.run(hr.candles(HOURLY), "1h", settings, hedge=True)
    pos = _position(result, "0001d")
    xtc, htp0, hxc = pos["xtc00"], pos["htp00"], pos["hxc00"]
    assert xtc.status is htp0.status is OrderStatus.FILLED
    assert htp0.updated_at == xtc.updated_at == hxc.created_at
    assert hxc.status is OrderStatus.REJECTED
    assert "hxc01" not in pos
    trade = _hedge_trade(result, htp0.updated_at, "long")
    assert trade.exit_reason == "hedge_tp"
    assert (trade.qty, trade.exit_price) == (pos["he100"].filled_qty, htp0.intent.price)
