"""One side's book: its lots, resting entries and stop, and the rules that read them
(grid spec §4.5 occupancy, §4.8 exposure, §4.9 stop price).

Everything here is plain data with JSON round-trips (Decimals as strings); the engine decides
what to do with it. A *lot* is one filled entry; it lives until its take-profit, market exit or
the side's stop has closed it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tbsdk.model import Direction, Instrument

from ..rounding import stop_trigger

__all__ = ["Book", "Entry", "Lot", "OrderState", "Side", "Stop"]

DEDUPE = Decimal("0.001")
"""Two resting entries of one side are never within 0.1 % of each other (§4.5)."""


class Side(StrEnum):
    """A book: long lots are bought and sold higher, short lots sold and bought back lower."""

    LONG = "long"
    SHORT = "short"

    @property
    def sign(self) -> int:
        """``m`` of the spec: +1 long, −1 short."""
        return 1 if self is Side.LONG else -1

    @property
    def direction(self) -> Direction:
        return Direction.LONG if self is Side.LONG else Direction.SHORT


class OrderState(StrEnum):
    """Where one of our orders is, as far as the book knows."""

    PENDING_SUBMIT = "pending_submit"
    """Id persisted, command issued; no venue report yet (re-submitted unchanged after a
    restart if the venue never saw it)."""
    OPEN = "open"
    CANCEL_PENDING = "cancel_pending"
    RETRY = "retry"
    """Refused or lost; placed again (next revision) at the next evaluation."""


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


@dataclass
class Entry:
    """A resting entry order at ``rung`` (§4.5 ``b``/``s`` orders)."""

    seq: int
    rung: int
    price: Decimal
    qty: Decimal
    cid: str
    state: OrderState = OrderState.PENDING_SUBMIT
    filled: Decimal = Decimal(0)
    """Quantity filled so far (partial fills)."""

    @property
    def occupies(self) -> bool:
        """Counts for occupancy, dedupe and exposure: a cancel in flight no longer does."""
        return self.state is not OrderState.CANCEL_PENDING

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(price=str(self.price), qty=str(self.qty), filled=str(self.filled))
        data["state"] = self.state.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        return cls(
            seq=int(data["seq"]),
            rung=int(data["rung"]),
            price=_dec(data["price"]),
            qty=_dec(data["qty"]),
            cid=str(data["cid"]),
            state=OrderState(data["state"]),
            filled=_dec(data["filled"]),
        )


@dataclass
class Lot:
    """One filled entry and the order that closes it (§4.5)."""

    seq: int
    rung: int
    qty: Decimal
    """Open quantity (contracts); falls with partial take-profit fills."""
    price: Decimal
    """Average fill price of the entry."""
    opened_at: int
    fees: Decimal
    """Fees paid so far: the entry's, then the closing fills'."""
    gross: Decimal = Decimal(0)
    """Realised PnL of the quantity already closed, before fees."""
    order_seq: int = -1
    """``seq`` of the lot's take-profit and exit ids: the entry's, unless the revisions ran out."""
    tp_price: Decimal | None = None
    tp_cid: str | None = None
    tp_rev: int = -1
    tp_state: OrderState = OrderState.RETRY
    exit_cid: str | None = None
    exit_rev: int = -1
    exit_state: OrderState | None = None
    """Set once the lot is being closed at market (regime exit, completion)."""

    def __post_init__(self) -> None:
        if self.order_seq < 0:
            self.order_seq = self.seq

    @property
    def exiting(self) -> bool:
        return self.exit_state is not None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("qty", "price", "fees", "gross"):
            data[name] = str(data[name])
        data["tp_price"] = None if self.tp_price is None else str(self.tp_price)
        data["tp_state"] = self.tp_state.value
        data["exit_state"] = None if self.exit_state is None else self.exit_state.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Lot:
        tp_price, exit_state = data["tp_price"], data["exit_state"]
        return cls(
            seq=int(data["seq"]),
            rung=int(data["rung"]),
            qty=_dec(data["qty"]),
            price=_dec(data["price"]),
            opened_at=int(data["opened_at"]),
            fees=_dec(data["fees"]),
            gross=_dec(data["gross"]),
            order_seq=int(data["order_seq"]),
            tp_price=None if tp_price is None else _dec(tp_price),
            tp_cid=data["tp_cid"],
            tp_rev=int(data["tp_rev"]),
            tp_state=OrderState(data["tp_state"]),
            exit_cid=data["exit_cid"],
            exit_rev=int(data["exit_rev"]),
            exit_state=None if exit_state is None else OrderState(exit_state),
        )


@dataclass
class Stop:
    """The side's resting stop-loss (futures, §4.9)."""

    seq: int
    price: Decimal
    cid: str
    state: OrderState = OrderState.PENDING_SUBMIT

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "price": str(self.price),
            "cid": self.cid,
            "state": self.state.value,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stop:
        return cls(
            seq=int(data["seq"]),
            price=_dec(data["price"]),
            cid=str(data["cid"]),
            state=OrderState(data["state"]),
        )


