"""Repositories: async functions over an ``AsyncSession``, one module per aggregate.

The caller owns the transaction (``async with db.transaction() as session: ...``), so a
service can store an order, its audit entry and a notification atomically. Functions return
ORM rows (for ids and cursors) and offer ``to_*`` converters to the SDK's domain values.
"""

from __future__ import annotations

from . import accounts, audit, bots, notifications, orders, portfolio, states, tokens, users

__all__ = [
    "accounts",
    "audit",
    "bots",
    "notifications",
    "orders",
    "portfolio",
    "states",
    "tokens",
    "users",
]
