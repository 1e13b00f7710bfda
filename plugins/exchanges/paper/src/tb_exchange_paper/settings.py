"""Fill-rule settings of the paper exchange: every assumption the matching engine makes.

All rules are documented in the package README; each field below names its default and what
it changes. The config is frozen, so an engine's behaviour cannot drift during a run.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from tbsdk import ExchangeConfig
from tbsdk.model import Instrument, MarginMode, PositionMode

__all__ = ["LimitFillRule", "PaperConfig"]


class LimitFillRule(StrEnum):
    """When a resting limit order counts as filled by a candle.

    ``through``: the price must trade strictly beyond the limit (a buy at 100 fills only if the
    low is below 100). ``touch``: reaching the limit is enough (low <= 100).
    """

    THROUGH = "through"
    TOUCH = "touch"


class PaperConfig(ExchangeConfig):
    """Settings of :class:`~tb_exchange_paper.PaperExchange` (entry point ``paper``)."""

    instruments: tuple[Instrument, ...] = Field(
        default=(), description="Markets the venue lists; load_markets returns them by symbol."
    )
    balances: dict[str, Decimal] = Field(
        default_factory=lambda: {"USDT": Decimal(10_000)},
        description="Starting wallet balance per currency.",
    )
    slippage_bps: Decimal = Field(
        default=Decimal(0),
        ge=0,
        description="Taker fills (market, triggered stop/take-profit, marketable limits) are "
        "moved this many basis points against the taker, then rounded to the tick away from it.",
    )
    limit_fill: LimitFillRule = Field(
        default=LimitFillRule.THROUGH,
        description="'through': a limit fills only when price trades strictly beyond it; "
        "'touch': reaching the limit price is enough.",
    )
    stop_first: bool = Field(
        default=True,
        description="When a stop and a take-profit (take_profit_market or reduce-only limit) of "
        "the same position book could both execute inside one candle, execute the stop first "
        "(pessimistic). False: follow the intra-candle path.",
    )
    maker_fee: Decimal | None = Field(
        default=None, description="Maker fee rate for every market; None = Instrument.maker_fee."
    )
    taker_fee: Decimal | None = Field(
        default=None, description="Taker fee rate for every market; None = Instrument.taker_fee."
    )
    maintenance_margin_rate: Decimal = Field(
        default=Decimal("0.005"),
        ge=0,
        lt=1,
        description="Isolated positions are liquidated when margin + unrealised PnL falls to "
        "this fraction of the position's notional at the mark price.",
    )
    default_leverage: Decimal = Field(
        default=Decimal(1), gt=0, description="Leverage of derivatives until set_leverage."
    )
    default_margin_mode: MarginMode = Field(
        default=MarginMode.CROSS, description="Margin mode of derivatives until set_leverage."
    )
    position_mode: PositionMode = Field(
        default=PositionMode.ONE_WAY, description="Starting account position mode."
    )
    id_prefix: str = Field(
        default="",
        pattern=r"^[0-9a-z]{0,16}$",
        description="Put into every id the venue makes up itself (liquidation orders' client "
        "ids, exchange order ids, trade ids), so paper venues that stand for one account never "
        "make the same id: the host gives each bot's venue its bot key.",
    )
