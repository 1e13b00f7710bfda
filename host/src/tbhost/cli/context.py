"""Settings and the plugin host, built once per invocation and only when a command needs them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..plugins import PluginHost
    from ..settings import Settings


def settings(ctx: click.Context) -> Settings:
    root = ctx.find_root()
    cached: Settings | None = root.meta.get("tbhost.settings")
    if cached is None:
        from pydantic import ValidationError

        from tbsdk.errors import TbError

        from ..settings import load_settings

        flags: dict[str, Any] = root.meta.get("tbhost.flags", {})
        try:
            cached = load_settings(**flags)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
                for err in exc.errors()
            )
            raise click.ClickException(f"invalid settings: {problems}") from None
        except TbError as exc:
            raise click.ClickException(exc.message) from None
        logging.basicConfig(
            level=cached.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        root.meta["tbhost.settings"] = cached
    return cached


def plugin_host(ctx: click.Context) -> PluginHost:
    root = ctx.find_root()
    cached: PluginHost | None = root.meta.get("tbhost.plugin_host")
    if cached is None:
        from ..plugins import PluginHost

        conf = settings(ctx)
        cached = PluginHost.discover(
            conf.plugins_allow,
            conf.plugins_block,
            failure_limit=conf.hook_failure_limit,
            check_timeout_s=conf.check_order_timeout_s,
        )
        root.meta["tbhost.plugin_host"] = cached
    return cached
