"""``save`` / ``restore`` of a whole engine state as JSON-serialisable data (Decimals as strings).

The config is not part of the saved data: restore into an engine built from the same config.
"""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from typing import Any

from tbsdk.errors import ConfigError
from tbsdk.model import Direction, MarginMode, Order, PositionMode, PositionSide, Trade

from .accounts import PositionState
from .book import Entry
from .execution import refresh_liquidations
from .settings import PaperConfig
from .state import EngineState

__all__ = ["FORMAT_VERSION", "dump_state", "load_state"]

FORMAT_VERSION = 1
_DECIMAL_FIELDS = {f.name for f in fields(PositionState) if f.type in ("Decimal", "Decimal | None")}


def _money(d: dict[str, Decimal]) -> dict[str, str]:
    return {k: str(v) for k, v in d.items()}


def _unmoney(d: dict[str, str]) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in d.items()}


def _entry(e: Entry) -> dict[str, Any]:
    return {
        "cid": e.order.client_order_id,
        "seq": e.seq,
        "reducing": e.reducing,
        "book": str(e.book),
        "reserved": str(e.reserved),
        "currency": e.reserve_currency,
    }


def _position(p: PositionState) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(PositionState):
        if f.name == "liquidation_f":
            continue
        value = getattr(p, f.name)
        out[f.name] = str(value) if isinstance(value, Decimal) else value
    return out


def dump_state(st: EngineState) -> dict[str, Any]:
    """Everything needed to resume the venue exactly: books, orders, account, counters."""
    acc = st.accounts
    return {
        "version": FORMAT_VERSION,
        "now": st.now,
        "seq": st.seq,
        "fills": st.fills,
        "liquidations": st.liquidations,
        "position_mode": str(st.position_mode),
        "leverage": {s: [str(lev), str(mode)] for s, (lev, mode) in st.leverage.items()},
        "wallet": _money(acc.wallet),
        "fees_paid": _money(acc.fees_paid),
        "realized_total": _money(acc.realized_total),
        "orders": [o.model_dump(mode="json") for o in st.orders.values()],
        "books": {
            symbol: {
                "last": None if sb.mark() is None else str(sb.mark()),
                "resting": [_entry(e) for e in sb.resting],
                "pending": [_entry(e) for e in sb.pending],
            }
            for symbol, sb in st.books.items()
        },
        "positions": [_position(p) for p in acc.positions.values()],
        "trades": [t.model_dump(mode="json") for t in acc.trades],
    }


def _load_position(data: dict[str, Any]) -> PositionState:
    kw: dict[str, Any] = {}
    for name, value in data.items():
        if name in _DECIMAL_FIELDS and value is not None:
            kw[name] = Decimal(value)
        else:
            kw[name] = value
    kw["book"] = PositionSide(kw["book"])
    kw["direction"] = Direction(kw["direction"])
    kw["margin_mode"] = MarginMode(kw["margin_mode"])
    pos = PositionState(**kw)
    pos.liquidation_f = float(pos.liquidation) if pos.liquidation is not None else None
    return pos


def load_state(config: PaperConfig, data: dict[str, Any]) -> EngineState:
    """Rebuild an :class:`EngineState` saved by :func:`dump_state` under ``config``."""
    if data.get("version") != FORMAT_VERSION:
        raise ConfigError(f"paper state version {data.get('version')!r} is not {FORMAT_VERSION}")
    st = EngineState.fresh(config)
    acc = st.accounts
    st.now, st.seq = int(data["now"]), int(data["seq"])
    st.fills, st.liquidations = int(data["fills"]), int(data["liquidations"])
    st.position_mode = PositionMode(data["position_mode"])
    st.leverage = {s: (Decimal(lev), MarginMode(m)) for s, (lev, m) in data["leverage"].items()}
    acc.wallet = _unmoney(data["wallet"])
    acc.fees_paid = _unmoney(data["fees_paid"])
    acc.realized_total = _unmoney(data["realized_total"])
    acc.reserved = {}
    st.orders = {o["intent"]["client_order_id"]: Order.model_validate(o) for o in data["orders"]}
    for raw in data["positions"]:
        pos = _load_position(raw)
        acc.positions[(pos.symbol, pos.book)] = pos
    acc.trades = [Trade.model_validate(t) for t in data["trades"]]
    for symbol, saved in data["books"].items():
        if symbol not in st.books:
            raise ConfigError(f"paper state has symbol {symbol!r}, which the config lacks")
        sb = st.books[symbol]
        if saved["last"] is not None:
            sb.set_last(Decimal(saved["last"]))
        for key in ("resting", "pending"):
            for e in saved[key]:
                entry = Entry.of(
                    st.orders[e["cid"]], int(e["seq"]), bool(e["reducing"]), PositionSide(e["book"])
                )
                entry.taker = key == "pending"
                entry.reserved, entry.reserve_currency = Decimal(e["reserved"]), e["currency"]
                if entry.reserved:
                    acc.reserve(entry.reserve_currency, entry.reserved)
                sb.add(entry)
        refresh_liquidations(st, sb)
    return st
