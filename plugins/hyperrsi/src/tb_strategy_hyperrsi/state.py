"""Persisted state (hyperrsi spec §17): everything a restarted instance needs to continue exactly.

Plain pydantic models: Decimals are written as strings, so ``save_state`` output survives a JSON
round trip unchanged (``json.loads(json.dumps(s)) == s``) and loads back bit for bit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tbsdk.model import OrderIntent

__all__ = [
    "SCHEMA_VERSION",
    "FillRecord",
    "HedgeRecord",
    "HyperRsiState",
    "OrderRecord",
    "Phase",
    "PositionRecord",
    "StopRecord",
    "TpLevel",
    "TrailingRecord",
]

SCHEMA_VERSION = 1
"""Bumped whenever a field changes meaning; an older state is not loaded (§17 fallback)."""

_ZERO = Decimal(0)

Phase = Literal["flat", "entering", "open", "closing"]
OrderStatusName = Literal["pending_submit", "open", "partially_filled", "cancel_pending"]
TpStatus = Literal["pending", "open", "filled", "skipped", "failed"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FillRecord(_Model):
    """One fill of the current position (entries and reductions)."""

    role: str
    price: Decimal
    qty: Decimal
    fee: Decimal
    ts: int


class PositionRecord(_Model):
    """The main position as the strategy models it (the venue is the truth, §16)."""

    side: Literal["long", "short"] | None = None
    size: Decimal = _ZERO
    cost: Decimal = Field(default=_ZERO, description="avg · size, exact while only adding.")
    last_fill_price: Decimal | None = None
    entry_count: int = 0
    peak_size: Decimal = _ZERO
    base_margin: Decimal | None = None
    base_contracts: Decimal | None = None
    fills: list[FillRecord] = Field(default_factory=list)
    realized: Decimal = _ZERO
    fees: Decimal = _ZERO
    opened_at: int | None = None
    ladder: list[Decimal] = Field(default_factory=list)
    exit_reason: str | None = None

    @property
    def avg(self) -> Decimal | None:
        return self.cost / self.size if self.size else None

    @property
    def m(self) -> int:
        return 1 if self.side == "long" else -1


class TpLevel(_Model):
    """One level of the TP ladder (§11)."""

    level: int
    price: Decimal
    ratio: Decimal = _ZERO
    placed: bool = False
    qty: Decimal = _ZERO
    status: TpStatus = "skipped"
    client_id: str | None = None
    filled_qty: Decimal = _ZERO
    rejects: int = 0


class StopRecord(_Model):
    """The one protective stop (§12) and the candidates that price it."""

    sl: Decimal | None = None
    be: Decimal | None = None
    be_levels: list[int] = Field(default_factory=list)
    trailing: Decimal | None = None
    price: Decimal | None = None
    client_id: str | None = None
    unprotected: bool = False
    retry_at: int | None = None
    """When the refused stop is tried again (``protect_retry``; re-armed after a restart)."""


class TrailingRecord(_Model):
    """Trailing state (§12.4)."""

    active: bool = False
    start_level: int = 3
    offset: Decimal | None = None
    extreme: Decimal | None = None
    last_amend_ts: int = 0


class HedgeRecord(_Model):
    """The opposite-side hedge (§15)."""

    side: Literal["long", "short"] | None = None
    size: Decimal = _ZERO
    cost: Decimal = _ZERO
    entries: int = 0
    tp_price: Decimal | None = None
    tp_market: bool = False
    sl_price: Decimal | None = None
    tp_id: str | None = None
    sl_id: str | None = None
    realized: Decimal = _ZERO
    fees: Decimal = _ZERO
    closing_reason: str | None = None
    tp_rejects: int = 0
    sl_rejects: int = 0
    refused_at: int | None = None
    """When the venue last refused the hedge's TP or stop: not placed again at that moment (the
    refusal may come from a fill not seen yet, e.g. the TP filled in the same candle)."""

    @property
    def avg(self) -> Decimal | None:
        return self.cost / self.size if self.size else None


class OrderRecord(_Model):
    """An order intent that is not final yet (§17)."""

    intent: OrderIntent
    role: str
    status: OrderStatusName = "pending_submit"
    filled_qty: Decimal = _ZERO
    exchange_order_id: str | None = None


class HyperRsiState(_Model):
    """The whole persisted state; ``save_state`` is ``model_dump(mode="json")`` of this."""

    schema_version: int = SCHEMA_VERSION
    settings_snapshot: dict[str, Any] = Field(default_factory=dict)
    settings_hash: str = ""
    bot6: str = ""
    seq: int = 0
    revisions: dict[str, int] = Field(default_factory=dict)
    phase: Phase = "flat"
    position: PositionRecord = Field(default_factory=PositionRecord)
    tps: list[TpLevel] = Field(default_factory=list)
    stop: StopRecord = Field(default_factory=StopRecord)
    trailing: TrailingRecord = Field(default_factory=TrailingRecord)
    cooldown_until: dict[str, int] = Field(default_factory=dict)
    bar_lock: dict[str, int] = Field(default_factory=dict)
    last_exit_ts: int | None = None
    consecutive_failures: int = 0
    entries_paused: bool = False
    resume_on_start: bool = False
    hedge: HedgeRecord = Field(default_factory=HedgeRecord)
    orders: dict[str, OrderRecord] = Field(default_factory=dict)
    indicators: dict[str, Any] = Field(default_factory=dict)
    trend_notified: dict[str, int] = Field(default_factory=dict)
    trades_closed: int = 0

    def reset_position(self) -> None:
        """Forget the closed position (the ids' seq stays: the next entry takes a new one)."""
        self.position = PositionRecord()
        self.tps = []
        self.stop = StopRecord()
        self.trailing = TrailingRecord()
        self.phase = "flat"
