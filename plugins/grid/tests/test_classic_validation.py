"""Impossible grids are refused before any order, with a message saying which rule and by how
much (grid spec §5.1, §5.3, §3 position-mode and market rules)."""

from __future__ import annotations

import sys
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib

from classic_kit import BTC_SPOT, EXAMPLE_SPOT, EXAMPLE_SWAP, flat, run, settings

from tb_strategy_grid import strategy as grid_strategy
from tbsdk.errors import ConfigError
from tbsdk.model import Instrument, PositionMode
from tbsdk.testing import MemoryContext

D = Decimal


def _refused(
    config: dict[str, object],
    inst: Instrument,
    closes: tuple[float, ...],
    position_mode: PositionMode = PositionMode.ONE_WAY,
) -> tuple[str, MemoryContext]:
    ctx = MemoryContext(inst, position_mode=position_mode)
    with pytest.raises(ConfigError) as err:
        run(config, flat(*closes), inst, ctx=ctx, position_mode=position_mode)
    assert ctx.submitted == []  # refused before any order
    return err.value.message, ctx


def test_an_interval_narrower_than_two_ticks_is_refused() -> None:
    # 100 .. 100.05 in 5 intervals of 0.01 = one tick of 0.01 each.
    inst = BTC_SPOT.model_copy(update={"symbol": EXAMPLE_SPOT.symbol})
    config = settings(lower_price="100", upper_price="100.05", grid_count=5)
    message, ctx = _refused(config, inst, (100.02,))
    assert message == (
        "interval 0 [100.00, 100.01] is 0.01 wide after rounding to the tick 0.01; every "
        "interval needs at least 2 ticks (0.02), 0.01 more: use a smaller grid_count or a "
        "wider range"
    )
    assert ctx.notifications[-1].kind == "error"


def test_rounding_can_make_an_interval_too_narrow() -> None:
    # Geometric 1 .. 1.06, tick 0.01. N = 3: 1.0196.. -> 1.02, 1.0396.. -> 1.04, every interval
    # 2 ticks. N = 4: 1.0147.. -> 1.01, so the first interval [1.00, 1.01] is a single tick.
    inst = BTC_SPOT.model_copy(update={"symbol": EXAMPLE_SPOT.symbol, "min_notional": D(0)})
    ok = settings(mode="geometric", lower_price="1", upper_price="1.06", grid_count=3)
    run(ok, flat(1.03), inst)
    bad = settings(mode="geometric", lower_price="1", upper_price="1.06", grid_count=4)
    message, _ = _refused(bad, inst, (1.03,))
    assert message.startswith("interval 0 [1.00, 1.01] is 0.01 wide")


def test_sizes_raised_by_the_minimum_notional_beyond_10_percent_are_refused() -> None:
    # 50 USDT over 20 intervals at ~69 609 is 0.0000359 BTC (2.5 USDT) per order; Binance wants
    # 5 USDT, so each interval rises to ceil(5 / L_j, 0.00001).
    config = {
        "mode": "arithmetic", "symbol": "BTC/USDT", "lower_price": "64000",
        "upper_price": "70000", "grid_count": 20, "investment": "50",
    }  # fmt: skip
    message, ctx = _refused(config, BTC_SPOT, (69609.03,))
    lot = D("0.00001")
    levels = [D(64000) + 300 * j for j in range(20)]
    qtys = [(D(5) / lv / lot).to_integral_value(ROUND_CEILING) * lot for lv in levels]
    commitment = sum(q * D("69609.03") for q in qtys)
    over = (commitment / 50 - 1) * 100
    assert f"commit {commitment:.2f} USDT against an investment of 50 ({over:.1f} % over" in (
        message
    )
    assert "interval 0: 0.00003 raised to 0.00008 by the minimum notional 5 USDT at 64000" in (
        message
    )
    assert ctx.notifications[-1].kind == "error"


def test_sizes_raised_within_10_percent_are_accepted_with_a_warning() -> None:
    inst = BTC_SPOT.model_copy(update={"min_notional": D("9.0")})
    config = {
        "mode": "arithmetic", "symbol": "BTC/USDT", "lower_price": "64000",
        "upper_price": "70000", "grid_count": 10, "investment": "100",
    }  # fmt: skip
    # q = floor(100 / (10 · 69609.03), 1e-5) = 0.00014; 0.00014 · L_j < 9.0 only at L_0 = 64000
    # (8.96): that interval rises to ceil(9 / 64000, 1e-5) = 0.00015, 1.4 % more in all.
    result = run(config, flat(69609.03), inst)
    qtys = [D(x) for x in result.state["symbols"]["BTC/USDT"]["qtys"]]
    assert qtys == [D("0.00015")] + [D("0.00014")] * 9
    warnings = [n for n in result.notifications if n.kind == "warning"]
    assert "0.00014 raised to 0.00015 by the minimum notional 9.0 USDT at 64000" in (
        warnings[0].message
    )


def test_intervals_below_twice_the_taker_fee_warn() -> None:
    # 100 .. 101 in 10 intervals: 0.1 % wide at the bottom, fee 0.1 %: pairs lose money.
    result = run(settings(lower_price="100", upper_price="101"), flat(100.5), EXAMPLE_SPOT)
    warning = next(n for n in result.notifications if n.kind == "warning")
    assert warning.message == (
        f"{EXAMPLE_SPOT.symbol}: the smallest interval 9 [100.900, 101.000] is 0.0991 % wide, "
        "below twice the taker fee (0.200 %): a pair on it loses money after fees"
    )
    assert result.ctx.submitted  # a warning, not a refusal


@pytest.mark.parametrize(
    ("over", "inst", "mode", "message"),
    [
        ({"direction": "short"}, EXAMPLE_SPOT, PositionMode.ONE_WAY,
         "direction = short needs a futures instrument"),
        ({"direction": "neutral"}, EXAMPLE_SPOT, PositionMode.ONE_WAY,
         "direction = neutral needs a futures instrument"),
        ({"leverage": 2}, EXAMPLE_SPOT, PositionMode.ONE_WAY, "spot is unlevered, use 1"),
        ({"leverage": 101, "symbol": EXAMPLE_SWAP.symbol}, EXAMPLE_SWAP, PositionMode.ONE_WAY,
         "leverage = 101 is above the maximum 100"),
        ({"direction": "neutral", "symbol": EXAMPLE_SWAP.symbol}, EXAMPLE_SWAP,
         PositionMode.HEDGE, "direction = neutral needs a one_way account; this account is hedge"),
    ],
)  # fmt: skip
def test_market_and_account_rules(
    over: dict[str, object], inst: Instrument, mode: PositionMode, message: str
) -> None:
    got, _ = _refused(settings(**over), inst, (100.7,), position_mode=mode)
    assert message in got


def test_adaptive_mode_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grid_strategy, "_ADAPTIVE_MODULE", "tb_strategy_grid.no_such_module")
    with pytest.raises(ConfigError, match="mode = adaptive is not available"):
        grid_strategy._adaptive_engine_class()


def test_a_state_of_another_bot_is_refused() -> None:
    result = run(settings(), flat(100.7), EXAMPLE_SPOT)
    state = {**result.state, "bot6": "zzzzzz"}
    with pytest.raises(ConfigError, match="the saved state belongs to another bot"):
        run(settings(), flat(100.7), EXAMPLE_SPOT, state=state)
