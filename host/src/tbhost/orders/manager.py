"""``OrderManager``: one bot's orders, stored before they are sent and reconciled by client id.

The rules that make a crash at any instant lose nothing and double nothing:

* **Store, then send.** :meth:`OrderManager.submit` commits the intent (status ``new``: stored,
  not known to have reached the venue) in its own transaction before calling the exchange. A
  crash before the commit leaves nothing anywhere; a crash after it leaves a ``new`` row.
* **Never resend blindly.** When the exchange call fails with a retryable error (timeout,
  unavailable, rate limited), the order may or may not have arrived: it stays ``new`` and
  :meth:`OrderManager.reconcile` asks the venue by client order id. Only an order the venue
  says it does not know (:class:`~tbsdk.errors.OrderNotFound`) is sent again, with the same
  client id, so even a racing second send is refused by the venue as a duplicate.
* **A duplicate means it arrived.** A ``duplicate_client_id`` refusal is resolved by fetching
  the order by client id and storing what the venue has.
* **Never backwards.** Every answer and report moves the stored order through the SDK state
  machine (storage records each transition in ``order_events``). A report older than what is
  stored (a lower status or a smaller filled quantity) is ignored; a fill is stored once per
  trade id however often it is delivered.

Unknown orders on the venue (open orders of the reconciled symbols whose client id starts with
this bot's ``prefix`` but that storage has never seen) can only come from outside this
manager's store-then-send path: a database restored from an older backup, or a second copy of
the bot. The policy, decided here:

* **adopt** the order (store it under this bot, with its venue status) when its client id
  matches the bot's id scheme (``adopt_pattern``, e.g. ``h`` + bot6 + seq5 + tag3 + rev2): the
  strategy could have made it, it may be a protective stop, and cancelling it could leave a
  position unprotected;
* **cancel** it otherwise (a stray carrying our prefix that our strategy cannot have made), and
  store the cancelled order too, so its history and any fills it had are kept;
* orders without our prefix belong to someone else (another bot, a person) and are left alone.

Without an ``adopt_pattern`` every unknown order with our prefix is cancelled, as the strategy
specs prescribe for orphans.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tbsdk import Exchange
from tbsdk.errors import InvalidOrder, OrderNotFound, TbError
from tbsdk.model import (
    Event,
    Fill,
    FillEvent,
    Order,
    OrderIntent,
    OrderStatus,
    OrderUpdate,
    Position,
    PositionChanged,
    PositionSide,
    RejectReason,
    Trade,
)

from ..faults import failpoint
from ..storage import Database
from ..storage._types import now_ms
from ..storage.repos import orders as repo
from ..storage.repos import portfolio
from .group_commit import GroupCommit
from .records import (
    FillReport,
    OrderReport,
    PositionReport,
    Record,
    StateSnapshot,
    TradeReport,
    write_records,
)
from .transitions import steps_to

__all__ = ["OrderManager", "PositionDiff", "ReconcileReport"]

log = logging.getLogger(__name__)

_S = OrderStatus


@dataclass(frozen=True)
class PositionDiff:
    """One position where storage and the venue disagree (``None``: that side has none)."""

    symbol: str
    position_side: PositionSide
    stored: Position | None
    venue: Position | None

    @property
    def stored_size(self) -> Decimal:
        return _signed(self.stored)

    @property
    def venue_size(self) -> Decimal:
        return _signed(self.venue)


def _signed(position: Position | None) -> Decimal:
    return Decimal(0) if position is None else position.signed_size


@dataclass
class ReconcileReport:
    """What one reconciliation did, by client order id."""

    resent: list[str] = field(default_factory=list)
    """Stored as ``new``, unknown to the venue: sent again with the same client id."""
    rejected: list[str] = field(default_factory=list)
    """Sent again as above, and refused by the venue: stored as ``rejected``."""
    updated: list[str] = field(default_factory=list)
    """Stored orders whose state the venue had moved on (fills, cancels, acknowledgements)."""
    adopted: list[str] = field(default_factory=list)
    """Unknown to storage, ours by the id scheme: stored under this bot."""
    cancelled: list[str] = field(default_factory=list)
    """Unknown to storage with our prefix but not our scheme: cancelled on the venue."""
    missing: list[str] = field(default_factory=list)
    """Stored as sent, yet the venue does not know them; left as they are, for a person."""
    failed: dict[str, str] = field(default_factory=dict)
    """Client id -> why it could not be reconciled this time (a later run tries again)."""
    stored_positions: list[Position] = field(default_factory=list)
    venue_positions: list[Position] = field(default_factory=list)
    position_diffs: list[PositionDiff] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing had to be done and nothing disagrees."""
        return not (
            self.resent
            or self.rejected
            or self.updated
            or self.adopted
            or self.cancelled
            or self.missing
            or self.failed
            or self.position_diffs
        )


