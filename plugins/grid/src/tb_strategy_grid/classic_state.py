"""Persisted state of a classic grid (grid spec §6, classic part) and its JSON form.

Everything a restart needs to continue exactly: the level prices after trailing shifts, the
interval quantities, one slot per level with its order's client id, revision, status and filled
quantity, the initial and exit orders, inventory, open pair legs, grid profit, pair count,
trailing shifts, ``waiting_for_range`` and the id sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tbsdk import JsonState
from tbsdk.model import OrderSide

__all__ = ["ClassicState", "Leg", "OrderSlot", "Phase", "SlotStatus"]

_ZERO = Decimal(0)


class Phase(StrEnum):
    """Life of a classic grid."""

    WAITING = "waiting"
    """Not started: waiting for an evaluation price strictly inside the range (§5.4)."""
    STARTING = "starting"
    """The initial market order is in flight; the orders it funds wait for its fill."""
    RUNNING = "running"
    EXITING = "exiting"
    """Stopped trading; the closing market order is in flight."""
    STOPPED = "stopped"


class SlotStatus(StrEnum):
    """State of the order a slot holds."""

    WAITING = "waiting"
    """Decided but held back until the initial order has filled (it sells / buys back the
    inventory that order provides)."""
    PENDING_SUBMIT = "pending_submit"
    """Id persisted, submission requested; not yet acknowledged."""
    OPEN = "open"
    RETRY = "retry"
    """The last revision ended without filling completely; the next evaluation places the
    next revision for the remaining quantity."""
    FAILED = "failed"
    """Refused too often in a row (or, for the initial order, ended unfilled); left alone."""
    DONE = "done"
    """Filled completely (initial and exit orders; a filled level's slot is freed instead)."""


@dataclass(slots=True)
class OrderSlot:
    """One order of the grid (a level's order, the initial or the exit order) across its
    revisions. ``done`` / ``done_cost`` / ``done_fee`` hold what earlier revisions filled."""

    side: OrderSide
    qty: Decimal
    seq: int
    letter: str
    index: int
    """Level index of the id's tag (at the time the order was created)."""
    rev: int = 0
    status: SlotStatus = SlotStatus.PENDING_SUBMIT
    filled: Decimal = _ZERO
    cost: Decimal = _ZERO
    fee: Decimal = _ZERO
    done: Decimal = _ZERO
    done_cost: Decimal = _ZERO
    done_fee: Decimal = _ZERO
    rejects: int = 0
    cached_id: tuple[int, str] | None = field(default=None, init=False, compare=False, repr=False)
    """(rev, client id) of the last id built for this slot; not persisted."""

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled

    @property
    def complete(self) -> bool:
        return self.filled >= self.qty

    @property
    def avg_price(self) -> Decimal:
        return self.cost / self.filled if self.filled else _ZERO

    def to_json(self) -> JsonState:
        return {
            "side": self.side.value,
            "qty": str(self.qty),
            "seq": self.seq,
            "letter": self.letter,
            "index": self.index,
            "rev": self.rev,
            "status": self.status.value,
            "filled": str(self.filled),
            "cost": str(self.cost),
            "fee": str(self.fee),
            "done": str(self.done),
            "done_cost": str(self.done_cost),
            "done_fee": str(self.done_fee),
            "rejects": self.rejects,
        }

    @classmethod
    def from_json(cls, data: JsonState) -> OrderSlot:
        return cls(
            side=OrderSide(data["side"]),
            qty=Decimal(data["qty"]),
            seq=int(data["seq"]),
            letter=str(data["letter"]),
            index=int(data["index"]),
            rev=int(data["rev"]),
            status=SlotStatus(data["status"]),
            filled=Decimal(data["filled"]),
            cost=Decimal(data["cost"]),
            fee=Decimal(data["fee"]),
            done=Decimal(data["done"]),
            done_cost=Decimal(data["done_cost"]),
            done_fee=Decimal(data["done_fee"]),
            rejects=int(data["rejects"]),
        )


@dataclass(frozen=True, slots=True)
class Leg:
    """The first completed fill of an interval, waiting for the opposite one (grid spec §5.5)."""

    side: OrderSide
    price: Decimal
    qty: Decimal
    fee: Decimal

    def to_json(self) -> JsonState:
        return {
            "side": self.side.value,
            "price": str(self.price),
            "qty": str(self.qty),
            "fee": str(self.fee),
        }

    @classmethod
    def from_json(cls, data: JsonState) -> Leg:
        return cls(
            OrderSide(data["side"]), Decimal(data["price"]), Decimal(data["qty"]),
            Decimal(data["fee"]),
        )  # fmt: skip


@dataclass(slots=True)
class ClassicState:
    """The whole classic grid; ``levels[i]`` and ``slots[i]`` are level i of L_0..L_N."""

    phase: Phase = Phase.WAITING
    waiting_for_range: bool = True
    origin_lower: Decimal = _ZERO
    origin_upper: Decimal = _ZERO
    levels: list[Decimal] = field(default_factory=list)
    qtys: list[Decimal] = field(default_factory=list)
    """Quantity of interval j = [L_j, L_{j+1}], j = 0..N−1."""
    slots: list[OrderSlot | None] = field(default_factory=list)
    """The order at each level; None = no order there (the empty level, or not placed)."""
    empty: int | None = None
    deferred: dict[int, OrderSlot] = field(default_factory=dict)
    """Counter-orders owed to a level whose previous order has not filled yet (a candle that
    crossed two levels at once), placed as soon as it does."""
    p0: Decimal | None = None
    initial: OrderSlot | None = None
    initial_qty: Decimal = _ZERO
    exit: OrderSlot | None = None
    exit_reason: str | None = None
    inventory: Decimal = _ZERO
    """Net filled quantity of the grid's own orders (initial included), contracts; spot: the
    base the grid holds."""
    legs: dict[int, Leg] = field(default_factory=dict)
    """Open legs by interval sequence index (``trailing_shifts`` + j)."""
    grid_profit: Decimal = _ZERO
    pair_count: int = 0
    trailing_shifts: int = 0
    """Trailing-up shifts so far; also the sequence index of L_0 in the original range's level
    sequence (§5.6)."""
    seq: int = 0

    def next_seq(self) -> int:
        """A new per-symbol order number (never reused, grid spec §2)."""
        self.seq += 1
        return self.seq

    def to_json(self) -> JsonState:
        def opt(slot: OrderSlot | None) -> JsonState | None:
            return None if slot is None else slot.to_json()

        return {
            "phase": self.phase.value,
            "waiting_for_range": self.waiting_for_range,
            "origin_lower": str(self.origin_lower),
            "origin_upper": str(self.origin_upper),
            "levels": [str(x) for x in self.levels],
            "qtys": [str(x) for x in self.qtys],
            "slots": [opt(s) for s in self.slots],
            "empty": self.empty,
            "deferred": {str(k): v.to_json() for k, v in sorted(self.deferred.items())},
            "p0": None if self.p0 is None else str(self.p0),
            "initial": opt(self.initial),
            "initial_qty": str(self.initial_qty),
            "exit": opt(self.exit),
            "exit_reason": self.exit_reason,
            "inventory": str(self.inventory),
            "legs": {str(k): leg.to_json() for k, leg in sorted(self.legs.items())},
            "grid_profit": str(self.grid_profit),
            "pair_count": self.pair_count,
            "trailing_shifts": self.trailing_shifts,
            "seq": self.seq,
        }

    @classmethod
    def from_json(cls, data: JsonState) -> ClassicState:
        def opt(raw: Any) -> OrderSlot | None:
            return None if raw is None else OrderSlot.from_json(raw)

        return cls(
            phase=Phase(data["phase"]),
            waiting_for_range=bool(data["waiting_for_range"]),
            origin_lower=Decimal(data["origin_lower"]),
            origin_upper=Decimal(data["origin_upper"]),
            levels=[Decimal(x) for x in data["levels"]],
            qtys=[Decimal(x) for x in data["qtys"]],
            slots=[opt(s) for s in data["slots"]],
            empty=None if data["empty"] is None else int(data["empty"]),
            deferred={int(k): OrderSlot.from_json(v) for k, v in data["deferred"].items()},
            p0=None if data["p0"] is None else Decimal(data["p0"]),
            initial=opt(data["initial"]),
            initial_qty=Decimal(data["initial_qty"]),
            exit=opt(data["exit"]),
            exit_reason=data["exit_reason"],
            inventory=Decimal(data["inventory"]),
            legs={int(k): Leg.from_json(v) for k, v in data["legs"].items()},
            grid_profit=Decimal(data["grid_profit"]),
            pair_count=int(data["pair_count"]),
            trailing_shifts=int(data["trailing_shifts"]),
            seq=int(data["seq"]),
        )
