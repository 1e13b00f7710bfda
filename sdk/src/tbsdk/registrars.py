"""Narrow registration objects the host passes to ``tb_register_*`` hooks.

A plugin contributes to the CLI, the GraphQL API, the Telegram bot or the indicator set by calling
``add_*`` on the registrar it receives, never by returning values. The host validates every
addition, records which plugin made it, and refuses name clashes with a clear error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

__all__ = ["CliRegistrar", "GraphQLRegistrar", "IndicatorRegistrar", "TelegramRegistrar"]


class CliRegistrar(Protocol):
    """Adds sub-commands to ``tbhost``."""

    def add_command(self, command: Any) -> None:
        """Add a ``click.Command`` (or group) under its own name. Clashes are refused."""


class GraphQLRegistrar(Protocol):
    """Adds to the GraphQL schema (strawberry types and resolvers)."""

    def add_type(self, type_: type) -> None:
        """Add a ``strawberry.type`` class so fields can return it."""

    def add_query(self, name: str, resolver: Callable[..., Any], description: str = "") -> None:
        """Add a top-level query field ``name`` resolved by ``resolver``."""

    def add_mutation(self, name: str, resolver: Callable[..., Any], description: str = "") -> None:
        """Add a top-level mutation ``name``; the resolver receives the caller's user."""


class TelegramRegistrar(Protocol):
    """Adds Telegram bot commands (usable only from chats linked to a user)."""

    def add_command(
        self, name: str, handler: Callable[[str, list[str]], Awaitable[str]], description: str
    ) -> None:
        """``/name args...``: ``handler(user_id, args)`` returns the reply text."""


class IndicatorRegistrar(Protocol):
    """Adds indicators that strategies reach through their context."""

    def add_indicator(
        self, name: str, vectorised: Callable[..., Any], streaming: type, description: str = ""
    ) -> None:
        """``vectorised(array, **params)`` and ``streaming(**params).update(x)`` must agree."""
