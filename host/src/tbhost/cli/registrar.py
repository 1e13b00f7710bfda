"""Commands contributed by plugins through ``tb_register_cli``."""

from __future__ import annotations

import logging
from typing import Any

import click

log = logging.getLogger(__name__)


class ClickRegistrar:
    """Records which plugin added which command and refuses clashes."""

    def __init__(self, reserved: frozenset[str]) -> None:
        self.reserved = reserved
        self.commands: dict[str, click.Command] = {}
        self.owners: dict[str, str] = {}
        self.current_plugin = "?"

    def add_command(self, command: Any) -> None:
        if not isinstance(command, click.Command) or not command.name:
            raise TypeError(f"add_command needs a named click.Command, got {command!r}")
        name = command.name
        if name in self.reserved or name in self.commands:
            owner = self.owners.get(name, "tbhost")
            raise ValueError(f"command {name!r} already exists (added by {owner})")
        self.commands[name] = command
        self.owners[name] = self.current_plugin

    def discard(self, plugin: str) -> None:
        for name in [n for n, owner in self.owners.items() if owner == plugin]:
            del self.commands[name], self.owners[name]


def plugin_commands(ctx: click.Context) -> dict[str, click.Command]:
    """Load plugins (once per invocation) and collect their commands."""
    root = ctx.find_root()
    cached: dict[str, click.Command] | None = root.meta.get("tbhost.plugin_commands")
    if cached is None:
        from .context import plugin_host

        reserved = frozenset(getattr(root.command, "lazy", {}))
        registrar = ClickRegistrar(reserved)
        plugin_host(ctx).register_cli(registrar)
        cached = registrar.commands
        root.meta["tbhost.plugin_commands"] = cached
    return cached
