"""The bot lifecycle the services enforce: which command may move a bot from which state.

=========  =============================  ==========
command    from                           to
=========  =============================  ==========
start      created, stopped               running
pause      running                        paused
resume     paused                         running
stop       running, paused, faulted       stopped
delete     created, stopped               (deleted)
=========  =============================  ==========

A stopped bot may be started again; it keeps its (account, symbol) claim until deleted.
``faulted`` is entered by the host when a strategy raises, never by a command here; the only
way out is ``stop``. The bot row holds the wanted state; the running host follows it.
"""

from __future__ import annotations

from ..storage.models import BotStatus
from .access import Action
from .errors import Conflict

__all__ = ["DELETABLE", "MOVES", "check_move"]

MOVES: dict[Action, tuple[frozenset[BotStatus], BotStatus]] = {
    Action.BOT_START: (frozenset({BotStatus.CREATED, BotStatus.STOPPED}), BotStatus.RUNNING),
    Action.BOT_PAUSE: (frozenset({BotStatus.RUNNING}), BotStatus.PAUSED),
    Action.BOT_RESUME: (frozenset({BotStatus.PAUSED}), BotStatus.RUNNING),
    Action.BOT_STOP: (
        frozenset({BotStatus.RUNNING, BotStatus.PAUSED, BotStatus.FAULTED}),
        BotStatus.STOPPED,
    ),
}
"""For each state-changing command: the states it may start from, and where it leads."""

DELETABLE = frozenset({BotStatus.CREATED, BotStatus.STOPPED})
"""A bot is deleted only when nothing runs: never started, or stopped."""


def _verb(action: Action) -> str:
    return action.value.removeprefix("bot.")


def check_move(action: Action, name: str, state: BotStatus) -> BotStatus:
    """The state ``action`` leads to from ``state``; :class:`Conflict` if it may not."""
    if action is Action.BOT_DELETE:
        allowed, target = DELETABLE, state
    else:
        allowed, target = MOVES[action]
    if state not in allowed:
        accepted = ", ".join(sorted(s.value for s in allowed))
        raise Conflict(
            f"cannot {_verb(action)} bot {name!r}: it is {state.value}; "
            f"{_verb(action)} works only from {accepted}"
        )
    return target
