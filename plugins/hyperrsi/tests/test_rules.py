"""The decision rules one by one, on the spec's own numbers: signals (§6), sizing (§9), the DCA
ladder (§10), the TP ladder (§11), stop candidates and rounding (§2, §12), ids (§3.3), hedge
prices (§15)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from tb_strategy_hyperrsi import HyperRsiConfig
from tb_strategy_hyperrsi.hedge import hedge_sl_price, hedge_target, hedge_tp_price
from tb_strategy_hyperrsi.ids import client_id, parse_client_id
from tb_strategy_hyperrsi.ladder import dca_ladder
from tb_strategy_hyperrsi.pricing import atr_eff, round_price
from tb_strategy_hyperrsi.signals import entry_signals, signal_arrays
from tb_strategy_hyperrsi.sizing import contracts_for_count, contracts_for_margin
from tb_strategy_hyperrsi.stops import (
    break_even_candidate,
    stop_loss_price,
    trailing_offset,
    trailing_stop_price,
)
from tb_strategy_hyperrsi.take_profit import (
    enabled_levels,
    placed_levels,
    tp_prices,
    tp_sizes,
    tp_weights,
)
from tbsdk.ids import bot_key
from tbsdk.model import Instrument, MarketType

D = Decimal
NAN = math.nan


def _inst(**update: Any) -> Instrument:
    base = Instrument(
        exchange="x", symbol="BTC/USDT:USDT", base="BTC", quote="USDT", settle="USDT",
        type=MarketType.SWAP, contract_size=D("0.01"), tick_size=D("0.1"), lot_step=D("0.01"),
        min_size=D("0.01"),
    )  # fmt: skip
    return base.model_copy(update=update)


def _cfg(**settings: Any) -> HyperRsiConfig:
    return HyperRsiConfig.model_validate(settings)


# -- §6 signals ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("option", "prev", "cur", "expected"),
    [
        ("breakout", 31.2, 29.4, (True, False)),  # §20 step 1
        ("breakout", 30.8, 28.9, (True, False)),  # §20 step 2
        ("breakout", 30.0, 29.0, (False, False)),  # prev must be above OS
        ("breakout", 31.0, 30.0, (True, False)),  # cur at OS counts
        ("breakout", 69.0, 70.0, (False, True)),
        ("breakout", 70.0, 75.0, (False, False)),
        ("inflection", 25.0, 27.0, (True, False)),  # turns up in the zone
        ("inflection", 29.0, 31.0, (True, False)),  # prev in the zone
        ("inflection", 31.0, 32.0, (False, False)),
        ("inflection", 75.0, 72.0, (False, True)),
        ("inflection", 75.0, 76.0, (False, False)),
        ("inflection_breakout", 28.0, 30.0, (True, False)),  # leaves oversold upward
        ("inflection_breakout", 30.0, 35.0, (False, False)),
        ("inflection_breakout", 72.0, 70.0, (False, True)),
        ("exceed", 50.0, 29.9, (True, False)),
        ("exceed", 50.0, 30.0, (False, False)),
        ("exceed", 50.0, 70.1, (False, True)),
    ],
)
def test_signal_table(option: str, prev: float, cur: float, expected: tuple[bool, bool]) -> None:
    assert entry_signals(option, prev, cur, False, False, 30.0, 70.0) == expected
    long, short = signal_arrays(option, np.array([prev, cur]), np.zeros(2, dtype=bool), 30.0, 70.0)
    assert (bool(long[1]), bool(short[1])) == expected
    assert not long[0]
    assert not short[0]


def test_no_signal_on_nan_or_flat() -> None:
    for option in ("breakout", "inflection", "inflection_breakout", "exceed"):
        assert entry_signals(option, NAN, 10.0, False, False, 30, 70) == (False, False)
        assert entry_signals(option, 40.0, 0.0, False, True, 30, 70) == (False, False)
        assert entry_signals(option, 0.0, 10.0, True, False, 30, 70) == (False, False)
        long, short = signal_arrays(
            option, np.array([40.0, 0.0, 20.0]), np.array([False, True, False]), 30, 70
        )
        assert not long.any()
        assert not short.any()


# -- §9 sizing ----------------------------------------------------------------------------
def test_entry_size_of_the_worked_example() -> None:
    sized = contracts_for_margin(D(20), 10, D("60000.0"), _inst())
    assert sized.qty == D("0.33")  # floor_to(200 / 600, 0.01)
    assert sized.adjusted is None
    assert contracts_for_margin(D(20), 10, D("58150.0"), _inst()).qty == D("0.34")  # §20 DCA


def test_size_raised_to_the_minimum_and_capped_at_the_maximum() -> None:
    small = contracts_for_margin(D(1), 1, D("60000"), _inst(min_size=D("0.05")))
    assert small.qty == D("0.05")
    assert small.adjusted is not None
    assert "minimum" in small.adjusted
    big = contracts_for_margin(D(100_000), 10, D("60000"), _inst(max_size=D(100)))
    assert big.qty == D(100)
    assert big.adjusted is not None
    assert contracts_for_count(D("0.5"), D("1.5") ** 2, _inst()).qty == D("1.12")


# -- §10 ladder ---------------------------------------------------------------------------
def test_dca_ladder_of_the_worked_example() -> None:
    ladder = dca_ladder(D("60010.0"), 1, "percent", D("3.0"), NAN, 3)
    assert ladder == [D("58209.7"), D("56463.409"), D("54769.50673")]
    avg = (D("60010.0") * D("0.33") + D("58155.0") * D("0.34")) / D("0.67")
    (first, *_rest) = dca_ladder(avg, 1, "percent", D("3.0"), NAN, 2)
    assert first.quantize(D("0.001")) == D("57296.597")
    assert dca_ladder(avg, 1, "percent", D(3), NAN, 0) == []


def test_dca_ladder_price_and_atr_units() -> None:
    assert dca_ladder(D(100), -1, "price", D(5), NAN, 2) == [D(105), D(110)]  # short: up
    # ATR_eff = max(ATR14, 0.001 x r) with ref = r for every rung.
    assert dca_ladder(D(1000), 1, "atr", D(2), 0.5, 2) == [D(998), D(996)]
    atr = 12.25
    assert dca_ladder(D(1000), 1, "atr", D(2), atr, 1) == [D(1000) - D("24.5")]
    assert atr_eff(NAN, D(1000)) == D(1)


# -- §11 TP ladder ------------------------------------------------------------------------
def test_tp_prices_and_sizes_of_the_worked_example() -> None:
    cfg = _cfg(use_sl=True, trailing_start_point="tp2")
    inst = _inst()
    prices = tp_prices(cfg, 1, D("60010.0"), D("60010.0"), NAN, inst)
    assert prices == {1: D("61210.2"), 2: D("61810.3"), 3: D("62410.4")}
    enabled = enabled_levels(cfg)
    assert enabled == [1, 2, 3]
    placed = placed_levels(cfg, enabled)
    assert placed == [1, 2]  # tp2 is the start level and not the highest: placed; tp3 not
    weights = tp_weights(cfg, enabled)
    assert weights == {1: D("0.3"), 2: D("0.3"), 3: D("0.4")}
    assert tp_sizes(D("0.33"), placed, weights, True, inst) == {1: D("0.09"), 2: D("0.09")}
    avg = (D("60010.0") * D("0.33") + D("58155.0") * D("0.34")) / D("0.67")
    rebuilt = tp_prices(cfg, 1, avg, D("58155.0"), NAN, inst)
    assert (rebuilt[1], rebuilt[2]) == (D("60250.1"), D("60840.8"))
    assert tp_sizes(D("0.67"), placed, weights, True, inst) == {1: D("0.20"), 2: D("0.20")}


def test_default_start_level_is_not_placed_and_without_trailing_the_last_takes_the_rest() -> None:
    cfg = _cfg()
    assert placed_levels(cfg, enabled_levels(cfg)) == [1, 2]
    off = _cfg(trailing_stop_active=False)
    placed = placed_levels(off, enabled_levels(off))
    assert placed == [1, 2, 3]
    sizes = tp_sizes(D("0.67"), placed, tp_weights(off, [1, 2, 3]), False, _inst())
    assert sizes == {1: D("0.20"), 2: D("0.20"), 3: D("0.27")}
    tp1 = _cfg(trailing_start_point="tp1")
    assert placed_levels(tp1, enabled_levels(tp1)) == [1]


def test_tp_ratios_pair_by_level_when_a_level_is_off() -> None:
    """§21.7: disabling TP2 must not give TP3 the TP2 ratio."""
    cfg = _cfg(use_tp2=False, tp1_ratio=25, tp3_ratio=75, trailing_stop_active=False)
    enabled = enabled_levels(cfg)
    assert enabled == [1, 3]
    weights = tp_weights(cfg, enabled)
    assert weights == {1: D("0.25"), 3: D("0.75")}
    assert tp_sizes(D(1), placed_levels(cfg, enabled), weights, False, _inst()) == {
        1: D("0.25"),
        3: D("0.75"),
    }


def test_tp_sizes_raised_to_min_and_zero_sized_levels() -> None:
    inst = _inst(min_size=D("0.05"))
    weights = {1: D("0.3"), 2: D("0.3"), 3: D("0.4")}
    # 0.06 x 0.3 = 0.018 -> 0.01 -> raised to 0.05; level 2 capped at the remaining 0.01.
    assert tp_sizes(D("0.06"), [1, 2], weights, True, inst) == {1: D("0.05"), 2: D("0.01")}
    assert tp_sizes(D("0.05"), [1, 2], weights, True, inst) == {1: D("0.05"), 2: D(0)}


def test_tp_clamp_and_short_rounding() -> None:
    cfg = _cfg(tp_option="price", tp1_value=D("0.001"), tp2_value=D(1), tp3_value=D(2))
    inst = _inst()
    # raw 100.001 is inside TP_MIN_DIST of the fill 100.5: clamped to 100.5 x 1.0001.
    prices = tp_prices(cfg, 1, D(100), D("100.5"), NAN, inst)
    assert prices[1] == D("100.6")  # ceil(100.51005)
    short = tp_prices(_cfg(), -1, D("60010.0"), D("60010.0"), NAN, inst)
    assert short[1] == D("58809.8")  # floor(58809.8)
    assert short[3] == D("57609.6")


# -- §12 stops and §2 rounding ------------------------------------------------------------
def test_rounding_table() -> None:
    inst = _inst()
    x = D("100.05")
    assert round_price(x, "take_profit", 1, inst) == D("100.1")
    assert round_price(x, "take_profit", -1, inst) == D("100.0")
    assert round_price(x, "loss_stop", 1, inst) == D("100.0")
    assert round_price(x, "loss_stop", -1, inst) == D("100.1")
    assert round_price(x, "lock_in", 1, inst) == D("100.1")
    assert round_price(x, "lock_in", -1, inst) == D("100.0")


def test_stop_loss_of_the_worked_example_and_on_last() -> None:
    cfg = _cfg(use_sl=True)
    inst = _inst()
    ladder = [D("58209.7"), D("56463.409"), D("54769.50673")]
    assert stop_loss_price(cfg, 1, D("60010.0"), ladder, 1, NAN, inst) == D("57009.5")
    avg = (D("60010.0") * D("0.33") + D("58155.0") * D("0.34")) / D("0.67")
    assert stop_loss_price(cfg, 1, avg, [], 2, NAN, inst) == D("56115.2")
    on_last = _cfg(use_sl=True, use_sl_on_last=True)
    # Anchored beyond L3 until the ladder is full: floor(54 769.50673 x 0.95).
    assert stop_loss_price(on_last, 1, D("60010.0"), ladder, 1, NAN, inst) == D("52031.0")
    assert stop_loss_price(on_last, 1, D("60010.0"), ladder, 4, NAN, inst) == D("57009.5")
    assert stop_loss_price(_cfg(), 1, D("60010.0"), ladder, 1, NAN, inst) is None
    short = stop_loss_price(cfg, -1, D("60010.0"), [], 1, NAN, inst)
    assert short == D("63010.5")  # ceil(60010 x 1.05)


def test_break_even_candidates() -> None:
    cfg = _cfg()
    inst = _inst()
    avg = (D("60010.0") * D("0.33") + D("58155.0") * D("0.34")) / D("0.67")
    prices = {1: D("60250.1"), 2: D("60840.8"), 3: D("61431.5")}
    assert break_even_candidate(cfg, 1, 1, avg, prices, [1, 2, 3], inst) == D("59068.7")
    assert break_even_candidate(cfg, 2, 1, avg, prices, [1, 2, 3], inst) == D("60250.1")
    assert break_even_candidate(cfg, 3, 1, avg, prices, [1, 2, 3], inst) == D("60840.8")
    # TP1 not enabled: the TP2 rule falls back to the average.
    assert break_even_candidate(cfg, 2, 1, avg, prices, [2, 3], inst) == D("59068.7")
    off = _cfg(use_break_even=False)
    assert break_even_candidate(off, 1, 1, avg, prices, [1, 2, 3], inst) is None
    assert break_even_candidate(cfg, 1, -1, avg, prices, [1, 2, 3], inst) == D("59068.6")


def test_trailing_offset_and_stop() -> None:
    cfg = _cfg()
    inst = _inst()
    prices = {1: D("60250.1"), 2: D("60840.8"), 3: D("61431.5")}
    offset = trailing_offset(cfg, D("60840.8"), prices)
    assert offset == D("304.204")
    assert trailing_stop_price(D("60840.8"), offset, 1, inst) == D("60536.5")
    assert trailing_stop_price(D("61300.0"), offset, 1, inst) == D("60995.7")
    assert trailing_stop_price(D("61420.0"), offset, 1, inst) == D("61115.7")
    diff = _cfg(trailing_stop_type="tp2_tp3_difference")
    assert trailing_offset(diff, D("61431.5"), prices) == D("590.7")
    assert trailing_offset(diff, D("61431.5"), {1: D(1), 3: D(2)}) == D("307.1575")
    tiny = _cfg(trailing_stop_offset_value=D("0.1"), trailing_stop_type="tp2_tp3_difference")
    # |TP3 - TP2| = 0.1 is below the 0.1 % floor of the start price.
    assert trailing_offset(tiny, D(1000), {2: D("1000"), 3: D("1000.1")}) == D(1)


# -- §3.3 ids -----------------------------------------------------------------------------
def test_client_ids() -> None:
    bot6 = bot_key("acct", "bot-1")
    cid = client_id(bot6, 1, "tp1", 0)
    assert len(cid) == 17
    assert cid == f"h{bot6}00001tp100"
    assert client_id(bot6, 36**5 - 1, "stp", 36**2 - 1).endswith("zzzzzstpzz")
    parsed = parse_client_id(client_id(bot6, 123, "d03", 37))
    assert parsed is not None
    assert (parsed.bot6, parsed.seq, parsed.tag, parsed.rev) == (bot6, 123, "d03", 37)
    assert parse_client_id("x" + cid[1:]) is None
    with pytest.raises(ValueError, match="unknown order tag"):
        client_id(bot6, 1, "zzz", 0)
    with pytest.raises(ValueError, match="does not fit"):
        client_id(bot6, 1, "stp", 36**2)


# -- §15 hedge ----------------------------------------------------------------------------
def test_hedge_target_and_prices() -> None:
    inst = _inst()
    cfg = _cfg(use_dual_side_entry=True)
    assert hedge_target(cfg, D("1.01"), inst) == D("0.30")  # floor(1.01 x 30 %)
    assert hedge_target(cfg, D("0.02"), inst) == D("0.01")  # at least the minimum
    ladder = [D("58000"), D("56263.45")]
    # A short hedge of a long main: TP at the main's last rung, rounded down (short TP).
    assert hedge_tp_price(cfg, -1, D(57000), ladder, None, inst) == D("56263.4")
    pct = _cfg(use_dual_side_entry=True, dual_side_entry_tp_trigger_type="percent")
    assert hedge_tp_price(pct, -1, D(57000), ladder, None, inst) == D("56829.0")  # below
    assert hedge_tp_price(pct, 1, D(57000), ladder, None, inst) == D("57171.0")  # above
    existing = _cfg(
        use_dual_side_entry=True, dual_side_entry_tp_trigger_type="existing_position",
        dual_side_entry_tp_value=1,
    )  # fmt: skip
    assert hedge_tp_price(existing, -1, D(57000), ladder, None, inst) is None
    assert hedge_tp_price(existing, -1, D(57000), ladder, D("55000.0"), inst) == D("55000.0")
    sl = _cfg(use_dual_side_entry=True, use_dual_sl=True)
    assert hedge_sl_price(sl, -1, D(57000), {}, inst) == D("59850.0")  # short hedge: above
    at_tp = _cfg(
        use_dual_side_entry=True, use_dual_sl=True,
        dual_side_entry_sl_trigger_type="existing_position", dual_side_entry_sl_value=2,
    )  # fmt: skip
    assert hedge_sl_price(at_tp, -1, D(57000), {2: D("60840.8")}, inst) == D("60840.8")
