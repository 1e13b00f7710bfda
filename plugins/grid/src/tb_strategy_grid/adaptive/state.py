"""Persisted state of one adaptive symbol (grid spec §6), as plain JSON.

Decimals are strings, level values JSON floats (which round-trip exactly), NaN never appears
(an undefined table is ``null``). Indicator states are optional on load: a missing or
incompatible one is logged and re-warmed from history; the books must be readable, since the
engine cannot trade safely without knowing its own orders.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .books import Book, Side
from .market import Market

if TYPE_CHECKING:
    from .engine import AdaptiveEngine

__all__ = ["SCHEMA_VERSION", "load_engine_state", "save_engine_state"]

SCHEMA_VERSION = 1


def save_engine_state(engine: AdaptiveEngine) -> dict[str, Any]:
    """Everything :func:`load_engine_state` needs to continue exactly."""
    desk = engine.desk
    return {
        "schema_version": SCHEMA_VERSION,
        "mode": "adaptive",
        "symbol": engine.symbol,
        "start_ts": engine.start_ts,
        "last_entry_fill": engine.last_entry_fill,
        "completion": engine.completion,
        "completed": engine.completed,
        "market": engine.market.to_json(),
        "indicators": {
            "levels": engine.levels.get_state(),
            "regime": engine.regimes.get_state(),
        },
        "seq": desk.seq,
        "books": {side.value: book.to_json() for side, book in desk.books.items()},
        "retired": {
            cid: [side.value, kind, seq] for cid, (side, kind, seq) in desk.retired.items()
        },
        "pnl": {
            "realised": str(desk.realised),
            "fees": str(desk.fees),
            "closed_lots": desk.closed_lots,
        },
        "flags": {
            "resync": engine.resync,
            "price_sensitive": desk.price_sensitive,
            "margin_blocked": desk.margin_blocked,
        },
    }


def load_engine_state(
    engine: AdaptiveEngine, state: dict[str, Any], warn: Callable[[str], None]
) -> None:
    """Restore :func:`save_engine_state`. Raises ``ValueError`` for another schema or symbol."""
    version = state.get("schema_version")
    if version != SCHEMA_VERSION or state.get("mode") != "adaptive":
        raise ValueError(
            f"adaptive state schema {version!r} ({state.get('mode')!r}) is not "
            f"{SCHEMA_VERSION} (adaptive)"
        )
    if state.get("symbol") != engine.symbol:
        raise ValueError(f"state is for {state.get('symbol')!r}, not {engine.symbol!r}")
    desk = engine.desk
    books = {side: Book.from_json(side, state["books"][side.value]) for side in Side}
    market = Market.from_json(state["market"])
    pnl, flags = state["pnl"], state["flags"]
    indicators = state.get("indicators") or {}
    engine.levels.set_state(indicators.get("levels"), warn)
    engine.regimes.set_state(indicators.get("regime"), warn)
    engine.market = market
    desk.books = books
    desk.retired = {
        cid: (Side(side), str(kind), int(seq))
        for cid, (side, kind, seq) in state["retired"].items()
    }
    desk.seq = int(state["seq"])
    desk.realised, desk.fees = Decimal(pnl["realised"]), Decimal(pnl["fees"])
    desk.closed_lots = int(pnl["closed_lots"])
    desk.price_sensitive = bool(flags["price_sensitive"])
    desk.margin_blocked = bool(flags["margin_blocked"])
    engine.resync = bool(flags["resync"])
    engine.start_ts = state["start_ts"]
    engine.last_entry_fill = state["last_entry_fill"]
    engine.completion = state["completion"]
    engine.completed = bool(state["completed"])
