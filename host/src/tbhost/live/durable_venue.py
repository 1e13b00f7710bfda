"""``DurableVenue``: a simulated venue that outlives the host, as a real exchange does.

A real venue keeps every order it accepted, and every fill it made, whatever happens to the
host that sent them. The paper venue of a bot does the same here: every change it accepts
(an order, a cancel, an amend, a leverage or mode change, a matched candle) is appended to an
operation log before the answer goes back to the caller, and a snapshot of the whole venue is
written every ``snapshot_every`` operations. Loading restores the snapshot and replays the log
through the same deterministic matching engine, so the venue comes back exactly as it was
after its last logged operation, however the host died. A torn last line (the host killed
while writing it) is an operation whose answer nobody saw: it is dropped.

Files, under ``data_dir/paper/<bot_id>/``: ``snapshot.json`` (written atomically: temporary
file, fsync, rename) and ``ops.jsonl``. Appends are flushed to the operating system at once, so
a killed process loses nothing; ``fsync=True`` also survives a power cut, at a cost per
operation.

The feed and the venue can stand at different candles after a crash: the venue may have
matched a candle whose fills the host never saw. A candle at or before the venue's clock is
therefore not matched again: the venue answers with the events it logged for its last candle
(replayed from the log) and with none for earlier ones. Nothing is lost: the host checkpoints
after every candle that had events, before the venue sees the next one, so only the venue's
last candle can be unseen.

A quiet candle (one the venue proves can fill, trigger or liquidate nothing:
``next_active_candle``) moves only the venue's clock and last price, exactly as ``skip_candles``
does. It is applied as a ``skip`` and its log line is deferred: only the latest pending one is
kept (a skip over several quiet candles equals a skip to the last), and it is written before
any other operation, before a snapshot, on :meth:`DurableVenue.sync` and on close. The host
syncs before it checkpoints a bot and before it stores an intent: a restart's reconciliation
sends a stored intent to the venue at the candle the bot decided it, never to a venue behind.
A crash loses at most the quiet candles after the bot's last checkpoint and last intent; the
restarted bot is fed them again and the venue matches them again, to the same state. Most
candles of most bots are quiet: they cost no write at all.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, ClassVar

import numpy as np
import numpy.typing as npt

from tbsdk import Exchange
from tbsdk.errors import ConfigError, TbError
from tbsdk.exchange import ExchangeCapabilities, SimulatedVenue
from tbsdk.model import (
    Balance,
    CandleArrays,
    Event,
    Instrument,
    MarginMode,
    Order,
    OrderIntent,
    Position,
    PositionMode,
    Ticker,
    Trade,
)

from ..faults import failpoint
from ..files import write_atomic

__all__ = ["SNAPSHOT_VERSION", "DurableVenue", "venue_dir"]

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 2


def venue_dir(data_dir: Path, bot_id: str) -> Path:
    return data_dir / "paper" / bot_id


class DurableVenue(Exchange):
    """Wraps a simulated venue (the paper exchange) and makes its state durable."""

    api_version: ClassVar[str] = "1.0"

    def __init__(
        self,
        inner: Exchange,
        directory: Path,
        *,
        snapshot_every: int = 500,
        fsync: bool = False,
    ) -> None:
        if not isinstance(inner, SimulatedVenue):
            raise ConfigError(f"exchange {inner.name!r} is not a simulated venue")
        super().__init__(inner.config, inner.credentials)
        self.inner = inner
        self.sim: SimulatedVenue = inner
        self.name = inner.name  # type: ignore[misc]  # the instance answers as the venue it wraps
        self.capabilities: ExchangeCapabilities = inner.capabilities  # type: ignore[misc]
        self.directory = directory
        self.snapshot_every = snapshot_every
        self.fsync = fsync
        self.last_close: int | None = None
        """Close time of the last candle the venue matched."""
        self.last_events: list[Event] = []
        self.ops = 0
        """Operations applied since the venue was created (the log's sequence numbers)."""
        self._since_snapshot = 0
        self._log: IO[str] | None = None
        self._before_last_candle: dict[str, Any] | None = None
        self._pending_skip: dict[str, Any] | None = None
        """The latest quiet candle, applied as a skip, not yet logged (see the module doc)."""

    # -- files --------------------------------------------------------------------------------
    @property
    def snapshot_path(self) -> Path:
        return self.directory / "snapshot.json"

    @property
    def log_path(self) -> Path:
        return self.directory / "ops.jsonl"

    @property
    def exists(self) -> bool:
        """Whether the venue has any record on disk (False: a new, empty account)."""
        return self.snapshot_path.is_file() or self.log_path.is_file()

    def load(self) -> None:
        """Restore the venue from its files (a new venue if there are none)."""
        base = 0
        if self.snapshot_path.is_file():
            try:
                data = json.loads(self.snapshot_path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise ConfigError(
                    f"cannot read the paper venue {self.snapshot_path}: {exc}"
                ) from None
            if data.get("version") != SNAPSHOT_VERSION:
                raise ConfigError(
                    f"paper venue {self.snapshot_path} has version {data.get('version')!r}, not "
                    f"{SNAPSHOT_VERSION}; move {self.directory} away to start the venue afresh"
                )
            self.sim.restore_state(data["venue_state"])
            self.last_close, base = data["last_close"], int(data["ops"])
        self.ops = base
        pending: list[dict[str, Any]] = []
        if self.log_path.is_file():
            for line in self.log_path.read_text().splitlines():
                try:
                    op = json.loads(line)
                except json.JSONDecodeError:
                    log.warning("paper venue %s: dropped a torn last operation", self.directory)
                    break
                if int(op["n"]) > base:  # else in the snapshot (killed before the log was cut)
                    pending.append(op)
        last_candle = max(
            (i for i, op in enumerate(pending) if op["op"] in ("candle", "skip")), default=-1
        )
        for i, op in enumerate(pending):
            if i == last_candle:
                self._before_last_candle = self.sim.save_state()
            self._apply(op, replaying=True)
            self.ops = int(op["n"])
        replayed = len(pending)
        self._since_snapshot = replayed
        log.debug("paper venue %s: %d operation(s) replayed", self.directory, replayed)

    def before_last_candle(self) -> Exchange:
        """The venue as it stood before it matched its last candle (read-only use): what a bot
        that had not seen that candle knew of its orders and positions. The venue itself if
        its last candle is not in the log (then the bot had seen it)."""
        if self._before_last_candle is None:
            return self.inner
        view = type(self.inner)(self.inner.config, self.inner.credentials)
        assert isinstance(view, SimulatedVenue)
        view.restore_state(self._before_last_candle)
        return view

    def sync(self) -> None:
        """Write the pending quiet candle, if any: the log then holds every candle matched."""
        pending = self._pending_skip
        if pending is not None:
            self._pending_skip = None
            self._write(pending)

    def close_files(self) -> None:
        self.sync()
        if self._log is not None:
            self._log.close()
            self._log = None

    def _append(self, op: dict[str, Any]) -> None:
        self.sync()  # the quiet candle before this operation comes first in the log
        self._write(op)

    def _write(self, op: dict[str, Any]) -> None:
        if self._log is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("a")
        self.ops += 1
        op["n"] = self.ops
        self._log.write(json.dumps(op, separators=(",", ":")) + "\n")
        self._log.flush()
        if self.fsync:
            os.fsync(self._log.fileno())
        self._since_snapshot += 1

    def _snapshot(self) -> None:
        self._pending_skip = None  # its effect is in the state written here
        write_atomic(
            self.snapshot_path,
            json.dumps(
                {
                    "version": SNAPSHOT_VERSION,
                    "ops": self.ops,
                    "last_close": self.last_close,
                    "venue_state": self.sim.save_state(),
                }
            ),
        )
        self.close_files()
        self.log_path.unlink(missing_ok=True)
        self._since_snapshot = 0

    # -- applying operations (live and on replay) -----------------------------------------------
    def _apply(self, op: dict[str, Any], *, replaying: bool) -> Any:
        """Apply one operation to the inner venue. On replay a refusal repeats (the same input
        to the same deterministic engine) and is ignored: it was answered the first time."""
        kind = op["op"]
        try:
            if kind == "candle":
                events = self.sim.process_candle(
                    op["symbol"], op["ts"], op["o"], op["h"], op["l"], op["c"]
                )
                self.last_close, self.last_events = op["ts"], list(events)
                return events
            if kind == "skip":
                self.sim.skip_candles(op["symbol"], op["ts"], op["c"])
                self.last_close, self.last_events = op["ts"], []
                return None
            return _SYNC_OPS[kind](self.inner, op)
        except TbError:
            if not replaying:
                raise
            return None

    def _do(self, op: dict[str, Any], point: str) -> Any:
        """Apply ``op``, log it (refusals too: they may have moved the venue's counters), and
        only then answer."""
        try:
            result = self._apply(op, replaying=False)
        except TbError:
            self._append(op)
            raise
        self._append(op)
        failpoint(point)
        return result

    # -- SimulatedVenue -------------------------------------------------------------------------
    def process_candle(
        self, symbol: str, ts: int, open: float, high: float, low: float, close: float
    ) -> Sequence[Event]:
        if self.last_close is not None and ts <= self.last_close:
            # Matched before the host went down: its events again (the last candle), or none.
            return list(self.last_events) if ts == self.last_close else []
        if self._since_snapshot >= self.snapshot_every:
            self._snapshot()  # before a candle: the previous candle's events are all handled
        if self.sim.next_active_candle(symbol, np.array([high]), np.array([low]), 0) > 0:
            # Quiet: only the clock and the last price move; logged later, if ever needed.
            self.sim.skip_candles(symbol, int(ts), float(close))
            self.last_close, self.last_events = int(ts), []
            self._pending_skip = {"op": "skip", "symbol": symbol, "ts": int(ts), "c": float(close)}
            failpoint("venue.candle")
            return []
        op = {
            "op": "candle",
            "symbol": symbol,
            "ts": int(ts),
            "o": float(open),
            "h": float(high),
            "l": float(low),
            "c": float(close),
        }
        events: Sequence[Event] = self._do(op, "venue.candle")
        return events

    def next_active_candle(
        self, symbol: str, high: npt.NDArray[np.float64], low: npt.NDArray[np.float64], start: int
    ) -> int:
        return self.sim.next_active_candle(symbol, high, low, start)

    def skip_candles(self, symbol: str, ts: int, close: float) -> None:
        if self.last_close is not None and ts <= self.last_close:
            return
        self._do({"op": "skip", "symbol": symbol, "ts": int(ts), "c": float(close)}, "venue.candle")

    def equity(self, currency: str) -> Decimal:
        return self.sim.equity(currency)

    def balance(self, currency: str) -> Balance:
        return self.sim.balance(currency)

    @property
    def position_mode(self) -> PositionMode:
        return self.sim.position_mode

    def save_state(self) -> dict[str, Any]:
        return self.sim.save_state()

    def restore_state(self, data: dict[str, Any]) -> None:
        raise ConfigError("a durable venue restores itself from its files (load())")

    def trades(self) -> list[Trade]:
        return self.sim.trades()

    # -- Exchange -------------------------------------------------------------------------------
    async def load_markets(self) -> dict[str, Instrument]:
        return await self.inner.load_markets()

    async def fetch_candles(
        self, symbol: str, timeframe: str, since: int, until: int | None = None
    ) -> CandleArrays:
        return await self.inner.fetch_candles(symbol, timeframe, since, until)

    async def fetch_ticker(self, symbol: str) -> Ticker:
        return await self.inner.fetch_ticker(symbol)

    async def fetch_balances(self) -> dict[str, Balance]:
        return await self.inner.fetch_balances()

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        return await self.inner.fetch_positions(symbols)

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order:
        return await self.inner.fetch_order(symbol, client_order_id)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        return await self.inner.fetch_open_orders(symbol)

    async def create_order(self, intent: OrderIntent) -> Order:
        order: Order = self._do(
            {"op": "create", "intent": intent.model_dump(mode="json")}, "venue.accepted"
        )
        return order

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        order: Order = self._do(
            {"op": "cancel", "symbol": symbol, "cid": client_order_id}, "venue.accepted"
        )
        return order

    async def amend_order(
        self,
        symbol: str,
        client_order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> Order:
        op = {
            "op": "amend",
            "symbol": symbol,
            "cid": client_order_id,
            "qty": _text(qty),
            "price": _text(price),
            "trigger_price": _text(trigger_price),
        }
        order: Order = self._do(op, "venue.accepted")
        return order

    async def set_leverage(
        self, symbol: str, leverage: Decimal, margin_mode: MarginMode = MarginMode.CROSS
    ) -> None:
        op = {"op": "leverage", "symbol": symbol, "leverage": str(leverage), "mode": margin_mode}
        self._do(op, "venue.accepted")

    async def set_position_mode(self, mode: PositionMode) -> None:
        self._do({"op": "position_mode", "mode": str(mode)}, "venue.accepted")

    async def close(self) -> None:
        self.close_files()
        await self.inner.close()


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _number(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _run(coro: Any) -> Any:
    """Drive a paper-exchange coroutine that never awaits anything to completion."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError("the simulated venue awaited something; it must answer at once")


_SYNC_OPS: dict[str, Any] = {
    "create": lambda v, op: _run(v.create_order(OrderIntent.model_validate(op["intent"]))),
    "cancel": lambda v, op: _run(v.cancel_order(op["symbol"], op["cid"])),
    "amend": lambda v, op: _run(
        v.amend_order(
            op["symbol"],
            op["cid"],
            qty=_number(op["qty"]),
            price=_number(op["price"]),
            trigger_price=_number(op["trigger_price"]),
        )
    ),
    "leverage": lambda v, op: _run(
        v.set_leverage(op["symbol"], Decimal(op["leverage"]), MarginMode(op["mode"]))
    ),
    "position_mode": lambda v, op: _run(v.set_position_mode(PositionMode(op["mode"]))),
}
