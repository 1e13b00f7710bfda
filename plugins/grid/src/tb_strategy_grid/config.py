"""Settings of the grid strategy: grid spec §3 (common), §4.1 (adaptive) and §5.1 (classic).

One frozen model for every mode, so a bot's settings are one document whatever its mode. Checks
that need only the settings run here and name the fields; checks that need the instrument or
the account (spot vs futures, position mode, maximum leverage) run when the bot starts
(:mod:`tb_strategy_grid.market_rules`).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator

from tbsdk import StrategyConfig
from tbsdk.model import MarginMode

__all__ = [
    "CLASSIC_MODES",
    "EvalTimeframe",
    "GridConfig",
    "GridDirection",
    "GridMode",
    "OnStopAction",
    "OrderSizeMode",
    "RangeExitAction",
    "SignalMode",
    "SymbolMode",
]


class GridMode(StrEnum):
    """Engine type (grid spec §1)."""

    ADAPTIVE = "adaptive"
    ARITHMETIC = "arithmetic"
    GEOMETRIC = "geometric"

    @property
    def is_classic(self) -> bool:
        return self is not GridMode.ADAPTIVE


CLASSIC_MODES = frozenset({GridMode.ARITHMETIC, GridMode.GEOMETRIC})


class GridDirection(StrEnum):
    """Sides traded (spot: long only)."""

    LONG = "long"
    SHORT = "short"
    NEUTRAL = "neutral"


class EvalTimeframe(StrEnum):
    """Price-update clock: evaluations run on these closed candles."""

    M1 = "1m"
    M3 = "3m"
    M5 = "5m"
    M15 = "15m"


class SignalMode(StrEnum):
    """Evaluate on closed candles only, or also on ticks."""

    BAR_CLOSE = "bar_close"
    INTRABAR = "intrabar"


class OnStopAction(StrEnum):
    """What stopping the bot does (grid spec §3)."""

    CANCEL_ORDERS = "cancel_orders"
    CLOSE_ALL = "close_all"


class SymbolMode(StrEnum):
    """Adaptive symbol selection (grid spec §4.10)."""

    FIXED = "fixed"
    ROTATION = "rotation"


class OrderSizeMode(StrEnum):
    """Classic per-interval size (grid spec §5.3)."""

    EQUAL_BASE = "equal_base"
    EQUAL_QUOTE = "equal_quote"


class RangeExitAction(StrEnum):
    """What a classic range exit does (grid spec §5.7)."""

    CLOSE_AND_STOP = "close_and_stop"
    CANCEL_AND_STOP = "cancel_and_stop"


LevelCapital = Annotated[Decimal, Field(ge=1, le=1_000_000)]
PositivePrice = Annotated[Decimal, Field(gt=0)]


class GridConfig(StrategyConfig):
    """Every setting of the grid strategy; which ones apply depends on ``mode``."""

    # -- common (grid spec §3) -----------------------------------------------------------------
    mode: GridMode = Field(
        default=GridMode.ADAPTIVE,
        description="Engine type: 'adaptive' (dynamic ladder), 'arithmetic' or 'geometric' "
        "(classic fixed-range grids).",
    )
    exchange_account: str | None = Field(
        default=None,
        description="Host account the orders go to; None = the account the bot is attached to.",
    )
    direction: GridDirection = Field(
        default=GridDirection.LONG,
        description="Sides traded: 'long', 'short' or 'neutral' (short and neutral need futures).",
    )
    leverage: int = Field(
        default=1,
        ge=1,
        le=125,
        description="Notional = margin x leverage; at most the instrument's maximum; 1 on spot.",
    )
    margin_mode: MarginMode = Field(
        default=MarginMode.ISOLATED, description="Futures margin mode: 'isolated' or 'cross'."
    )
    eval_timeframe: EvalTimeframe = Field(
        default=EvalTimeframe.M1,
        description="Evaluations run on closed candles of this timeframe (close = current price).",
    )
    signal_mode: SignalMode = Field(
        default=SignalMode.BAR_CLOSE,
        description="'intrabar' also evaluates on ticks (at least 5 s apart).",
    )
    post_only: bool = Field(
        default=False,
        description="Grid limit orders as maker-only; a post-only rejection is retried at the "
        "next evaluation.",
    )
    warmup_bars: int = Field(
        default=500,
        ge=200,
        le=5000,
        description="History per subscribed timeframe (adaptive), candles.",
    )
    on_stop_action: OnStopAction = Field(
        default=OnStopAction.CANCEL_ORDERS,
        description="On an operator stop: 'cancel_orders' cancels the grid orders and keeps "
        "positions; 'close_all' also closes positions / sells grid inventory at market.",
    )

    # -- adaptive (grid spec §4.1) ---------------------------------------------------------------
    grid_num: int = Field(default=20, ge=4, le=40, description="Number of tradable rungs N.")
    level_capital: tuple[LevelCapital, ...] = Field(
        default=(Decimal(10),),
        min_length=1,
        description="Margin per rung j (quote); a shorter list repeats its last value; "
        "at most grid_num values.",
    )
    band_mult: Decimal = Field(
        default=Decimal("0.5"),
        ge=Decimal("0.1"),
        le=Decimal("2.0"),
        description="Percentage component of the rung spacing: band_mult x 1.2 % per rung.",
    )
    min_gap: Decimal = Field(
        default=Decimal("0.004"),
        ge=Decimal("0.001"),
        le=Decimal("0.05"),
        description="ATR floor (fraction of the centre) and minimum rung spacing.",
    )
    stop_loss_pct: Decimal | None = Field(
        default=None,
        ge=Decimal("0.1"),
        le=Decimal(50),
        description="Per-side stop at this unlevered loss from the side's average, percent; "
        "None = off.",
    )
    custom_stop_minutes: int | None = Field(
        default=None,
        ge=1,
        description="Complete the symbol after this many minutes without an entry fill; "
        "None = off.",
    )
    symbol_mode: SymbolMode = Field(
        default=SymbolMode.FIXED,
        description="'fixed': run the listed symbols; 'rotation' (adaptive): run the best-ranked "
        "symbols of the account, up to max_active_symbols.",
    )
    symbols: tuple[str, ...] = Field(
        default=(),
        description="Adaptive, fixed: the symbols to run (default: 'symbol'); rotation: the "
        "first one sets the market type and quote currency of the rotated symbols.",
    )
    max_active_symbols: int = Field(
        default=5, ge=1, le=20, description="Concurrent symbols in rotation."
    )
    ban_list: tuple[str, ...] = Field(
        default=(), description="Rotation: symbols or base assets never traded."
    )
    white_list: tuple[str, ...] = Field(
        default=(), description="Rotation: if not empty, only these symbols or base assets."
    )
    rank_lookback_days: int = Field(
        default=14, ge=1, le=90, description="Rotation: ranking backtest window, days."
    )
    rank_refresh_minutes: int = Field(
        default=240, ge=15, le=1440, description="Rotation: ranking refresh period, minutes."
    )
    exclude_completed: bool = Field(
        default=True, description="A completed symbol is not restarted during this run."
    )

    # -- classic (grid spec §5.1) ----------------------------------------------------------------
    symbol: str | None = Field(
        default=None, description="Classic: the traded symbol (ccxt unified, e.g. 'BTC/USDT')."
    )
    lower_price: PositivePrice | None = Field(
        default=None, description="Classic: range bottom L_0 (required for classic modes)."
    )
    upper_price: PositivePrice | None = Field(
        default=None, description="Classic: range top L_N, above lower_price (required)."
    )
    grid_count: int = Field(
        default=20, ge=2, le=200, description="Classic: number of intervals N (N + 1 levels)."
    )
    investment: PositivePrice | None = Field(
        default=None, description="Classic: margin committed to the grid, quote (required)."
    )
    order_size_mode: OrderSizeMode = Field(
        default=OrderSizeMode.EQUAL_BASE,
        description="Classic: 'equal_base' (same quantity per interval) or 'equal_quote' "
        "(same quote value per interval).",
    )
    trailing_up: bool = Field(
        default=False,
        description="Classic, direction long only: shift the grid up when price leaves the top.",
    )
    trailing_up_limit_price: PositivePrice | None = Field(
        default=None,
        description="Classic: highest allowed top after trailing shifts (above upper_price); "
        "None = no limit.",
    )
    exit_lower_price: PositivePrice | None = Field(
        default=None,
        description="Classic: exit when an evaluation price is at or below this (below "
        "lower_price).",
    )
    exit_upper_price: PositivePrice | None = Field(
        default=None,
        description="Classic: exit when an evaluation price is at or above this (above "
        "upper_price; not with trailing_up).",
    )
    range_exit_action: RangeExitAction = Field(
        default=RangeExitAction.CLOSE_AND_STOP,
        description="Classic: 'close_and_stop' cancels the grid and closes the position; "
        "'cancel_and_stop' only cancels the grid orders.",
    )

    # -- cross-field rules -----------------------------------------------------------------------
    @model_validator(mode="after")
    def _check(self) -> GridConfig:
        if self.symbol_mode is SymbolMode.ROTATION and self.mode.is_classic:
            raise ValueError(
                f"symbol_mode = rotation is not available in this version with mode = "
                f"{self.mode.value}: it rotates adaptive grids only; use mode = adaptive"
            )
        if self.mode.is_classic:
            self._check_classic()
        elif len(self.level_capital) > self.grid_num:
            raise ValueError(
                f"level_capital has {len(self.level_capital)} values, more than grid_num "
                f"({self.grid_num})"
            )
        return self

    def _check_classic(self) -> None:
        mode = self.mode.value
        missing = [
            name
            for name in ("symbol", "lower_price", "upper_price", "investment")
            if getattr(self, name) is None
        ]
        if missing:
            raise ValueError(f"mode = {mode} needs {', '.join(missing)}")
        lower, upper = self.lower_price, self.upper_price
        assert lower is not None  # checked just above
        assert upper is not None
        if lower >= upper:
            raise ValueError(
                f"lower_price ({lower}) must be below upper_price ({upper}): the range is "
                "inverted or empty"
            )
        if self.trailing_up and self.direction is not GridDirection.LONG:
            raise ValueError(
                f"trailing_up works with direction = long only, not {self.direction.value}"
            )
        limit = self.trailing_up_limit_price
        if limit is not None and limit <= upper:
            raise ValueError(
                f"trailing_up_limit_price ({limit}) must be above upper_price ({upper})"
            )
        if self.exit_lower_price is not None and self.exit_lower_price >= lower:
            raise ValueError(
                f"exit_lower_price ({self.exit_lower_price}) must be below lower_price ({lower})"
            )
        if self.exit_upper_price is not None:
            if self.exit_upper_price <= upper:
                raise ValueError(
                    f"exit_upper_price ({self.exit_upper_price}) must be above upper_price "
                    f"({upper})"
                )
            if self.trailing_up:
                raise ValueError(
                    "exit_upper_price cannot be combined with trailing_up (the grid moves up "
                    "instead of exiting)"
                )

    # -- derived -----------------------------------------------------------------------------
    @property
    def adaptive_symbols(self) -> tuple[str, ...]:
        """Symbols an adaptive bot runs: ``symbols``, else ``symbol`` when set."""
        if self.symbols:
            return self.symbols
        return (self.symbol,) if self.symbol else ()

    def capital_of_rung(self, j: int) -> Decimal:
        """``level_capital`` of rung ``j`` (1-based); a shorter list repeats its last value."""
        if j < 1:
            raise ValueError(f"rungs are numbered from 1, got {j}")
        return self.level_capital[min(j, len(self.level_capital)) - 1]

    def snapshot(self) -> dict[str, Any]:
        """The resolved settings as plain JSON (Decimals as strings), for the persisted state."""
        data: dict[str, Any] = self.model_dump(mode="json")
        return data

    def settings_hash(self) -> str:
        """SHA-256 of :meth:`snapshot` with sorted keys, hex: tells whether settings changed."""
        text = json.dumps(self.snapshot(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()
