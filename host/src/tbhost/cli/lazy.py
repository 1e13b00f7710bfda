"""A click group whose sub-commands are imported only when used, so ``--help`` stays fast."""

from __future__ import annotations

import importlib
from typing import Any

import click


class LazyGroup(click.Group):
    """``lazy`` maps a command name to ``("module:attr", "one-line help")``.

    Commands added by plugins (``tb_register_cli``) are looked up only when a name is not a
    built-in, because loading plugins imports their dependencies.
    """

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attr = self.lazy[cmd_name][0].split(":")
            command: click.Command = getattr(importlib.import_module(module_name), attr)
            return command
        found = super().get_command(ctx, cmd_name)
        if found is None:
            from .registrar import plugin_commands

            found = plugin_commands(ctx).get(cmd_name)
        return found

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Show the stored one-line help without importing each command's module.
        rows = [(name, self.lazy[name][1]) for name in sorted(self.lazy)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