@dataclass
class Book:
    """Lots, resting entries and the stop of one side."""

    side: Side
    lots: list[Lot] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    stop: Stop | None = None

    # -- occupancy (§4.5) ----------------------------------------------------------------------
    def lot_at(self, rung: int) -> bool:
        return any(lot.rung == rung for lot in self.lots)

    def entry_at(self, rung: int) -> Entry | None:
        return next((e for e in self.entries if e.rung == rung and e.occupies), None)

    def blocked(self, rung: int) -> bool:
        """An entry at ``rung`` would stack on a lot, an entry, or the TP of the lot one rung
        nearer the price (whose take-profit sits at this rung's level)."""
        tp_from = rung - self.side.sign  # long: rung j − 1 targets j; short: j + 1 targets j
        return self.lot_at(rung) or self.entry_at(rung) is not None or self.lot_at(tp_from)

    def too_close(self, price: Decimal) -> bool:
        """Another resting entry lies within 0.1 % of ``price``."""
        return any(abs(price - e.price) < e.price * DEDUPE for e in self.entries if e.occupies)

    # -- exposure (§4.8) -----------------------------------------------------------------------
    def lot_notional(self, inst: Instrument, price: Decimal) -> Decimal:
        """Open lots valued at the current price."""
        return sum((inst.notional(lot.qty, price) for lot in self.lots), Decimal(0))

    def resting_notional(self, inst: Instrument) -> Decimal:
        """Unfilled entry quantity valued at its limit prices."""
        return sum(
            (inst.notional(e.qty - e.filled, e.price) for e in self.entries if e.occupies),
            Decimal(0),
        )

    # -- stop (§4.9) ---------------------------------------------------------------------------
    def average_price(self) -> Decimal | None:
        """Quantity-weighted fill price of the open lots."""
        qty = sum((lot.qty for lot in self.lots), Decimal(0))
        if qty == 0:
            return None
        return sum((lot.qty * lot.price for lot in self.lots), Decimal(0)) / qty

    def stop_price(self, inst: Instrument, stop_loss_pct: Decimal) -> Decimal | None:
        """``avg·(1 − m·stop_loss_pct/100)`` rounded away from the position; None without lots."""
        avg = self.average_price()
        if avg is None:
            return None
        raw = avg * (1 - self.side.sign * stop_loss_pct / 100)
        return stop_trigger(inst, self.side.direction, raw)

    # -- look-ups and persistence ------------------------------------------------------------
    def find_entry(self, cid: str) -> Entry | None:
        return next((e for e in self.entries if e.cid == cid), None)

    def find_tp(self, cid: str) -> Lot | None:
        return next((lot for lot in self.lots if lot.tp_cid == cid), None)

    def find_exit(self, cid: str) -> Lot | None:
        return next((lot for lot in self.lots if lot.exit_cid == cid), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "lots": [lot.to_json() for lot in self.lots],
            "entries": [e.to_json() for e in self.entries],
            "stop": None if self.stop is None else self.stop.to_json(),
        }

    @classmethod
    def from_json(cls, side: Side, data: dict[str, Any]) -> Book:
        stop = data.get("stop")
        return cls(
            side=side,
            lots=[Lot.from_json(x) for x in data["lots"]],
            entries=[Entry.from_json(x) for x in data["entries"]],
            stop=None if stop is None else Stop.from_json(stop),
        )