class OrderManager:
    """Stores, sends, tracks and reconciles the orders of one bot on one account.

    It is also an :class:`~tbhost.orders.journal.OrderJournal`, so a
    :class:`~tbhost.engine.runner.BotRunner` can record through it while sending itself.
    """

    def __init__(
        self,
        db: Database,
        exchange: Exchange,
        account_id: str,
        bot_id: str,
        prefix: str | re.Pattern[str],
        *,
        adopt_pattern: re.Pattern[str] | str | None = None,
        buffered: bool = False,
        writer: GroupCommit | None = None,
        before_store: Callable[[], None] | None = None,
    ) -> None:
        if not prefix or (isinstance(prefix, re.Pattern) and not prefix.pattern):
            raise ValueError("an order manager needs a non-empty client id prefix")
        self.db, self.exchange = db, exchange
        self.account_id, self.bot_id, self.prefix = account_id, bot_id, prefix
        self.adopt_pattern = (
            re.compile(adopt_pattern) if isinstance(adopt_pattern, str) else adopt_pattern
        )
        self.buffered = buffered
        """As a journal, keep what happened after a send (answers, updates, fills, positions)
        until :meth:`flush`, which writes it in one transaction. Intents are still committed
        before they are sent. The caller flushes before it checkpoints the bot, so a crash
        loses only records that the restarted bot makes again (the venue replays them)."""
        self.writer = writer
        """As a journal, commit intents (:meth:`before_submit`) and records (as
        :mod:`.records`, flushed with the checkpoint) through this group writer, together
        with the other bots' (each call still returns only once its own write is
        committed)."""
        self._records: list[Record] = []
        self.before_store = before_store
        """Called before an intent is stored, e.g. to have the venue log every candle it
        matched first (:meth:`~tbhost.live.durable_venue.DurableVenue.sync`): a restart's
        reconciliation then sends a stored intent to the venue as the bot left it, not to a
        venue behind it."""

    def owns(self, client_order_id: str) -> bool:
        """Whether the id carries this bot's prefix (a string it starts with, or a pattern
        matching its start)."""
        if isinstance(self.prefix, str):
            return client_order_id.startswith(self.prefix)
        return self.prefix.match(client_order_id) is not None

    # -- sending ------------------------------------------------------------------------------
    async def submit(self, intent: OrderIntent) -> Order:
        """Store ``intent``, send it, store the answer; return the order as stored.

        Status ``new`` in the result means the outcome is unknown (a retryable error): the order
        is not sent again here; :meth:`reconcile` resolves it. An intent already stored is not
        sent again either: its stored state is returned.
        """
        order, created = await self._store_intent(intent)
        if not created:
            log.warning(
                "order %s is already stored (%s); not sent again",
                intent.client_order_id,
                order.status,
            )
            return order
        return await self._send(order)

    async def _store_intent(self, intent: OrderIntent) -> tuple[Order, bool]:
        async with self.db.transaction() as s:
            row = await repo.get_order(s, self.account_id, intent.client_order_id)
            if row is not None:
                return repo.to_order(row), False
            row = await repo.add_order(
                s, account_id=self.account_id, intent=intent, bot_id=self.bot_id
            )
            return repo.to_order(row), True

    async def _send(self, order: Order) -> Order:
        intent = order.intent
        via = "create"
        try:
            try:
                answer = await self.exchange.create_order(intent)
            except TbError as exc:
                if exc.retryable or _reject_reason(exc) is not RejectReason.DUPLICATE_CLIENT_ID:
                    raise
                # The venue has it already (an earlier send whose answer was lost).
                via = "duplicate"
                answer = await self.exchange.fetch_order(intent.symbol, intent.client_order_id)
        except TbError as exc:
            if exc.retryable:
                log.warning(
                    "sending %s failed (%s); outcome unknown until reconciled",
                    intent.client_order_id,
                    exc,
                )
                return order
            rejected = order.transition(_S.REJECTED, at=now_ms(), reason=exc.message)
            return await self.record(rejected, via="refused")
        return await self.record(answer, via=via)

    async def cancel(self, symbol: str, client_order_id: str) -> Order:
        """Cancel an order by client id and store the outcome.

        An order the venue does not know and that is stored as ``new`` was never received: it
        is stored as cancelled, so a later reconciliation does not send it.
        """
        try:
            answer = await self.exchange.cancel_order(symbol, client_order_id)
        except OrderNotFound:
            try:
                answer = await self.exchange.fetch_order(symbol, client_order_id)
            except OrderNotFound:
                stored = await self.get(client_order_id)
                if stored is None or stored.status is not _S.NEW:
                    raise
                dropped = stored.transition(
                    _S.CANCELED, at=now_ms(), reason="canceled before the venue received it"
                )
                return await self.record(dropped, via="cancel")
        return await self.record(answer, via="cancel")

    # -- recording ----------------------------------------------------------------------------
    async def get(self, client_order_id: str) -> Order | None:
        async with self.db.transaction() as s:
            row = await repo.get_order(s, self.account_id, client_order_id)
            return None if row is None else repo.to_order(row)

    async def record(self, order: Order, *, via: str = "update") -> Order:
        """Store an answer or report about a stored order; return the order as now stored.

        A report behind what is stored (older status, smaller filled quantity) changes nothing.
        """
        async with self.db.transaction() as s:
            stored, _ = await self._advance(s, order, via)
            return stored

    async def record_fill(self, fill: Fill, order: Order) -> Order:
        """Store ``fill`` (once per trade id) and ``order``, the order's state after it."""
        async with self.db.transaction() as s:
            return await self._add_fill(s, fill, order)

    async def _add_fill(self, s: AsyncSession, fill: Fill, order: Order) -> Order:
        added = await repo.add_fill(s, self.account_id, fill)
        if added is None:
            log.debug("fill %s of %s already stored", fill.trade_id, fill.client_order_id)
        stored, _ = await self._advance(s, order, "fill")
        return stored

    async def _advance(self, s: AsyncSession, order: Order, via: str) -> tuple[Order, bool]:
        """Move the stored row towards ``order``; return the stored order and whether it moved."""
        row = await repo.require_order(s, self.account_id, order.client_order_id)
        current = repo.to_order(row)
        steps = steps_to(row.status, order.status, order.exchange_order_id is not None)
        if steps is None or order.filled_qty < row.filled_qty:
            log.debug(
                "order %s: report %s/%s is behind the stored %s/%s; ignored",
                order.client_order_id,
                order.status,
                order.filled_qty,
                row.status,
                row.filled_qty,
            )
            return current, False
        if (
            order.status == row.status
            and order.filled_qty == row.filled_qty
            and (order.exchange_order_id or row.exchange_order_id) == row.exchange_order_id
        ):
            return current, False
        payload: dict[str, Any] = {"via": via, "order": order.model_dump(mode="json")}
        for status in steps[:-1]:
            # Only ``submitted`` is ever an intermediate step: sent, nothing filled yet.
            step = current.model_copy(
                update={
                    "status": status,
                    "exchange_order_id": order.exchange_order_id,
                    "updated_at": order.updated_at,
                }
            )
            await repo.save_order(s, self.account_id, step, payload=payload)
        row = await repo.save_order(s, self.account_id, order, payload=payload)
        return repo.to_order(row), True

    # -- OrderJournal ---------------------------------------------------------------------------
    async def before_submit(self, intent: OrderIntent) -> None:
        if self.before_store is not None:
            self.before_store()
        if self.writer is not None:
            await self.writer.store_intent(self.account_id, self.bot_id, intent)
        else:
            await self._store_intent(intent)
        failpoint("orders.stored")

    async def _write(self, record: Record) -> None:
        if self.buffered:
            self._records.append(record)
            return
        await self._store_records([record])
        failpoint("orders.recorded")

    async def _store_records(self, records: list[Record]) -> None:
        if self.writer is not None:
            await self.writer.write_records(records)
            return
        async with self.db.transaction() as s:
            await write_records(s, records)

    async def flush(self, state: StateSnapshot | None = None) -> None:
        """Write the buffered records, then ``state`` (the bot's checkpoint), in one
        transaction (shared with other bots' through the group writer, if any)."""
        records = [*self._records, *([state] if state is not None else [])]
        if not records:
            return
        await self._store_records(records)
        del self._records[: len(records) - (state is not None)]
        failpoint("orders.recorded")

    async def after_submit(self, order: Order) -> None:
        await self._write(OrderReport(self.account_id, order, "create"))

    async def on_update(self, order: Order) -> None:
        if order.status is _S.REJECTED and order.exchange_order_id is None:
            # A refusal the runner made up from an exception: if the stored order is still
            # ``new`` it may be a duplicate_client_id refusal of an order the venue does have
            # (sent before a crash, not yet reconciled). Ask the venue before believing it.
            stored = await self.get(order.client_order_id)
            if stored is not None and stored.status is _S.NEW:
                try:
                    order = await self.exchange.fetch_order(
                        order.intent.symbol, order.client_order_id
                    )
                except OrderNotFound:
                    pass  # truly refused
                except TbError as exc:
                    log.warning(
                        "order %s: cannot check the refusal (%s); left for reconciliation",
                        order.client_order_id,
                        exc,
                    )
                    return
        await self._write(OrderReport(self.account_id, order, "update", self.bot_id))

    async def on_fill(self, fill: Fill, order: Order) -> None:
        await self._write(FillReport(self.account_id, fill, order, self.bot_id))

    async def on_position(self, position: Position) -> None:
        await self._write(PositionReport(self.bot_id, self.account_id, position))

    async def on_events(self, events: Iterable[Event]) -> None:
        """What the venue reported (a candle's events): each fill, order update and position
        to its record (buffered: stored with the next flush)."""
        for event in events:
            if isinstance(event, FillEvent):
                await self.on_fill(event.fill, event.order)
            elif isinstance(event, OrderUpdate):
                await self.on_update(event.order)
            elif isinstance(event, PositionChanged):
                await self.on_position(event.position)

    async def on_trades(self, trades: Iterable[Trade]) -> None:
        """Round trips the venue finished (stored with the next flush, once each: the caller
        hands each one over once)."""
        for trade in trades:
            await self._write(TradeReport(self.bot_id, self.account_id, trade))

    # -- reconciliation -----------------------------------------------------------------------
    async def reconcile(self, symbols: Iterable[str]) -> ReconcileReport:
        """Bring storage and the venue into agreement for this bot; see the module docstring."""
        wanted = list(dict.fromkeys(symbols))
        report = ReconcileReport()
        async with self.db.transaction() as s:
            rows = await repo.unfinished_orders(s, self.account_id, bot_id=self.bot_id)
            unfinished = [repo.to_order(r) for r in rows]
        for order in unfinished:
            await self._reconcile_stored(order, report)
        for symbol in wanted:
            try:
                venue_orders = await self.exchange.fetch_open_orders(symbol)
            except TbError as exc:
                report.failed[f"open-orders:{symbol}"] = str(exc)
                continue
            for venue_order in venue_orders:
                await self._reconcile_unknown(venue_order, report)
        await self._compare_positions(wanted, report)
        if not report.clean:
            log.info("bot %s reconciled: %s", self.bot_id, report)
        return report

    async def _reconcile_stored(self, order: Order, report: ReconcileReport) -> None:
        cid, symbol = order.client_order_id, order.intent.symbol
        try:
            venue = await self.exchange.fetch_order(symbol, cid)
        except OrderNotFound:
            if order.status is _S.NEW:
                # Stored, never received: the send the crash (or the timeout) cut off.
                sent = await self._send(order)
                if sent.status is _S.NEW:
                    report.failed[cid] = "resend failed with a retryable error"
                elif sent.status is _S.REJECTED:
                    report.rejected.append(cid)
                else:
                    report.resent.append(cid)
            else:
                log.error(
                    "order %s is stored as %s but the venue does not know it", cid, order.status
                )
                report.missing.append(cid)
            return
        except TbError as exc:
            report.failed[cid] = str(exc)
            return
        _, moved = await self._record_reconciled(venue, "reconcile")
        if moved:
            report.updated.append(cid)

    async def _record_reconciled(self, order: Order, via: str) -> tuple[Order, bool]:
        async with self.db.transaction() as s:
            return await self._advance(s, order, via)

    async def _reconcile_unknown(self, venue: Order, report: ReconcileReport) -> None:
        cid = venue.client_order_id
        if not self.owns(cid):
            return  # someone else's order
        async with self.db.transaction() as s:
            if await repo.get_order(s, self.account_id, cid) is not None:
                return
        adopt = self.adopt_pattern is not None and self.adopt_pattern.fullmatch(cid) is not None
        if not adopt:
            try:
                venue = await self.exchange.cancel_order(venue.intent.symbol, cid)
            except OrderNotFound:
                # Gone meanwhile (filled or cancelled): store what it ended as.
                venue = await self.exchange.fetch_order(venue.intent.symbol, cid)
            except TbError as exc:
                report.failed[cid] = f"stray order not cancelled: {exc}"
                return
        async with self.db.transaction() as s:
            await repo.add_order(
                s, account_id=self.account_id, intent=venue.intent, bot_id=self.bot_id
            )
            await self._advance(s, venue, "adopt" if adopt else "stray")
        (report.adopted if adopt else report.cancelled).append(cid)
        log.warning(
            "order %s on the venue was unknown to storage: %s",
            cid,
            "adopted" if adopt else "cancelled",
        )

    async def _compare_positions(self, symbols: list[str], report: ReconcileReport) -> None:
        try:
            venue = await self.exchange.fetch_positions(symbols)
        except TbError as exc:
            report.failed["positions"] = str(exc)
            return
        async with self.db.transaction() as s:
            rows = await portfolio.list_positions(s, bot_id=self.bot_id, account_id=self.account_id)
            stored = [portfolio.to_position(r) for r in rows if r.symbol in symbols]
        report.venue_positions = [p for p in venue if p.symbol in symbols and not p.is_flat]
        report.stored_positions = [p for p in stored if not p.is_flat]
        by_key: dict[tuple[str, PositionSide], list[Position | None]] = {}
        for p in report.stored_positions:
            by_key.setdefault((p.symbol, p.position_side), [None, None])[0] = p
        for p in report.venue_positions:
            by_key.setdefault((p.symbol, p.position_side), [None, None])[1] = p
        for (symbol, side), (mine, theirs) in by_key.items():
            if _signed(mine) != _signed(theirs):
                report.position_diffs.append(PositionDiff(symbol, side, mine, theirs))


def _reject_reason(exc: TbError) -> RejectReason | None:
    reason = getattr(exc, "reject_reason", None)
    if isinstance(reason, RejectReason):
        return reason
    return RejectReason.OTHER if isinstance(exc, InvalidOrder) else None
