"""Host risk limits, checked before every order intent and before any plugin check."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from tbsdk.model import Instrument, OrderIntent, OrderSide, Position


class RiskLimits(BaseModel):
    """Per-bot limits. ``None`` means no limit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_position: Decimal | None = Field(
        default=None, gt=0, description="Largest position per symbol and book, contracts."
    )
    max_notional: Decimal | None = Field(
        default=None, gt=0, description="Largest position value per symbol, quote currency."
    )
    max_leverage: Decimal | None = Field(
        default=None, gt=0, description="Largest position value divided by account equity."
    )

    @property
    def has_limits(self) -> bool:
        """Whether any limit is set (without one, no intent can break a limit)."""
        return not (
            self.max_position is None and self.max_notional is None and self.max_leverage is None
        )


def check_limits(
    limits: RiskLimits,
    intent: OrderIntent,
    instrument: Instrument,
    position: Position,
    reference_price: Decimal,
    equity: Decimal,
) -> str | None:
    """Why ``intent`` would break a limit, or None. Reduce-only intents always pass: refusing
    an order that can only shrink exposure would leave the account at more risk, not less."""
    if intent.reduce_only or not limits.has_limits:
        return None
    grows = (intent.side is OrderSide.BUY) == (position.signed_size >= 0) or position.is_flat
    after = position.size + intent.qty if grows else abs(position.size - intent.qty)
    if limits.max_position is not None and after > limits.max_position:
        return f"position would be {after} contracts, above max_position {limits.max_position}"
    value = instrument.notional(after, reference_price)
    if limits.max_notional is not None and value > limits.max_notional:
        return (
            f"position value would be {value:.2f} {instrument.quote}, above max_notional "
            f"{limits.max_notional}"
        )
    if limits.max_leverage is not None:
        if equity <= 0:
            return "account equity is not positive"
        if value / equity > limits.max_leverage:
            return (
                f"leverage would be {value / equity:.2f}x, above max_leverage "
                f"{limits.max_leverage}x"
            )
    return None
