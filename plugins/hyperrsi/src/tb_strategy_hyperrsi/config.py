"""HYPERRSI settings: every setting of hyperrsi spec §4.1, §4.2, §15.1 and ``preset_id`` (§18).

The config is frozen and resolved once (defaults ⊕ preset ⊕ overrides, :mod:`.presets`); every
decision reads this snapshot. Cross-field rules (§4, :mod:`.validation`) are checked together and
refused with every reason listed, each naming its fields. Rules that need the venue (leverage
limit, position mode, minimum size) are checked at ``on_start``
(:func:`.validation.venue_problems`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from tbsdk import StrategyConfig

from .presets import apply_preset

__all__ = ["ChartTimeframe", "HyperRsiConfig"]

ChartTimeframe = Literal["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d"]
TrendTimeframe = Literal["auto", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "1d", "2d", "3d"]
DistanceUnit = Literal["percent", "price", "atr"]
TpLevelName = Literal["tp1", "tp2", "tp3"]

_D = Decimal


class HyperRsiConfig(StrategyConfig):
    """Settings of one HYPERRSI bot (hyperrsi spec §4)."""

    # -- §4.1 market, sizing, signal -------------------------------------------------------
    symbol: str = Field(
        default="BTC/USDT:USDT",
        min_length=1,
        description="Linear (quote-margined) perpetual or futures contract, ccxt unified symbol.",
    )
    timeframe: ChartTimeframe = Field(
        default="1m", description="Chart timeframe: RSI, ATR and every decision use its bars."
    )
    signal_mode: Literal["bar_close", "intrabar"] = Field(
        default="bar_close",
        description="bar_close: decide on closed bars; intrabar: also evaluate entries, DCAs and "
        "trailing on ticks with a provisional RSI (spec §5.2).",
    )
    intrabar_min_interval_s: int = Field(
        default=5, ge=1, le=60, description="Minimum spacing of intrabar evaluations, seconds."
    )
    warmup_bars: int = Field(
        default=1000, ge=200, le=5000, description="Closed candles of history per timeframe."
    )
    direction: Literal["long", "short", "both"] = Field(
        default="both", description="Sides allowed to open a position."
    )
    investment_type: Literal["margin_quote", "percent_of_equity", "contracts"] = Field(
        default="margin_quote",
        description="Meaning of investment: margin in quote currency, percent of account "
        "equity, or a number of contracts (spec §9).",
    )
    investment: Decimal = Field(
        default=_D(20),
        gt=0,
        description="Initial entry size basis: margin_quote 1-1,000,000; percent_of_equity "
        "0.1-100; contracts >= the instrument's minimum size.",
    )
    leverage: int = Field(
        default=10, ge=1, le=125, description="Leverage: notional = margin x leverage."
    )
    margin_mode: Literal["isolated", "cross"] = Field(
        default="isolated", description="Venue margin mode for the symbol."
    )
    rsi_length: int = Field(default=14, ge=2, le=100, description="Wilder RSI period, bars.")
    rsi_oversold: float = Field(
        default=30.0, ge=0, le=100, description="Oversold level: long signals (spec §6)."
    )
    rsi_overbought: float = Field(
        default=70.0, ge=0, le=100, description="Overbought level: short signals (spec §6)."
    )
    entry_option: Literal["breakout", "inflection", "inflection_breakout", "exceed"] = Field(
        default="breakout", description="RSI signal variant (spec §6)."
    )
    use_trend_logic: bool = Field(
        default=True,
        description="Veto long entries/DCAs at trend state -2 and short ones at +2 (spec §7).",
    )
    trend_timeframe: TrendTimeframe = Field(
        default="auto", description="Cycle timeframe of the trend state; auto per spec §7.1."
    )
    use_longer_trend: bool = Field(
        default=False, description="Daily cycle plus 4h VIDYA confirmation (spec §7.2-7.3)."
    )
    longer_trend_ma: Literal["ema", "t3"] = Field(
        default="ema", description="Moving average of the longer-trend cycle (spec §7.2)."
    )
    use_trend_close: bool = Field(
        default=True,
        description="Close the position when the trend state reaches the opposite extreme "
        "(spec §13).",
    )

    # -- §4.2 DCA, take-profit, stops --------------------------------------------------------
    pyramiding_limit: int = Field(
        default=4, ge=1, le=10, description="Maximum entries per position, the first included."
    )
    entry_multiplier: Decimal = Field(
        default=_D("1.0"),
        ge=_D("0.1"),
        le=_D(5),
        description="DCA k is sized multiplier^k times the base size.",
    )
    pyramiding_entry_type: DistanceUnit = Field(
        default="percent", description="Unit of the DCA distance (spec §10)."
    )
    pyramiding_value: Decimal = Field(
        default=_D("3.0"),
        gt=0,
        description="DCA distance: percent 0.05-50; price > 0; atr multiple 0.1-50.",
    )
    entry_criterion: Literal["average_price", "last_entry"] = Field(
        default="average_price", description="Reference price of the DCA ladder (spec §10)."
    )
    use_check_dca_with_price: bool = Field(
        default=True, description="A DCA needs the price at or beyond the first DCA level."
    )
    use_rsi_with_pyramiding: bool = Field(
        default=True, description="A DCA needs the side's entry signal on its bar."
    )
    tp_option: DistanceUnit = Field(
        default="percent", description="Unit of the take-profit distances (spec §11)."
    )
    use_tp1: bool = Field(default=True, description="Enable take-profit level 1.")
    use_tp2: bool = Field(default=True, description="Enable take-profit level 2.")
    use_tp3: bool = Field(default=True, description="Enable take-profit level 3.")
    tp1_value: Decimal = Field(
        default=_D("2.0"), ge=0, description="TP1 distance (> 0 when enabled; percent <= 1000)."
    )
    tp2_value: Decimal = Field(
        default=_D("3.0"), ge=0, description="TP2 distance (> 0 when enabled; percent <= 1000)."
    )
    tp3_value: Decimal = Field(
        default=_D("4.0"), ge=0, description="TP3 distance (> 0 when enabled; percent <= 1000)."
    )
    tp1_ratio: Decimal = Field(
        default=_D(30), ge=0, le=100, description="Share of the position for TP1 (normalised)."
    )
    tp2_ratio: Decimal = Field(
        default=_D(30), ge=0, le=100, description="Share of the position for TP2 (normalised)."
    )
    tp3_ratio: Decimal = Field(
        default=_D(40), ge=0, le=100, description="Share of the position for TP3 (normalised)."
    )
    use_sl: bool = Field(default=False, description="Keep a stop-loss (spec §12.1).")
    sl_option: DistanceUnit = Field(default="percent", description="Unit of the stop distance.")
    sl_value: Decimal = Field(
        default=_D("5.0"),
        gt=0,
        description="Stop distance: percent 0.1-99; price > 0; atr multiple 0.1-50.",
    )
    use_sl_on_last: bool = Field(
        default=False,
        description="Anchor the stop beyond the last DCA level until the ladder is full.",
    )
    use_break_even: bool = Field(
        default=True, description="TP1 reached: stop to the average entry price."
    )
    use_break_even_tp2: bool = Field(
        default=True, description="TP2 reached: stop to the TP1 price."
    )
    use_break_even_tp3: bool = Field(
        default=True, description="TP3 reached: stop to the TP2 price."
    )
    trailing_stop_active: bool = Field(
        default=True, description="Trail a stop once the start level is reached (spec §12.4)."
    )
    trailing_start_point: TpLevelName = Field(
        default="tp3", description="TP level whose reach activates trailing."
    )
    trailing_stop_type: Literal["fixed_percent", "tp2_tp3_difference"] = Field(
        default="fixed_percent", description="Trailing offset rule (spec §12.4)."
    )
    trailing_stop_offset_value: Decimal = Field(
        default=_D("0.5"),
        ge=_D("0.1"),
        le=_D(20),
        description="Trailing offset for fixed_percent, percent of the start level price.",
    )
    use_cooldown: bool = Field(
        default=True, description="Per-side cooldown after entries, DCAs and exits (§14.1)."
    )
    cooldown_time: int = Field(default=300, ge=0, le=3000, description="Cooldown, seconds.")
    max_consecutive_entry_failures: int = Field(
        default=5, ge=1, le=50, description="Pause entries after this many failed entries/DCAs."
    )
    on_stop_action: Literal["keep_position", "close_position"] = Field(
        default="keep_position",
        description="On stop: keep the position with its TPs and stop, or close it (§8.8).",
    )

    # -- §15.1 dual-side hedge ---------------------------------------------------------------
    use_dual_side_entry: bool = Field(
        default=False, description="Open an opposite-side hedge after deep DCA (hedge accounts)."
    )
    dual_side_entry_trigger: int = Field(
        default=3, ge=2, le=10, description="Main entry count at/after which DCAs open the hedge."
    )
    dual_side_entry_ratio_type: Literal["percent_of_position", "contracts"] = Field(
        default="percent_of_position", description="Unit of the hedge target size."
    )
    dual_side_entry_ratio_value: Decimal = Field(
        default=_D(30),
        gt=0,
        description="Hedge target: percent of the main size 1-100, or contracts >= min size.",
    )
    dual_side_pyramiding_limit: int = Field(
        default=1, ge=1, le=10, description="Maximum hedge entries."
    )
    dual_side_entry_tp_trigger_type: Literal[
        "do_not_close", "existing_position", "last_dca_on_position", "percent"
    ] = Field(default="last_dca_on_position", description="Hedge take-profit rule (§15.3).")
    dual_side_entry_tp_value: Decimal = Field(
        default=_D("0.3"),
        gt=0,
        description="Hedge TP: percent 0.05-100, or the main TP level 1-3 (existing_position).",
    )
    close_main_on_hedge_tp: bool = Field(
        default=False, description="Close the main position when the hedge takes profit."
    )
    use_dual_sl: bool = Field(default=False, description="Keep a hedge stop-loss.")
    dual_side_entry_sl_trigger_type: Literal["percent", "existing_position"] = Field(
        default="percent", description="Hedge stop rule (§15.3)."
    )
    dual_side_entry_sl_value: Decimal = Field(
        default=_D(5),
        gt=0,
        description="Hedge stop: percent 0.1-99, or the main TP level 1-3 (existing_position).",
    )

    # -- §18 ---------------------------------------------------------------------------------
    preset_id: str | None = Field(
        default=None,
        description="Built-in preset ('name' or 'name@version') applied under these settings.",
    )

    @model_validator(mode="before")
    @classmethod
    def _resolve_preset(cls, data: Any) -> Any:
        # defaults ⊕ preset ⊕ overrides (spec §18): the preset fills only what is not given.
        return apply_preset(data)

    @model_validator(mode="after")
    def _cross_field_rules(self) -> HyperRsiConfig:
        from .validation import cross_field_problems

        reasons = cross_field_problems(self)
        if reasons:
            raise ValueError("; ".join(reasons))
        return self

    # -- derived -----------------------------------------------------------------------------
    def tp_value(self, level: int) -> Decimal:
        return (self.tp1_value, self.tp2_value, self.tp3_value)[level - 1]

    def tp_ratio(self, level: int) -> Decimal:
        return (self.tp1_ratio, self.tp2_ratio, self.tp3_ratio)[level - 1]

    def tp_enabled(self, level: int) -> bool:
        """Level in the enabled set E of §11: switched on, a distance and a share."""
        on = (self.use_tp1, self.use_tp2, self.use_tp3)[level - 1]
        return on and self.tp_value(level) > 0 and self.tp_ratio(level) > 0

    @property
    def trailing_level(self) -> int:
        return int(self.trailing_start_point[2])

    @property
    def uses_trend(self) -> bool:
        return self.use_trend_logic or self.use_trend_close
