"""Hook specifications: how ``tbhost.plugins`` modules react to host events and extend it.

Implement a hook by decorating a function named like the spec with :data:`hookimpl` in a module
registered under the ``tbhost.plugins`` entry-point group. Declare ``TB_API_VERSION = "1.0"`` in
that module. An implementation may take any subset of the spec's parameters, so hooks gain
parameters in later SDK versions without breaking old plugins. Implementations may be plain or
``async`` functions.

Failure rules, enforced by the host:

* **Observer hooks** (lifecycle and events): an exception is logged; after repeated consecutive
  failures the plugin is quarantined (unregistered, shown as such by ``tbhost plugins``).
* **Registration hooks**: an exception or a refused addition marks the plugin failed for that
  surface; the rest of the host starts normally.
* **tb_check_order**: an exception or a time-out counts as a veto. Money is at stake, so the
  check fails closed.
"""

from __future__ import annotations

from typing import Any

import pluggy

from .info import BotInfo, HostInfo
from .model import Fill, Instrument, Order, OrderIntent, Position
from .registrars import CliRegistrar, GraphQLRegistrar, IndicatorRegistrar, TelegramRegistrar

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "tbhost"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Decorator for hook implementations: ``@hookimpl`` above a function named ``tb_...``."""


# -- lifecycle -------------------------------------------------------------------------------
@hookspec
def tb_startup(host: HostInfo) -> None:
    """The host has loaded its plugins and storage and is about to start bots.

    Returns nothing. A failure is logged (observer rule).

    .. versionadded:: 1.0
    """


@hookspec
def tb_shutdown(host: HostInfo) -> None:
    """The host is stopping, after every bot has stopped and saved its state.

    Returns nothing. A failure is logged (observer rule).

    .. versionadded:: 1.0
    """


@hookspec
def tb_bot_started(bot: BotInfo) -> None:
    """A bot has started (or resumed after a restart) and will now receive market data.

    Returns nothing. A failure is logged (observer rule).

    .. versionadded:: 1.0
    """


@hookspec
def tb_bot_stopped(bot: BotInfo, reason: str) -> None:
    """A bot has stopped; ``reason`` is a :class:`tbsdk.model.StopReason` value.

    Returns nothing. A failure is logged (observer rule).

    .. versionadded:: 1.0
    """


# -- registration ----------------------------------------------------------------------------
@hookspec
def tb_register_cli(registrar: CliRegistrar) -> None:
    """Add ``tbhost`` sub-commands with ``registrar.add_command``. Fires once per CLI start.

    A failure marks the plugin failed for the CLI; other commands still work.

    .. versionadded:: 1.0
    """


@hookspec
def tb_register_graphql(registrar: GraphQLRegistrar) -> None:
    """Add GraphQL types, queries and mutations. Fires once when the API schema is built.

    A failure or a name clash leaves the plugin's additions out of the schema.

    .. versionadded:: 1.0
    """


@hookspec
def tb_register_telegram(registrar: TelegramRegistrar) -> None:
    """Add Telegram bot commands. Fires once when the Telegram bot starts.

    A failure leaves the plugin's commands out; the bot still starts.

    .. versionadded:: 1.0
    """


@hookspec
def tb_register_indicators(registrar: IndicatorRegistrar) -> None:
    """Add indicators strategies can reach through their context. Fires once at start.

    A failure leaves the plugin's indicators out.

    .. versionadded:: 1.0
    """


# -- pre-trade -------------------------------------------------------------------------------
@hookspec
def tb_check_order(bot: BotInfo, intent: OrderIntent, instrument: Instrument) -> str | None:
    """Fires before every order intent is sent, after the host's own risk checks.

    Return ``None`` to allow, or a non-empty reason to veto; every implementation is asked and
    any veto refuses the order (the strategy receives a rejection with reason ``vetoed``).
    An exception or exceeding the host's time limit counts as a veto: fail closed.

    .. versionadded:: 1.0
    """


# -- events ----------------------------------------------------------------------------------
@hookspec
def tb_order_updated(bot: BotInfo, order: Order) -> None:
    """An order changed status (submitted, open, partially filled, filled, canceled, ...).

    Returns nothing. A failure is logged (observer rule).

    .. versionadded:: 1.0
    """


@hookspec
def tb_fill(bot: BotInfo, fill: Fill, order: Order) -> None:
    """An order was (partially) filled; ``order`` is its state after the fill.

    Returns nothing. A failure is logged (observer rule).

    .. versionadded:: 1.0
    """


@hookspec
def tb_position_changed(bot: BotInfo, position: Position) -> None:
    """A bot's position changed size, side or entry price.

    Returns nothing. A failure is logged (observer rule).

    .. versionadded:: 1.0
    """


@hookspec
def tb_signal(bot: BotInfo, name: str, data: dict[str, Any]) -> None:
    """A strategy published a signal with ``ctx.signal(name, **data)``.

    Returns nothing. A failure is logged (observer rule).

    .. versionadded:: 1.0
    """
