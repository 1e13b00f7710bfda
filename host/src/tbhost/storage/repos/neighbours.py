"""Which symbols each bot's neighbours trade: the other bots on the same account.

A strategy that picks its own symbols (a rotation) must leave a symbol another bot on the
account trades, or the two bots' orders and positions would mix on one venue position. A bot
"trades" a symbol when it is running, paused or faulted (a faulted bot leaves its protective
orders in place) and the symbol is one of its configured symbols, or it has an unfinished
order or an open position there (a rotation's symbols are not in its configuration).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tbsdk.model import OrderStatus

from ..models import BotRow, BotStatus, OrderRow, PositionRow

__all__ = ["symbols_of_other_bots"]

_HOLDING = (BotStatus.RUNNING, BotStatus.PAUSED, BotStatus.FAULTED)
_UNFINISHED = [s for s in OrderStatus if not s.is_terminal]


async def symbols_of_other_bots(
    session: AsyncSession, bot_ids: list[str]
) -> dict[str, frozenset[str]]:
    """For each of ``bot_ids``, the symbols the other bots on its account trade."""
    if not bot_ids:
        return {}
    bots = (
        await session.execute(
            select(BotRow.id, BotRow.account_id, BotRow.symbols, BotRow.state).where(
                BotRow.deleted_at.is_(None)
            )
        )
    ).all()
    account_of = {bot_id: account for bot_id, account, _, _ in bots}
    wanted_accounts = {account_of[b] for b in bot_ids if b in account_of}
    holding = {bot_id for bot_id, account, _, state in bots if state in _HOLDING}
    trades: dict[str, set[str]] = defaultdict(set)
    for bot_id, account, symbols, _ in bots:
        if bot_id in holding and account in wanted_accounts:
            trades[bot_id].update(symbols)
    live_orders = select(OrderRow.bot_id, OrderRow.symbol).where(
        OrderRow.account_id.in_(wanted_accounts), OrderRow.status.in_(_UNFINISHED)
    )
    positions = select(PositionRow.bot_id, PositionRow.symbol).where(
        PositionRow.account_id.in_(wanted_accounts), PositionRow.size != 0
    )
    for stmt in (live_orders, positions):
        for owner, symbol in (await session.execute(stmt.distinct())).all():
            if owner is not None and owner in holding:
                trades[owner].add(symbol)
    # Per account, who trades each symbol: one pass, however many bots share the account.
    owners: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for trader, held in trades.items():
        for symbol in held:
            owners[account_of[trader]][symbol].add(trader)
    found: dict[str, frozenset[str]] = {}
    for bot_id in bot_ids:
        on_account = owners.get(account_of.get(bot_id, ""), {})
        found[bot_id] = frozenset(
            symbol for symbol, who in on_account.items() if len(who) > 1 or bot_id not in who
        )
    return found
